"""SLA clocks: started, paused, resumed, stopped, and scanned for warnings and breaches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from types import EllipsisType

from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import User
from retainer.cases.choices import CaseStatus, ClockKind
from retainer.cases.events import (
    CaseSlaBreached,
    CaseSlaMet,
    CaseSlaPaused,
    CaseSlaResumed,
    CaseSlaStarted,
    CaseSlaWarning,
)
from retainer.cases.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CasePause,
    SlaClock,
    SlaTarget,
)
from retainer.cases.selectors import sla_target_for
from retainer.cases.sla import Pause, calendar_from_row, clock_times
from retainer.lib.business_hours import Calendar
from retainer.lib.events import record, record_many

# Clock events are internal: customers see replies and statuses, not the vendor's targets.


def _calendar(case: Case, target: SlaTarget) -> Calendar:
    zone = (
        case.organization.time_zone
        if target.calendar.use_customer_time_zone
        else target.calendar.time_zone
    )
    return calendar_from_row(target.calendar, zone)


def _pauses(case: Case) -> list[Pause]:
    return [(p.started_at, p.ended_at) for p in CasePause.objects.filter(case=case)]


def _schedule(clock: SlaClock, case: Case) -> None:
    times = clock_times(
        _calendar(case, clock.target),
        started_at=clock.started_at,
        target_minutes=clock.target_minutes,
        warning_percent=clock.target.warning_percent,
        pauses=_pauses(case),
    )
    clock.due_at, clock.warn_at = times.due_at, times.warn_at


def start_clocks(
    case: Case,
    kinds: Iterable[str],
    *,
    at: dt.datetime,
    actor: User | None,
    pauses: list[Pause] | None = None,
    target: SlaTarget | EllipsisType | None = ...,
) -> list[SlaClock]:
    """Start the clocks of ``kinds`` that the case's target defines; ``pauses`` and
    ``target`` may be given when already known (a new case has no pauses)."""
    clocks = new_clocks(case, kinds, at=at, pauses=pauses, target=target)
    SlaClock.objects.bulk_create(clocks)
    record_many(
        CaseEvent,
        [
            (event, {"case": case, "actor": actor, "is_internal": True})
            for event in clock_started_events(clocks)
        ],
    )
    return clocks


def new_clocks(
    case: Case,
    kinds: Iterable[str],
    *,
    at: dt.datetime,
    pauses: list[Pause] | None = None,
    target: SlaTarget | EllipsisType | None = ...,
) -> list[SlaClock]:
    """The clocks ``start_clocks`` would save, unsaved."""
    target = sla_target_for(case) if isinstance(target, EllipsisType) else target
    if target is None:
        return []
    by_kind: dict[str, int | None] = {
        ClockKind.FIRST_RESPONSE: target.first_response_minutes,
        ClockKind.NEXT_RESPONSE: target.next_response_minutes,
        ClockKind.RESOLUTION: target.resolution_minutes,
    }
    calendar = _calendar(case, target)
    pauses = _pauses(case) if pauses is None else pauses
    clocks = []
    for kind in kinds:
        minutes = by_kind[kind]
        if minutes is None:
            continue
        times = clock_times(
            calendar,
            started_at=at,
            target_minutes=minutes,
            warning_percent=target.warning_percent,
            pauses=pauses,
        )
        clocks.append(
            SlaClock(
                case=case,
                kind=kind,
                target=target,
                target_minutes=minutes,
                started_at=at,
                due_at=times.due_at,
                warn_at=times.warn_at,
            )
        )
    return clocks


def clock_started_events(clocks: list[SlaClock]) -> list[CaseSlaStarted]:
    """The events of newly started clocks, for the caller to record (internal rows)."""
    return [CaseSlaStarted(clock=clock.kind, due_at=_iso(clock.due_at)) for clock in clocks]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _stop_clocks(case: Case, kinds: Iterable[str], *, at: dt.datetime, actor: User | None) -> None:
    for clock in SlaClock.objects.filter(case=case, kind__in=list(kinds), stopped_at__isnull=True):
        clock.stopped_at = at
        clock.save(update_fields=["stopped_at"])
        met = clock.breached_at is None
        if met:
            record(
                CaseEvent, CaseSlaMet(clock=clock.kind), case=case, actor=actor, is_internal=True
            )


def _reschedule_running(case: Case) -> None:
    for clock in SlaClock.objects.filter(case=case, stopped_at__isnull=True).select_related(
        "target__calendar"
    ):
        _schedule(clock, case)
        clock.save(update_fields=["due_at", "warn_at"])


def _pause_clocks(case: Case, *, at: dt.datetime, actor: User | None) -> None:
    if not CasePause.objects.filter(case=case, ended_at__isnull=True).exists():
        CasePause.objects.create(case=case, started_at=at)
        _reschedule_running(case)
        record(CaseEvent, CaseSlaPaused(), case=case, actor=actor, is_internal=True)


def _resume_clocks(case: Case, *, at: dt.datetime, actor: User | None) -> None:
    if CasePause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at):
        _reschedule_running(case)
        record(CaseEvent, CaseSlaResumed(), case=case, actor=actor, is_internal=True)


def clocks_after_transition(
    case: Case, old: str, new: str, *, at: dt.datetime, actor: User | None
) -> None:
    """Clocks follow the workflow: waiting on the customer pauses them, resolving stops
    the resolution clock (met or not), reopening resumes it with the resolved span paused."""
    if new == CaseStatus.WAITING_ON_CUSTOMER:
        _pause_clocks(case, at=at, actor=actor)
    elif old == CaseStatus.WAITING_ON_CUSTOMER:
        _resume_clocks(case, at=at, actor=actor)
    if new in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED):
        _stop_clocks(case, ClockKind.values, at=at, actor=actor)
    elif old == CaseStatus.RESOLVED and new == CaseStatus.OPEN:
        resolved_clock = (
            SlaClock.objects.filter(case=case, kind=ClockKind.RESOLUTION).order_by("-id").first()
        )
        if resolved_clock is not None and resolved_clock.stopped_at is not None:
            CasePause.objects.create(case=case, started_at=resolved_clock.stopped_at, ended_at=at)
            resolved_clock.stopped_at = None
            resolved_clock.save(update_fields=["stopped_at"])
            _reschedule_running(case)


def clocks_after_message(case: Case, message: CaseMessage, *, actor: User | None) -> None:
    at = message.created_at
    if message.is_internal:
        return
    if message.by_customer:
        running = SlaClock.objects.filter(
            case=case, kind=ClockKind.NEXT_RESPONSE, stopped_at__isnull=True
        )
        if case.first_response_at is not None and not running.exists():
            start_clocks(case, [ClockKind.NEXT_RESPONSE], at=at, actor=actor)
    else:
        _stop_clocks(case, [ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE], at=at, actor=actor)


@transaction.atomic
def do_scan_sla_clocks(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Record one warning and one breach event per clock that has reached them, and do
    what the clock's target says for it (``do_take_sla_action``).

    Idempotent: a clock warns once and breaches once, however often the scan runs.
    """
    # Imported here: the settings module uses ``do_update_case``, whose module imports this one.
    from retainer.cases.actions.settings import do_take_sla_action

    now = now or timezone.now()
    warned = breached = 0
    # Locked, so that scans running side by side (several workers, a late periodic run
    # beside a manual one) wait for each other and skip the clocks the first one recorded.
    running = (
        SlaClock.objects.filter(stopped_at__isnull=True)
        .select_related("case")
        .select_for_update(of=("self",))
    )
    for clock in running.filter(breached_at__isnull=True, due_at__lte=now):
        clock.breached_at = now
        clock.save(update_fields=["breached_at"])
        record(
            CaseEvent,
            CaseSlaBreached(clock=clock.kind, due_at=_iso(clock.due_at)),
            case=clock.case,
            actor=None,
            is_internal=True,
        )
        do_take_sla_action(clock, moment="breached")
        breached += 1
    for clock in running.filter(warned_at__isnull=True, breached_at__isnull=True, warn_at__lte=now):
        clock.warned_at = now
        clock.save(update_fields=["warned_at"])
        record(
            CaseEvent,
            CaseSlaWarning(clock=clock.kind, due_at=_iso(clock.due_at)),
            case=clock.case,
            actor=None,
            is_internal=True,
        )
        do_take_sla_action(clock, moment="warning")
        warned += 1
    return {"warned": warned, "breached": breached}
