"""Sign-in, the role-based landing page, the staff console's organization pages and the
customer portal's home."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts import actions, checks, ratelimit, selectors
from retainer.accounts.access import (
    access_api_token,
    access_staff_member,
    access_team,
    customer_contact,
    is_vendor_staff,
    request_user,
)
from retainer.accounts.demo import demo_logins
from retainer.accounts.filters import OrganizationFilter
from retainer.accounts.forms import (
    ApiTokenForm,
    LoginForm,
    MagicLinkForm,
    NewStaffMemberForm,
    PreferencesForm,
    ServiceTokenForm,
    StaffActiveForm,
    StaffMemberForm,
    TeamForm,
)
from retainer.accounts.throttling import client_address
from retainer.lib.errors import DomainError, InvalidInput, NotPermitted, add_to_form, report
from retainer.lib.htmx import is_htmx

LOCKED_MESSAGE = (
    "Too many failed sign-ins for this account or from your network. For your security, "
    "password sign-in is paused: try again in {minutes} minutes (each new attempt restarts "
    "the wait), or ask your administrator."
)


class LoginView(auth_views.LoginView):
    """Password sign-in. After too many failures (``accounts/throttling.py``) the form
    comes back with status 429 and says so, and the password is not checked."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = demo_logins() if settings.MODE == "demo" else []
        return context

    def form_invalid(self, form: Any) -> HttpResponse:
        if getattr(self.request, "axes_locked_out", False):
            return locked_login_page(self.request)
        return super().form_invalid(form)


