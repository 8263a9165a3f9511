"""Sales and customer success in the console: leads (list, new, page, convert), the
opportunity list and board (move, win, lose), interactions on every timeline, the
customer-success page of an organization (the handoff: what sales knew, the contract,
the success owner and team, onboarding progress), licenses, and success plans with the
health list; in the portal, the customer's licenses and success plan; and the public
page of the success-perception survey's signed link. Training (courses, sessions,
enrollments, and the portal's *Training* page) is ``views/proficiency.py``.

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
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import access_organization, request_user
from retainer.accounts.models import Organization
from retainer.accounts.views import contact_required, staff_required
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report
from retainer.lib.htmx import is_htmx
from retainer.success import actions, checks, selectors
from retainer.success.access import (
    access_goal,
    access_lead,
    access_license,
    access_milestone,
    access_onboarding_step,
    access_opportunity,
    interactions_visible_to,
    leads_visible_to,
    licenses_visible_to,
    opportunities_visible_to,
    perception_surveys_visible_to,
)
from retainer.success.choices import OpportunityStatus
from retainer.success.filters import LeadFilter, OpportunityFilter
from retainer.success.forms import (
    ConvertForm,
    GoalForm,
    InteractionForm,
    LeadForm,
    LicenseForm,
    LoseForm,
    MilestoneDoneForm,
    MilestoneForm,
    MoveForm,
    OpportunityChangeForm,
    OpportunityForm,
    PlanForm,
    ReportUsageForm,
    StepDoneForm,
    SurveyAnswerForm,
    SurveyForm,
    UsageUploadForm,
    WinForm,
)
from retainer.success.health import THRESHOLD as HEALTH_THRESHOLD
from retainer.success.models import PerceptionSurvey

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
    upload_form: UsageUploadForm | None = None,
    upload: Any = None,
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
        "upload_form": upload_form or UsageUploadForm(),
        "upload": upload,
    }
    bad = (
        (license_form and license_form.errors)
        or (usage_form and usage_form.errors)
        or (upload_form and upload_form.errors)
        or (upload and upload.rejected)
    )
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


@require_POST
@staff_required
def license_upload(request: HttpRequest) -> HttpResponse:
    """Usage from a CSV file: every row checked first; any rejected row writes nothing and
    the page lists each with its column and why (400)."""
    user = request_user(request)
    _require(checks.authorize_report_usage, user)
    form = UsageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _licenses_page(request, upload_form=form)
    upload = checks.check_upload_usage(user, form.cleaned_data["file"])
    if upload.rejected:
        return _licenses_page(request, upload_form=form, upload=upload)
    message = f"Usage recorded from the file: {upload.written} month(s) of license usage."
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


# --- Success plans, health and the perception survey -------------------------------------------


def _health(organizations: Any) -> list[Any]:
    return selectors.health_for_organizations(
        organizations=organizations, adoption_threshold=settings.RETAINER_ADOPTION_THRESHOLD
    )


@require_safe
@staff_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every active organization by health score, lowest first, flagged under the
    threshold; the overall perception of success."""
    _require(checks.authorize_view_plans, request_user(request))
    rows = _health(Organization.objects.filter(is_active=True).order_by("name"))
    surveys = perception_surveys_visible_to(request_user(request))
    context = {
        "rows": rows,
        "threshold": HEALTH_THRESHOLD,
        "perception": selectors.perception_for(surveys=surveys),
    }
    return render(request, "success/plan_list.html", context)


def _survey_links(request: HttpRequest, surveys: list[PerceptionSurvey]) -> list[tuple]:
    """Each survey with the link to hand its contact (``None`` once answered)."""
    return [
        (
            survey,
            None
            if survey.is_answered
            else request.build_absolute_uri(
                reverse("success:survey_answer", args=[actions.survey_token(survey)])
            ),
        )
        for survey in surveys
    ]


def _plan_page(
    request: HttpRequest, organization: Organization, status: int = 200, **forms: Any
) -> HttpResponse:
    user = request_user(request)
    plan = selectors.plan_of(organization)
    surveys = perception_surveys_visible_to(user).filter(organization=organization)
    ((_org, health),) = _health(Organization.objects.filter(pk=organization.pk))
    view = selectors.plan_view(plan=plan)
    owners: list[Any] | None = None  # read once for every goal's form
    for goal in view.goals:
        if forms.get("milestone_goal") == goal.goal.pk:
            goal.form = forms["milestone_form"]
            continue
        goal.form = MilestoneForm(auto_id=f"id_goal{goal.goal.pk}_%s")
        owner_field: Any = goal.form.fields["owner"]
        if owners is None:
            owners = list(owner_field.choices)
        owner_field.choices = owners
    context = {
        "organization": organization,
        "view": view,
        "health": health,
        "threshold": HEALTH_THRESHOLD,
        "perception": selectors.perception_for(surveys=surveys),
        "surveys": _survey_links(request, list(surveys.select_related("contact")[:20])),
        "plan_form": forms.get("plan_form") or PlanForm(initial=PlanForm.initial_for(plan)),
        "goal_form": forms.get("goal_form") or GoalForm(),
        "survey_form": forms.get("survey_form") or SurveyForm(organization=organization),
        "today": timezone.localdate(),
    }
    return render(request, "success/plan_detail.html", context, status=status)


