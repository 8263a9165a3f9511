"""Sign-in, the role-based landing page, the staff console's organization pages and the
customer portal's home."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts import actions, selectors
from retainer.accounts.access import (
    customer_contact,
    is_vendor_staff,
)
from retainer.accounts.demo import demo_logins
from retainer.accounts.filters import OrganizationFilter
from retainer.accounts.forms import LoginForm, MagicLinkForm
from retainer.lib.errors import InvalidInput, report
from retainer.lib.htmx import is_htmx


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = demo_logins() if settings.MODE == "demo" else []
        return context


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
    """Send each role to its own home: staff to the console, contacts to the portal."""
    if is_vendor_staff(request.user):
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
