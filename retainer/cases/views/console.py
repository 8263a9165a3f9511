"""The agent console: queues and the case page. Views parse, check access, call one action
or selector, and render; every mutation is a POST that redirects back (PRG)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from retainer.accounts.views import staff_required
from retainer.cases import actions, selectors, workflow
from retainer.cases.access import access_case, attachments_visible_to, messages_visible_to
from retainer.cases.choices import CaseEventType, SlaState
from retainer.cases.filters import CaseFilter
from retainer.cases.forms_console import (
    AssignForm,
    CaseFieldsForm,
    DefectLinkForm,
    OverrideForm,
    ReplyForm,
    TimeEntryForm,
    TimerStopForm,
    TransitionForm,
)
from retainer.cases.models import Case, Defect, RunningTimer
from retainer.contracts.selectors import balance_summary
from retainer.lib.auth import request_user
from retainer.lib.htmx import is_htmx, without_blanks
from retainer.lib.uploads import UploadRejected

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
    filterset = CaseFilter(without_blanks(request.GET), queryset=cases)
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


def _case_context(case: Case, agent: Any, **forms: Any) -> dict[str, Any]:
    events = [
        e
        for e in selectors.events_for_case(case=case, include_internal=True)
        if e.type not in MESSAGE_EVENTS
    ]
    timeline = sorted(
        [("message", m.created_at, m) for m in messages_visible_to(agent, case)]
        + [("event", e.created_at, e) for e in events],
        key=lambda item: item[1],
    )
    timer = RunningTimer.objects.filter(agent=agent).select_related("case").first()
    contract = case.contract
    return {
        "case": case,
        "timeline": timeline,
        "attachments": attachments_visible_to(agent, case),
        "clocks": selectors.clock_views(list(case.clocks.all())),
        "time_entries": selectors.time_entries_for_case(case=case),
        "time_totals": selectors.time_totals_for_case(case=case),
        "balance": balance_summary(contract=contract) if contract else None,
        "targets": [
            (
                target,
                "Reopen"
                if case.status == "resolved" and target == "open"
                else workflow.ACTION_LABELS[target],
            )
            for target in workflow.allowed_targets(case.status)
        ],
        "timer": timer,
        "defects": Defect.objects.filter(product=case.product).exclude(
            status__in=["fixed", "wont_fix"]
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
    form_class: type | None, action: Callable[[HttpRequest, Case, dict[str, Any]], Any]
) -> Any:
    """A POST endpoint on a case: validate the form, run the action, report, redirect back."""

    @require_POST
    @staff_required
    def view(request: HttpRequest, public_id: str) -> HttpResponse:
        agent = request_user(request)
        case = access_case(agent, public_id, for_write=True)
        data: dict[str, Any] = {}
        if form_class is not None:
            form = (
                form_class(request.POST, request.FILES, organization_id=case.organization_id)
                if form_class is OverrideForm
                else form_class(request.POST, request.FILES)
            )
            if not form.is_valid():
                for field, errors in form.errors.items():
                    messages.error(
                        request,
                        f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors),
                    )
                return redirect("console:case_page", public_id=public_id)
            data = form.cleaned_data
        try:
            result = action(request, case, data)
        except actions.CaseError as exc:
            messages.error(request, exc.detail)
        except UploadRejected as exc:
            messages.error(request, exc.detail)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if isinstance(result, str):
                messages.success(request, result)
        return redirect("console:case_page", public_id=public_id)

    return view


def _reply(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.do_reply(
        case,
        author=request_user(request),
        body=data["body"],
        internal=data["internal"],
        upload=data.get("file"),
    )
    return "Note added." if data["internal"] else "Reply sent."


def _transition(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.do_transition_case(
        case, data["status"], root_cause=data["root_cause"], actor=request_user(request)
    )
    return "Status changed."


def _assign(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    assignee = request_user(request) if request.POST.get("me") else data["assignee"]
    actions.do_update_case(case, assignee=assignee, actor=request_user(request))
    return f"Assigned to {assignee.full_name}." if assignee else "Unassigned."


def _fields(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.do_update_case(
        case, severity=data["severity"], priority=data["priority"], actor=request_user(request)
    )
    return "Case updated."


def _defect(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.do_link_defect(case, data["defect"], actor=request_user(request))
    return "Defect linked."


def _override(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    agent = request_user(request)
    if not agent.has_perm("contracts.override_entitlementdecision"):
        raise ValidationError("You may not override entitlement decisions.")
    actions.do_override_case_decision(
        case, outcome=data["outcome"], contract=data["contract"], reason=data["reason"], actor=agent
    )
    return "Decision overridden."


def _log_time(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    agent = request_user(request)
    entry = actions.do_log_time(
        case,
        agent=agent,
        minutes=data["minutes"],
        billable=data["billable"],
        note=data["note"],
        actor=agent,
    )
    return (
        f"Logged {entry.minutes} minutes "
        f"({entry.covered_minutes} covered, {entry.overage_minutes} overage)."
    )


def _timer_start(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    actions.do_start_timer(case, agent=request_user(request))
    return "Timer started."


def _timer_stop(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    entry = actions.do_stop_timer(
        agent=request_user(request), billable=data["billable"], note=data["note"]
    )
    return f"Logged {entry.minutes} minutes." if entry else "No timer was running."


case_reply = _case_action(ReplyForm, _reply)
case_transition = _case_action(TransitionForm, _transition)
case_assign = _case_action(AssignForm, _assign)
case_fields = _case_action(CaseFieldsForm, _fields)
case_defect = _case_action(DefectLinkForm, _defect)
case_override = _case_action(OverrideForm, _override)
case_time = _case_action(TimeEntryForm, _log_time)
case_timer_start = _case_action(None, _timer_start)
case_timer_stop = _case_action(TimerStopForm, _timer_stop)


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
