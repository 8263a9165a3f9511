"""The agent console: queues and the case page. Views parse, check access, call one action
or selector, and render; every mutation is a POST that redirects back (PRG)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts import selectors as account_selectors
from retainer.accounts.access import access_organization, request_user
from retainer.accounts.models import Organization
from retainer.accounts.views import staff_required
from retainer.cases import actions, selectors, wording, workflow
from retainer.cases.access import access_case, attachments_visible_to, messages_visible_to
from retainer.cases.choices import CaseEventType, CaseStatus, DefectStatus, SlaState
from retainer.cases.filters import CaseFilter
from retainer.cases.forms.console import (
    AssignForm,
    CaseFieldsForm,
    DefectLinkForm,
    NewCaseForm,
    OverrideForm,
    PreviewForm,
    ReplyForm,
    TimeEntryForm,
    TimerStopForm,
    TransitionForm,
)
from retainer.cases.forms.portal import preview_fields
from retainer.cases.models import Case, CaseEvent, Defect, RunningTimer
from retainer.cases.serializers import StaffEventOut
from retainer.cases.wording import minutes_text
from retainer.catalog.selectors import releases_to_choose
from retainer.contracts.choices import Outcome
from retainer.contracts.selectors import balance_summary
from retainer.lib.converters import parse_id
from retainer.lib.errors import DomainError, add_to_form, report
from retainer.lib.htmx import is_htmx, without_blanks

# Timeline events that duplicate what the timeline already shows as a message.
MESSAGE_EVENTS = {CaseEventType.REPLIED, CaseEventType.NOTE_ADDED}


class BoundedPaginator(Paginator):
    """Pages over a count computed up front (bounded on huge queues), not ``COUNT(*)``."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page, allow_empty_first_page=True)
        self._bounded_count = count

    @property
    def count(self) -> int:
        return self._bounded_count


@require_safe
@staff_required
def case_queue(request: HttpRequest) -> HttpResponse:
    """Queues with counts, filters, search and sorting; HTMX gets only the rows."""
    agent = request_user(request)
    # "view", not "queue": the filter's ``queue`` is the team a case is queued for.
    queue = request.GET.get("view", "mine")
    queue = queue if queue in selectors.QUEUES else "mine"
    cases = selectors.queue_cases(queue=queue, agent=agent)
    filterset = CaseFilter(without_blanks(request.GET), queryset=cases, request=request)
    rows = filterset.qs if filterset.is_valid() else cases.none()
    sort = request.GET.get("sort", "newest")
    rows = rows.order_by(*selectors.SORTS.get(sort, ("-id",)))
    paginator = BoundedPaginator(
        rows.values_list("pk", flat=True), 25, count=selectors.capped_count(rows)
    )
    current = paginator.get_page(request.GET.get("page"))
    page_rows = selectors.load_page_rows(list(current.object_list))
    context = {
        "queue": queue,
        "queues": selectors.QUEUES,
        "counts": selectors.queue_counts(agent=agent),
        "filter": filterset,
        "page": current,
        "sort": sort,
        "sorts": selectors.SORTS,
        "rows": [
            (case, selectors.clock_views(getattr(case, "running_clocks", []))) for case in page_rows
        ],
        "count_cap": selectors.COUNT_CAP,
    }
    template = "console/partials/queue_rows.html" if is_htmx(request) else "console/case_queue.html"
    return render(request, template, context)


@require_safe
@staff_required
def case_page(request: HttpRequest, public_id: str) -> HttpResponse:
    agent = request_user(request)
    case = selectors.case_for_detail(access_case(agent, public_id))
    return render(request, "console/case_page.html", _case_context(case, agent))


def _timeline(case: Case, agent: Any, notes: dict[int, str]) -> list[tuple[str, Any, Any]]:
    """Messages and events, oldest first; events as staff read them (``StaffEventOut``),
    in sentences (``cases.wording``), time logged with its entry's note (``notes``)."""
    rows: list[CaseEvent] = [
        e
        for e in selectors.events_for_case(case=case, include_internal=True)
        if e.type not in MESSAGE_EVENTS
    ]
    events = [
        {
            **event,
            "label": wording.EVENT_LABELS.get(event["type"], event["type"]),
            "summary": wording.event_summary(
                event["type"], event["data"], note=notes.get(event["data"].get("entry"), "")
            ),
        }
        for event in StaffEventOut(rows, many=True).data
    ]
    return sorted(
        [("message", m.created_at, m) for m in messages_visible_to(agent, case)]
        + [("event", row.created_at, event) for row, event in zip(rows, events, strict=True)],
        key=lambda item: item[1],
    )


