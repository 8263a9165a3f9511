"""Sales and customer success in the console: leads (list, new, page, convert), the
opportunity list and board (move, win, lose), interactions on every timeline, and the
customer-success page of an organization (the handoff: what sales knew, the contract,
the success owner and team, onboarding progress).

Mutations are POSTs that redirect back with a message; a refusal is reported as a
message (403/404 refusals raise), and a form page re-renders with its errors (400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import access_organization, request_user
from retainer.accounts.views import contact_required, staff_required
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report
from retainer.lib.htmx import is_htmx
from retainer.success import checks, selectors
from retainer.success.access import (
    access_lead,
    access_license,
    access_onboarding_step,
    access_opportunity,
    interactions_visible_to,
    leads_visible_to,
    licenses_visible_to,
    opportunities_visible_to,
)
from retainer.success.choices import OpportunityStatus
from retainer.success.filters import LeadFilter, OpportunityFilter
from retainer.success.forms import (
    ConvertForm,
    InteractionForm,
    LeadForm,
    LicenseForm,
    LoseForm,
    MoveForm,
    OpportunityChangeForm,
    OpportunityForm,
    ReportUsageForm,
    StepDoneForm,
    WinForm,
)

Refusal = DomainError | ValidationError


def _require(authorize: Callable[[Any], None], user: Any) -> None:
    """Run an ``authorize_*`` rule of ``checks``: a refusal is the 403 page."""
    try:
        authorize(user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _valid(form: Any) -> dict[str, Any]:
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return dict(form.cleaned_data)


def _done(request: HttpRequest, to: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(to)


def _refused(request: HttpRequest, to: str, exc: Refusal) -> HttpResponse:
    report(request, exc)
    return redirect(to)


# --- Leads ---------------------------------------------------------------------------------


@require_safe
@staff_required
def lead_list(request: HttpRequest) -> HttpResponse:
    leads = selectors.leads_for_list(leads=leads_visible_to(request_user(request)))
    filterset = LeadFilter(request.GET, queryset=leads)
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    return render(request, "success/lead_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def lead_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_create_lead, user)
    form = LeadForm(request.POST or None)
    if request.method == "POST":
        try:
            lead = checks.check_create_lead(user, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            return _done(request, reverse("success:lead_detail", args=[lead.pk]), "Lead saved.")
    status = 400 if form.errors else 200
    return render(request, "success/lead_form.html", {"form": form}, status=status)


@require_safe
@staff_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    lead = access_lead(user, pk)
    timeline = interactions_visible_to(user).filter(lead=lead)
    context = {
        "lead": lead,
        "opportunities": lead.opportunities.select_related("stage"),
        "interactions": selectors.interactions_for(interactions=timeline),
        "convert_form": ConvertForm(),
        "interaction_form": InteractionForm(),
    }
    return render(request, "success/lead_detail.html", context)


@require_POST
@staff_required
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    lead = access_lead(user, pk)
    back = reverse("success:lead_detail", args=[pk])
    try:
        checks.authorize_convert_lead(user)
        values = _valid(ConvertForm(request.POST))
        organization, _contact, opportunity = checks.check_convert_lead(user, lead, **values)
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    to = (
        reverse("success:opportunity_detail", args=[opportunity.pk])
        if opportunity
        else reverse("success:organization_success", args=[organization.pk])
    )
    return _done(request, to, f"Converted: {organization.name} and its contact are set up.")


# --- Opportunities ---------------------------------------------------------------------------


@require_safe
@staff_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    opportunities = selectors.opportunities_for_list(
        opportunities=opportunities_visible_to(request_user(request))
    )
    filterset = OpportunityFilter(request.GET, queryset=opportunities)
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    return render(request, "success/opportunity_list.html", context)


@require_safe
@staff_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    opportunities = opportunities_visible_to(request_user(request))
    columns = selectors.pipeline_board(opportunities=opportunities)
    context = {"columns": columns, "stages": selectors.open_stages()}
    template = "success/partials/board.html" if is_htmx(request) else "success/board.html"
    return render(request, template, context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def opportunity_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_create_opportunity, user)
    initial = {"organization": request.GET.get("organization")}
    form = OpportunityForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            opp = checks.check_create_opportunity(user, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            to = reverse("success:opportunity_detail", args=[opp.pk])
            return _done(request, to, "Opportunity saved.")
    status = 400 if form.errors else 200
    return render(request, "success/opportunity_form.html", {"form": form}, status=status)


@require_safe
@staff_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    opportunity = access_opportunity(user, pk)
    timeline = interactions_visible_to(user).filter(opportunity=opportunity)
    context = {
        "opp": opportunity,
        "is_open": opportunity.status == OpportunityStatus.OPEN,
        "stages": selectors.open_stages(),
        "interactions": selectors.interactions_for(interactions=timeline),
        "events": opportunity.events.select_related("actor")[:50],
        "win_form": WinForm(),
        "lose_form": LoseForm(),
        "interaction_form": InteractionForm(),
    }
    return render(request, "success/opportunity_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    opportunity = access_opportunity(user, pk)
    _require(checks.authorize_change_opportunity, user)
    initial = OpportunityChangeForm.initial_for(opportunity)
    form = OpportunityChangeForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            checks.check_update_opportunity(user, opportunity, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            to = reverse("success:opportunity_detail", args=[pk])
            return _done(request, to, "Opportunity saved.")
    context = {"form": form, "opp": opportunity}
    status = 400 if form.errors else 200
    return render(request, "success/opportunity_form.html", context, status=status)


def _back_to(request: HttpRequest, pk: int) -> str:
    """The board when the request came from it, else the opportunity's page."""
    if request.POST.get("from") == "board":
        return reverse("success:opportunity_board")
    return reverse("success:opportunity_detail", args=[pk])