def locked_login_page(request: HttpRequest) -> HttpResponse:
    """The sign-in form (the address kept, no password check's error) with the lockout
    message, status 429 and ``Retry-After``."""
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    cool_off = settings.AXES_COOLOFF_TIME
    message = LOCKED_MESSAGE.format(minutes=int(cool_off.total_seconds() // 60))
    context = {
        "form": form,
        "locked_message": message,
        "next": request.POST.get("next", ""),
        "demo_logins": demo_logins() if settings.MODE == "demo" else [],
    }
    response = render(request, "accounts/login.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the answer to a sign-in the throttle refused, whichever
    door it came through (the sign-in page has answered already; the admin's gets ours)."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    return locked_login_page(request)


def staff_required(view: Any) -> Any:
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_vendor_staff(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def contact_required(view: Any) -> Any:
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        contact = customer_contact(request.user)
        if contact is None:
            raise Http404
        request.contact = contact  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts its day on: managers (and admins) to the team
    overview, billing to the invoices, agents to their queue, contacts to the portal."""
    user = request.user
    if is_vendor_staff(user):
        if user.has_perm("accounts.change_team"):
            return redirect("console:team_overview")
        if user.has_perm("billing.change_invoice") and not user.has_perm("cases.change_case"):
            return redirect("billing:invoice_list")
        return redirect("console:case_queue")
    if customer_contact(request.user) is not None:
        return redirect("accounts:portal_home")
    return render(request, "accounts/no_access.html", status=403)


@require_safe
@staff_required
def console_home(request: HttpRequest) -> HttpResponse:
    """The staff console's organization list with search and filters."""
    filterset = OrganizationFilter(request.GET, queryset=selectors.organizations_for_console())
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    template = (
        "accounts/partials/organization_rows.html"
        if is_htmx(request)
        else "accounts/console_home.html"
    )
    return render(request, template, {"filter": filterset, "page": page})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's own preferences: keyboard shortcuts on or off, and
    the key of each."""
    user = request_user(request)
    form = PreferencesForm.for_user(user, request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return render(request, "accounts/preferences.html", {"form": form})
    if form.is_valid():
        try:
            checks.check_set_preferences(user, **form.values())
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Preferences saved.")
            return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form}, status=400)


@require_safe
@contact_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """The customer's own organization: who can open cases on its behalf."""
    contact = request.contact  # type: ignore[attr-defined]
    organization = contact.organization
    return render(
        request,
        "accounts/portal_home.html",
        {
            "contact": contact,
            "organization": organization,
            "contacts": selectors.contacts_for_organization(
                organization=organization, active_only=True
            ),
        },
    )


@require_POST
def magic_link_request(request: HttpRequest) -> HttpResponse:
    """E-mail a sign-in link. The answer is the same whether or not the address has an
    account; more than a few requests per address and hour get 429 with Retry-After."""
    form = MagicLinkForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/magic_link_sent.html", {"form": form}, status=400)
    # Per client address too, whatever addresses it asks for (the action limits each
    # e-mail address): counted like the API's budgets, shared by every worker.
    limit = settings.RETAINER_SIGN_IN_LINKS_PER_MINUTE
    address = client_address(request) or "unknown"
    wait = ratelimit.spend(f"sign-in-link:{address}", limit) if limit else None
    if wait is not None:
        response = render(request, "accounts/magic_link_sent.html", {"limited": True}, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        actions.do_send_magic_link(
            email=form.cleaned_data["email"],
            link_for=lambda token: request.build_absolute_uri(
                reverse("accounts:magic_link", args=[token])
            ),
        )
    except actions.MagicLinkRateLimited as exc:
        response = render(request, "accounts/magic_link_sent.html", {"limited": True}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "accounts/magic_link_sent.html", {"sent": True})


@require_http_methods(["GET", "HEAD", "POST"])
def magic_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button and changes nothing (mail scanners follow links); POST
    uses the link once and signs the contact in."""
    try:
        if request.method != "POST":
            actions.magic_link_user(token)
            return render(request, "accounts/magic_link_confirm.html")
        user = actions.do_use_magic_link(token)
    except InvalidInput as exc:
        report(request, exc)
        context = {"refused": True, "form": MagicLinkForm()}
        return render(request, "accounts/magic_link_confirm.html", context, status=exc.status)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("accounts:home")


# --- API tokens ------------------------------------------------------------------------------


def _issue_token(
    request: HttpRequest, form: ApiTokenForm, check: Any
) -> tuple[actions.IssuedToken | None, int]:
    """Create a token from a bound form with ``check``: the token (None when refused) and
    the page's status."""
    if not form.is_valid():
        return None, 400
    try:
        issued = check(request_user(request), **form.values())
    except (DomainError, ValidationError) as exc:
        add_to_form(form, exc)
        return None, 400
    return issued, 201


def _token_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int
) -> HttpResponse:
    response = render(request, template, {**context, "now": timezone.now()}, status=status)
    if context.get("issued") is not None:
        # The secret is on this page only: no cache may keep a copy.
        response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own API tokens (staff and contacts): create one, whose secret
    is shown in this answer only, list and revoke them."""
    user = request_user(request)
    if not checks.may_own_api_token(user):
        raise Http404
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    issued, status = None, 200
    if request.method == "POST":
        issued, status = _issue_token(request, form, checks.check_create_api_token)
        if issued is not None:
            form = ApiTokenForm()
    context = {"form": form, "issued": issued, "tokens": selectors.api_tokens_for_user(user=user)}
    return _token_page(request, "accounts/token_list.html", context, status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def token_admin(request: HttpRequest) -> HttpResponse:
    """Every API token with its last use, for holders of
    ``accounts.manage_service_tokens``: create service tokens, revoke any token."""
    user = request_user(request)
    if not checks.may_manage_service_tokens(user):
        raise PermissionDenied
    form = ServiceTokenForm(request.POST if request.method == "POST" else None)
    issued, status = None, 200
    if request.method == "POST":
        issued, status = _issue_token(request, form, checks.check_create_service_token)
        if issued is not None:
            form = ServiceTokenForm()
    page = Paginator(selectors.api_tokens_for_admin(), 50).get_page(request.GET.get("page"))
    context = {"form": form, "issued": issued, "page": page}
    return _token_page(request, "accounts/token_admin.html", context, status)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a token: the owner theirs, an admin any. Back to the page it was listed on."""
    user = request_user(request)
    token = access_api_token(user, pk)
    try:
        checks.check_revoke_api_token(user, token)
    except DomainError as exc:
        report(request, exc)
    else:
        messages.success(request, f"The token “{token.name}” is revoked.")
    if token.user_id != user.pk and checks.may_manage_service_tokens(user):
        return redirect("accounts:token_admin")
    return redirect("accounts:token_list")


# --- People: staff members and teams ------------------------------------------------------


def _require(authorize: Any, *args: Any) -> None:
    """A refusal of the check's authorization as the 403 page."""
    try:
        authorize(*args)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _form_status(form: Any) -> int:
    return 400 if form.is_bound and form.errors else 200


def _saved(form: Any, check: Any, *args: Any, **values: Any) -> bool:
    """Run ``check`` with the bound, valid form's values; a refusal lands on the form."""
    if not form.is_valid():
        return False
    try:
        check(*args, **values)
    except (DomainError, ValidationError) as exc:
        add_to_form(form, exc)
        return False
    return True


@require_safe
@staff_required
def people(request: HttpRequest) -> HttpResponse:
    """The vendor's staff members (for ``accounts.change_user``) and teams (for
    ``accounts.change_team``)."""
    user = request_user(request)
    _require(checks.authorize_view_people, user)
    context = {
        "staff": selectors.staff_for_people_page() if checks.may_manage_staff(user) else None,
        "teams": selectors.teams_for_people_page() if checks.may_manage_teams(user) else None,
    }
    return render(request, "accounts/people.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def staff_new(request: HttpRequest) -> HttpResponse:
    """Add a staff member with their roles and a first password."""
    user = request_user(request)
    _require(checks.authorize_create_staff_user, user)
    form = NewStaffMemberForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        values = form.values() if form.is_valid() else {}
        if _saved(form, checks.check_create_staff_user, user, **values):
            messages.success(request, f"{form.cleaned_data['full_name']} can now sign in.")
            return redirect("accounts:people")
    context = {"form": form, "member": None}
    return render(request, "accounts/staff_form.html", context, status=_form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a staff member's name and roles, all or nothing."""
    user = request_user(request)
    member = access_staff_member(user, pk)
    _require(checks.authorize_change_staff_user, user)
    data = request.POST if request.method == "POST" else None
    form = StaffMemberForm(data, initial=StaffMemberForm.initial_for(member))
    title = member.full_name
    if request.method == "POST":
        values = form.cleaned_data if form.is_valid() else {}
        if _saved(form, checks.check_change_staff_member, user, member, **values):
            messages.success(request, f"{member.full_name} saved.")
            return redirect("accounts:people")
    context = {"form": form, "member": member, "title": title}
    return render(request, "accounts/staff_form.html", context, status=_form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def staff_active(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm the deactivation (or reactivation); POST does it. Nobody
    deactivates themself."""
    user = request_user(request)
    member = access_staff_member(user, pk)
    _require(checks.authorize_change_staff_user, user)
    form = StaffActiveForm(
        request.POST if request.method == "POST" else None,
        initial={"active": "0" if member.is_active else "1"},
    )
    if request.method == "POST":
        active = form.cleaned_data["active"] if form.is_valid() else None
        if _saved(form, checks.check_set_user_active, user, member, active):
            done = "reactivated" if active else "deactivated"
            messages.success(request, f"{member.full_name} is {done}.")
            return redirect("accounts:people")
    context = {"form": form, "member": member, "is_self": member.pk == user.pk}
    return render(request, "accounts/staff_active.html", context, status=_form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def team_new(request: HttpRequest) -> HttpResponse:
    """Form a team: name, description, members and lead."""
    return _team_form(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a team's name, description, members and lead."""
    return _team_form(request, access_team(request_user(request), pk))


def _team_form(request: HttpRequest, team: Any) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_save_team, user, team)
    form = TeamForm(request.POST if request.method == "POST" else None, team=team)
    title = team.name if team is not None else None
    if request.method == "POST":
        values = form.values() if form.is_valid() else {}
        if _saved(form, checks.check_save_team, user, team, **values):
            messages.success(request, f"Team {form.cleaned_data['name']} saved.")
            return redirect("accounts:people")
    context = {"form": form, "team": team, "title": title}
    return render(request, "accounts/team_form.html", context, status=_form_status(form))