def _case_context(case: Case, agent: Any, **forms: Any) -> dict[str, Any]:
    timer = RunningTimer.objects.filter(agent=agent).select_related("case").first()
    contract = case.contract
    entries = list(selectors.time_entries_for_case(case=case))
    decision = case.decision
    return {
        "case": case,
        "timeline": _timeline(case, agent, {e.pk: e.note for e in entries}),
        "staff_decision": wording.staff_decision_text(
            outcome=decision.effective_outcome,
            reason=decision.reason,
            contract=case.contract_id,
            offering_kind=decision.offering_kind,
        )
        if decision is not None
        else "",
        "attachments": attachments_visible_to(agent, case),
        "clocks": selectors.clock_views(list(case.clocks.all())),
        "time_entries": entries,
        "time_totals": selectors.time_totals_for_case(case=case),
        "balance": balance_summary(contract=contract) if contract else None,
        "billable": selectors.billable_for_case(case=case),
        "targets": [
            (
                target,
                "Reopen"
                if case.status == CaseStatus.RESOLVED and target == CaseStatus.OPEN
                else workflow.ACTION_LABELS[target],
            )
            for target in workflow.allowed_targets(case.status)
        ],
        "timer": timer,
        "defects": Defect.objects.filter(product=case.product).exclude(
            status__in=[DefectStatus.FIXED, DefectStatus.WONT_FIX]
        ),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "transition_form": TransitionForm(initial={"root_cause": case.root_cause}),
        "assign_form": AssignForm(initial={"assignee": case.assignee_id}),
        "fields_form": CaseFieldsForm(
            initial={"severity": case.severity, "priority": case.priority}
        ),
        "override_form": OverrideForm(
            organization_id=case.organization_id, initial={"contract": case.contract_id}
        ),
        "time_form": forms.get("time_form") or TimeEntryForm(initial={"billable": True}),
        "sla_states": SlaState,
    }


def _case_action(
    form_class: type | None,
    action: Callable[[HttpRequest, Case, dict[str, Any]], str],
    *,
    authorize: Callable[[Any], None],
) -> Any:
    """A POST endpoint on a case: refuse an actor without the operation's permission
    (403, before the form is read), validate the form, run the check, report, redirect
    back to the case page."""

    @require_POST
    @staff_required
    def view(request: HttpRequest, public_id: str) -> HttpResponse:
        agent = request_user(request)
        try:
            authorize(agent)
        except DomainError as exc:
            raise PermissionDenied(exc.detail) from exc
        case = access_case(agent, public_id)
        data: dict[str, Any] = {}
        if form_class is not None:
            form = (
                form_class(request.POST, request.FILES, organization_id=case.organization_id)
                if form_class is OverrideForm
                else form_class(request.POST, request.FILES)
            )
            if not form.is_valid():
                report(request, ValidationError(form.errors.as_data()))
                return redirect("console:case_page", public_id=public_id)
            data = form.cleaned_data
        try:
            done = action(request, case, data)
        except (DomainError, ValidationError) as exc:
            report(request, exc)
        else:
            messages.success(request, done)
        return redirect("console:case_page", public_id=public_id)

    return view