@require_POST
@staff_required
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    opportunity = access_opportunity(user, pk)
    back = _back_to(request, pk)
    try:
        checks.authorize_change_opportunity(user)
        moved = checks.check_move_opportunity(user, opportunity, **_valid(MoveForm(request.POST)))
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    return _done(request, back, f"{moved.name} moved to {moved.stage.name}.")


@require_POST
@staff_required
def opportunity_win(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    opportunity = access_opportunity(user, pk)
    try:
        checks.authorize_win_opportunity(user)
        won = checks.check_win_opportunity(user, opportunity, **_valid(WinForm(request.POST)))
    except (DomainError, ValidationError) as exc:
        return _refused(request, reverse("success:opportunity_detail", args=[pk]), exc)
    to = reverse("success:organization_success", args=[won.organization_id])
    return _done(request, to, f"Won: {won.name} is handed over to customer success.")


@require_POST
@staff_required
def opportunity_lose(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    opportunity = access_opportunity(user, pk)
    back = reverse("success:opportunity_detail", args=[pk])
    try:
        checks.authorize_change_opportunity(user)
        checks.check_lose_opportunity(user, opportunity, **_valid(LoseForm(request.POST)))
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    return _done(request, back, "Marked as lost.")


# --- Interactions ----------------------------------------------------------------------------


def _log(request: HttpRequest, back: str, form: InteractionForm, **about: Any) -> HttpResponse:
    user = request_user(request)
    try:
        checks.authorize_log_interaction(user)
        checks.check_log_interaction(user, **_valid(form), **about)
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    return _done(request, back, "Interaction logged.")


@require_POST
@staff_required
def lead_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    lead = access_lead(request_user(request), pk)
    back = reverse("success:lead_detail", args=[pk])
    return _log(request, back, InteractionForm(request.POST), lead=lead)


@require_POST
@staff_required
def opportunity_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = access_opportunity(request_user(request), pk)
    back = reverse("success:opportunity_detail", args=[pk])
    return _log(request, back, InteractionForm(request.POST), opportunity=opportunity)


@require_POST
@staff_required
def organization_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    organization = access_organization(request_user(request), pk)
    back = reverse("success:organization_success", args=[pk])
    form = InteractionForm(request.POST, organization=organization)
    return _log(request, back, form, organization=organization)


# --- Customer success ------------------------------------------------------------------------


@require_safe
@staff_required
def organization_success(request: HttpRequest, pk: int) -> HttpResponse:
    """The handoff: everything sales knew about the organization, for the service team."""
    user = request_user(request)
    _require(checks.authorize_view, user)
    organization = access_organization(user, pk)
    handoff = selectors.handoff_for_organization(organization=organization)
    context = {
        "handoff": handoff,
        "organization": organization,
        "plans": [(plan, *selectors.progress(plan)) for plan in handoff.plans],
        "interaction_form": InteractionForm(organization=organization),
    }
    return render(request, "success/organization_success.html", context)


@require_POST
@staff_required
def step_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    step = access_onboarding_step(user, pk)
    back = reverse("success:organization_success", args=[step.plan.organization_id])
    try:
        checks.authorize_change_onboarding(user)
        step = checks.check_set_step_done(user, step, **_valid(StepDoneForm(request.POST)))
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    return _done(request, back, f"{step.title}: {'done' if step.is_done else 'open again'}.")


# --- Licenses and adoption ------------------------------------------------------------------


def _licenses_page(
    request: HttpRequest,
    *,
    license_form: LicenseForm | None = None,
    usage_form: ReportUsageForm | None = None,
) -> HttpResponse:
    user = request_user(request)
    summary = selectors.license_adoption(
        licenses=licenses_visible_to(user), threshold=settings.RETAINER_ADOPTION_THRESHOLD
    )
    context = {
        "summary": summary,
        "threshold": settings.RETAINER_ADOPTION_THRESHOLD,
        "license_form": license_form or LicenseForm(),
        "usage_form": usage_form or ReportUsageForm(),
    }
    bad = (license_form and license_form.errors) or (usage_form and usage_form.errors)
    return render(request, "success/license_list.html", context, status=400 if bad else 200)


@require_safe
@staff_required
def license_list(request: HttpRequest) -> HttpResponse:
    """Every license with its latest adoption, the flagged organizations' first."""
    _require(checks.authorize_view_licenses, request_user(request))
    return _licenses_page(request)


@require_POST
@staff_required
def license_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_create_license, user)
    form = LicenseForm(request.POST)
    try:
        license = checks.check_create_license(user, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _licenses_page(request, license_form=form)
    return _done(request, reverse("success:license_list"), f"License saved: {license}.")


@require_POST
@staff_required
def license_report(request: HttpRequest) -> HttpResponse:
    """Report a month's usage of a license; a second report of a month replaces it."""
    user = request_user(request)
    _require(checks.authorize_report_usage, user)
    form = ReportUsageForm(request.POST)
    try:
        values = _valid(form)
        license = access_license(user, values.pop("license").pk)
        usage = checks.check_report_usage(user, license, **values)
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _licenses_page(request, usage_form=form)
    message = f"Usage of {license} for {usage.period:%Y-%m} recorded."
    return _done(request, reverse("success:license_list"), message)


@require_safe
@contact_required
def portal_license_list(request: HttpRequest) -> HttpResponse:
    """The customer's own licenses and their adoption."""
    user = request_user(request)
    summary = selectors.license_adoption(
        licenses=licenses_visible_to(user), threshold=settings.RETAINER_ADOPTION_THRESHOLD
    )
    contact = request.contact  # type: ignore[attr-defined]
    context = {"summary": summary, "organization": contact.organization}
    return render(request, "success/license_portal_list.html", context)
