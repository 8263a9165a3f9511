"""Time entries drawn from the contract ledger, and the agents' timers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import User
from retainer.cases.actions.common import CONSUMING_OUTCOMES
from retainer.cases.events import (
    CaseConsumptionRefused,
    CaseTimeChanged,
    CaseTimeDeleted,
    CaseTimeLogged,
)
from retainer.cases.models import Case, CaseEvent, RunningTimer, TimeEntry
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import DecrementPoint, SourceType
from retainer.contracts.models import Contract
from retainer.lib.errors import Conflict, DomainError
from retainer.lib.events import record
from retainer.lib.models import apply_changes

# Time is the vendor's own business: every time event is an internal row.


def _consume_time(entry: TimeEntry, *, actor: User | None) -> None:
    """Draw the entry's minutes from its contract when billable; record covered/overage."""
    entry.covered_minutes = entry.overage_minutes = 0
    if not entry.billable or entry.contract_id is None:
        return
    contract = Contract.objects.get(pk=entry.contract_id)
    if contract.plan_terms.decrement_point != DecrementPoint.TIME_ENTRY:
        return
    try:
        movement = contract_actions.do_consume(
            entry.contract_id,
            quantity=entry.minutes,
            key=entry.ledger_key,
            source_type=SourceType.TIME_ENTRY,
            source_id=str(entry.pk),
            actor=actor,
            links=(entry.case_id, entry.pk),
        )
    except DomainError as exc:
        record(
            CaseEvent,
            CaseConsumptionRefused(code=exc.code, detail=exc.detail, entry=entry.pk),
            case=entry.case,
            actor=actor,
            is_internal=True,
        )
        return
    entry.covered_minutes = -movement.entry.quantity
    entry.overage_minutes = movement.entry.overage_quantity


def _reverse_time(entry: TimeEntry, *, actor: User | None, reason: str) -> None:
    if entry.contract_id is None or (entry.covered_minutes == 0 and entry.overage_minutes == 0):
        return
    contract_actions.do_reverse_entry(
        entry.contract_id, reverses_key=entry.ledger_key, reason=reason, actor=actor
    )


def _time_contract(case: Case) -> int | None:
    return case.contract_id if case.entitlement in CONSUMING_OUTCOMES else None


@transaction.atomic
def do_log_time(
    case: Case,
    *,
    agent: User,
    minutes: int,
    billable: bool = True,
    work_date: dt.date | None = None,
    started_at: dt.datetime | None = None,
    note: str = "",
    actor: User | None,
) -> TimeEntry:
    """Record work on a case; billable minutes consume hours from the case's contract at
    once (the part beyond the balance is overage)."""
    if not agent.is_staff:
        raise ValidationError({"agent": "Time is logged by vendor staff."})
    if minutes <= 0:
        raise ValidationError({"minutes": "The duration must be a positive number of minutes."})
    entry = TimeEntry.objects.create(
        case=case,
        agent=agent,
        minutes=minutes,
        billable=billable,
        work_date=work_date or timezone.localdate(),
        started_at=started_at,
        note=note,
        contract_id=_time_contract(case),
    )
    _consume_time(entry, actor=actor)
    entry.save(update_fields=["covered_minutes", "overage_minutes"])
    logged = CaseTimeLogged(
        entry=entry.pk,
        minutes=minutes,
        billable=billable,
        covered=entry.covered_minutes,
        overage=entry.overage_minutes,
    )
    record(CaseEvent, logged, case=case, actor=actor, is_internal=True)
    return entry


@transaction.atomic
def do_update_time_entry(entry: TimeEntry, *, actor: User | None, **changes: Any) -> TimeEntry:
    """Change an entry. When minutes or billability change, the old version's consumption
    is reversed and the new version consumed, so the balance follows exactly."""
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_deleted:
        raise Conflict("time_entry_deleted", "This time entry was deleted.")
    if "minutes" in changes and changes["minutes"] <= 0:
        raise ValidationError({"minutes": "The duration must be a positive number of minutes."})
    diff = apply_changes(entry, changes, allowed=("minutes", "billable", "note", "work_date"))
    if not diff:
        return entry
    if {"minutes", "billable"} & set(diff):
        _reverse_time(entry, actor=actor, reason="time entry changed")
        entry.version += 1
        _consume_time(entry, actor=actor)
    entry.save()
    record(
        CaseEvent,
        CaseTimeChanged(entry=entry.pk, **diff),
        case=entry.case,
        actor=actor,
        is_internal=True,
    )
    return entry


@transaction.atomic
def do_delete_time_entry(entry: TimeEntry, *, actor: User | None) -> TimeEntry:
    """Withdraw an entry: its consumption is reversed; the row stays for history."""
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_deleted:
        return entry
    _reverse_time(entry, actor=actor, reason="time entry deleted")
    entry.is_deleted = True
    entry.save(update_fields=["is_deleted"])
    record(
        CaseEvent, CaseTimeDeleted(entry=entry.pk), case=entry.case, actor=actor, is_internal=True
    )
    return entry


# --- Timers ---------------------------------------------------------------------------------


@transaction.atomic
def do_start_timer(case: Case, *, agent: User) -> RunningTimer:
    """Start (or move) the agent's timer to this case. A timer running on another case is
    stopped first and its time logged there."""
    current = RunningTimer.objects.select_for_update().filter(agent=agent).first()
    if current is not None:
        if current.case_id == case.pk:
            return current
        do_stop_timer(agent=agent, billable=True)
    return RunningTimer.objects.create(agent=agent, case=case, started_at=timezone.now())


@transaction.atomic
def do_stop_timer(*, agent: User, billable: bool = True, note: str = "") -> TimeEntry | None:
    """Stop the agent's timer and log the elapsed whole minutes (at least one)."""
    timer = (
        RunningTimer.objects.select_for_update().select_related("case").filter(agent=agent).first()
    )
    if timer is None:
        return None
    elapsed = timezone.now() - timer.started_at
    minutes = max(1, round(elapsed.total_seconds() / 60))
    timer.delete()
    return do_log_time(
        timer.case,
        agent=agent,
        minutes=minutes,
        billable=billable,
        started_at=timer.started_at,
        work_date=timezone.localdate(timer.started_at),
        note=note,
        actor=agent,
    )