@require_safe
@staff_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An organization's success plan, its health explained line by line and the
    perception surveys."""
    user = request_user(request)
    _require(checks.authorize_view_plans, user)
    return _plan_page(request, access_organization(user, pk))


def _plan_url(organization_id: int) -> str:
    return reverse("success:plan_detail", args=[organization_id])


@require_POST
@staff_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    organization = access_organization(user, pk)
    _require(checks.authorize_change_plan, user)
    form = PlanForm(request.POST)
    try:
        checks.check_update_plan(user, organization, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _plan_page(request, organization, 400, plan_form=form)
    return _done(request, _plan_url(pk), "Success plan saved.")


@require_POST
@staff_required
def goal_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    organization = access_organization(user, pk)
    _require(checks.authorize_add_goal, user)
    form = GoalForm(request.POST)
    try:
        goal = checks.check_add_goal(user, organization, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _plan_page(request, organization, 400, goal_form=form)
    return _done(request, _plan_url(pk), f"Goal added: {goal.title}.")


def _edit_page(request: HttpRequest, form: Any, item: Any, title: str, status: int) -> HttpResponse:
    context = {"form": form, "item": item, "title": title, "back": _plan_url(item.organization_id)}
    return render(request, "success/plan_item_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    goal = access_goal(user, pk)
    _require(checks.authorize_change_goal, user)
    goal.organization_id = goal.plan.organization_id  # type: ignore[attr-defined]
    initial = {"title": goal.title, "description": goal.description}
    form = GoalForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            checks.check_update_goal(user, goal, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            return _done(request, _plan_url(goal.plan.organization_id), "Goal saved.")
    status = 400 if form.errors else 200
    return _edit_page(request, form, goal, f"Change the goal {goal.title}", status)


@require_POST
@staff_required
def milestone_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    goal = access_goal(user, pk)
    _require(checks.authorize_add_milestone, user)
    form = MilestoneForm(request.POST, auto_id=f"id_goal{goal.pk}_%s")
    try:
        milestone = checks.check_add_milestone(user, goal, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        organization = goal.plan.organization
        return _plan_page(request, organization, 400, milestone_form=form, milestone_goal=goal.pk)
    back = _plan_url(goal.plan.organization_id)
    return _done(request, back, f"Milestone added: {milestone.title}.")


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    milestone = access_milestone(user, pk)
    _require(checks.authorize_change_milestone, user)
    milestone.organization_id = milestone.goal.plan.organization_id  # type: ignore[attr-defined]
    initial = {
        "title": milestone.title,
        "weight": milestone.weight,
        "owner": milestone.owner_id,
        "due_date": milestone.due_date,
    }
    form = MilestoneForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            checks.check_update_milestone(user, milestone, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            back = _plan_url(milestone.goal.plan.organization_id)
            return _done(request, back, "Milestone saved.")
    status = 400 if form.errors else 200
    return _edit_page(request, form, milestone, f"Change the milestone {milestone.title}", status)


@require_POST
@staff_required
def milestone_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    milestone = access_milestone(user, pk)
    back = _plan_url(milestone.goal.plan.organization_id)
    try:
        checks.authorize_change_milestone(user)
        values = _valid(MilestoneDoneForm(request.POST))
        milestone = checks.check_set_milestone_done(user, milestone, **values)
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    state = "done" if milestone.is_done else "open again"
    return _done(request, back, f"{milestone.title}: {state}.")


@require_POST
@staff_required
def survey_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the perception survey; the links to hand over are listed on the plan page."""
    user = request_user(request)
    organization = access_organization(user, pk)
    _require(checks.authorize_send_survey, user)
    form = SurveyForm(request.POST, organization=organization)
    try:
        surveys = checks.check_send_survey(user, organization, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _plan_page(request, organization, 400, survey_form=form)
    names = ", ".join(survey.contact.full_name for survey in surveys)
    message = f"Survey ready for {names}: send them the link listed under Perception."
    return _done(request, _plan_url(pk), message)


@require_safe
@contact_required
def portal_plan(request: HttpRequest) -> HttpResponse:
    """The customer's own success plan and onboarding plans, read only."""
    contact = request.contact  # type: ignore[attr-defined]
    plan = selectors.plan_of(contact.organization)
    context = {
        "organization": contact.organization,
        "view": selectors.plan_view(plan=plan),
        "onboarding": selectors.onboarding_with_progress(organization=contact.organization),
    }
    return render(request, "success/plan_portal.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def survey_answer(request: HttpRequest, survey_token: str) -> HttpResponse:
    """The survey behind its signed link: no sign-in needed, answered once. A tampered
    or expired link is a 404 page saying so."""
    try:
        survey = actions.survey_for_token(survey_token)
    except DomainError as exc:
        return render(request, "success/survey_answer.html", {"error": exc.detail}, status=404)
    form = SurveyAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST" and not survey.is_answered:
        try:
            survey = checks.check_answer_survey(None, survey, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
            status = 400
    elif request.method == "POST":
        status = 409
    context = {"survey": survey, "form": form}
    return render(request, "success/survey_answer.html", context, status=status)