def _reply(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_reply(
        request_user(request),
        case,
        body=data["body"],
        internal=data["internal"],
        upload=data.get("file"),
    )
    return "Note added." if data["internal"] else "Reply sent."


def _transition(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_transition_case(
        request_user(request), case, status=data["status"], root_cause=data["root_cause"]
    )
    return "Status changed."


def _assign(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    agent = request_user(request)
    assignee = agent if request.POST.get("me") else data["assignee"]
    actions.check_update_case(agent, case, assignee=assignee)
    return f"Assigned to {assignee.full_name}." if assignee else "Unassigned."


def _fields(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_update_case(
        request_user(request), case, severity=data["severity"], priority=data["priority"]
    )
    return "Case updated."


def _defect(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_link_defect(request_user(request), case, data["defect"])
    return "Defect linked."


def _override(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_override_decision(
        request_user(request),
        case,
        outcome=data["outcome"],
        contract=data["contract"],
        reason=data["reason"],
    )
    return "Decision overridden."


def _log_time(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    entry = actions.check_log_time(
        request_user(request),
        case,
        minutes=data["minutes"],
        billable=data["billable"],
        note=data["note"],
    )
    return (
        f"Logged {minutes_text(entry.minutes)} "
        f"({entry.covered_minutes} covered, {entry.overage_minutes} overage)."
    )


def _timer_start(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.check_start_timer(request_user(request), case)
    return "Timer started."


def _timer_stop(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    entry = actions.check_stop_timer(
        request_user(request), billable=data["billable"], note=data["note"]
    )
    return f"Logged {minutes_text(entry.minutes)}." if entry else "No timer was running."


case_reply = _case_action(ReplyForm, _reply, authorize=actions.authorize_reply)
case_transition = _case_action(TransitionForm, _transition, authorize=actions.authorize_transition)
case_assign = _case_action(AssignForm, _assign, authorize=actions.authorize_update_case)
case_fields = _case_action(CaseFieldsForm, _fields, authorize=actions.authorize_update_case)
case_defect = _case_action(DefectLinkForm, _defect, authorize=actions.authorize_link_defect)
case_override = _case_action(OverrideForm, _override, authorize=actions.authorize_override_decision)
case_time = _case_action(TimeEntryForm, _log_time, authorize=actions.authorize_log_time)
case_timer_start = _case_action(None, _timer_start, authorize=actions.authorize_log_time)
case_timer_stop = _case_action(TimerStopForm, _timer_stop, authorize=actions.authorize_log_time)


@require_safe
@staff_required
def time_preview(request: HttpRequest, public_id: str) -> HttpResponse:
    """What the entry being typed will draw and what becomes overage (no side effects)."""
    case = access_case(request_user(request), public_id)
    try:
        minutes = max(0, min(int(request.GET.get("minutes") or 0), 24 * 60))
    except ValueError:
        minutes = 0
    billable = request.GET.get("billable") in ("on", "true", "1")
    preview = (
        selectors.time_preview(case=case, minutes=minutes, billable=billable) if minutes else None
    )
    return render(request, "console/partials/time_preview.html", {"preview": preview, "case": case})


@require_safe
@staff_required
def next_case(request: HttpRequest) -> HttpResponse:
    """The keyboard's "next case": the oldest unassigned open case, else my oldest."""
    agent = request_user(request)
    for queue in ("unassigned", "mine"):
        case = selectors.queue_cases(queue=queue, agent=agent).order_by("severity", "id").first()
        if case is not None:
            return redirect("console:case_page", public_id=case.public_id)
    messages.info(request, "No open case is waiting.")
    return redirect(reverse("console:case_queue"))


@require_safe
@staff_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Organization 360: contacts with their markers, contracts and balances, open cases,
    consumption per month, warnings and out-of-scope history."""
    organization = access_organization(request_user(request), pk)
    return render(
        request,
        "console/organization_detail.html",
        {
            "organization": organization,
            "contacts": account_selectors.contacts_for_organization(organization=organization),
            "events": organization.events.select_related("actor", "contact")[:20],
            **selectors.organization_360(organization=organization),
        },
    )


# --- Opening a case for a contact (a phone call) --------------------------------------------

#: The permission the console's decision preview asks, as the API's ``decision_preview``.
PREVIEW_DECISION = "contracts.view_contract"


def _refuse_unless(authorize: Callable[[Any], Any], agent: Any) -> None:
    """403 before any input is read when the check's ``authorize_*`` refuses."""
    try:
        authorize(agent)
    except DomainError as exc:
        raise PermissionDenied(exc.detail) from exc


def _organization(request: HttpRequest) -> Organization | None:
    """The organization the new case is for (``organization`` in the query or the form)."""
    raw = request.POST.get("organization") or request.GET.get("organization") or ""
    pk = parse_id(raw)
    if pk is None:
        return None
    try:
        return access_organization(request_user(request), pk)
    except Http404:
        return None


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case for a contact: first the organization (found by name), then the form
    with the live decision preview; ``check_open_case`` as on every door."""
    agent = request_user(request)
    _refuse_unless(actions.authorize_open_case, agent)
    organization = _organization(request)
    if organization is None:
        find = request.GET.get("find", "").strip()
        found = selectors.organizations_matching(user=agent, q=find)
        status = 400 if request.method == "POST" else 200
        return render(
            request, "console/case_new.html", {"find": find, "found": found}, status=status
        )
    form = NewCaseForm(request.POST or None, organization_id=organization.pk)
    if request.method == "POST" and form.is_valid():
        try:
            case = actions.check_open_case(agent, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"{case.reference} opened for {case.contact.full_name}.")
            return redirect("console:case_page", public_id=case.public_id)
    context: dict[str, Any] = {"organization": organization, "form": form}
    return render(request, "console/case_new.html", context, status=400 if form.is_bound else 200)


@require_POST
@staff_required
def case_preview(request: HttpRequest) -> HttpResponse:
    """The decision the new case would get, taken as the portal's preview takes it
    (``selectors.preview_decision``: nothing is written), in staff words."""
    agent = request_user(request)
    if not agent.has_perm(PREVIEW_DECISION):
        raise PermissionDenied
    organization = _organization(request)
    form = PreviewForm(request.POST, organization_id=organization.pk if organization else 0)
    context: dict[str, Any] = {"decision": None}
    if form.is_valid():
        data = form.cleaned_data
        decision, offer = selectors.preview_decision(
            contact=data["contact"], channel=data["channel"], **preview_fields(data)
        )
        context = {
            "decision": decision,
            "offer": offer,
            "outcome_label": Outcome(decision.outcome).label,
            "staff_text": wording.staff_decision_text(
                outcome=decision.outcome,
                reason=decision.reason,
                contract=decision.contract_id,
                offering_kind=decision.offering_kind,
            ),
        }
    return render(request, "console/partials/decision_preview.html", context)


@require_safe
@staff_required
def case_releases(request: HttpRequest) -> HttpResponse:
    """The release options of the chosen product (an HTMX fragment of the new-case form)."""
    product = parse_id(request.GET.get("product", ""))
    releases = releases_to_choose(product_id=product)
    return render(request, "portal/partials/release_options.html", {"releases": releases})
