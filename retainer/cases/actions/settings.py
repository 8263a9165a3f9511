"""What the console configures: business-hours calendars, SLA targets and what a clock's
warning or breach does to its case, and the defect operations of the console.

Each operation has one ``check_*`` (authorization: the Django permission the API or the
admin would ask for, then the action) and its ``do_*`` action. ``authorize_*`` is exposed
separately so a page refuses (403) before it looks at its form.

Calendars and targets are reference data read through the SLA snapshot
(``cases.selectors.sla_target_for``): saving one renews every process's copy through the
database triggers of ``0005_sla_generation``, so the next intake uses it. They carry no
history of their own; what they do to cases is recorded on the cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import Contact, User
from retainer.cases.actions.common import lock_case
from retainer.cases.actions.defects import do_create_defect, do_set_defect_fix_release
from retainer.cases.actions.transitions import do_update_case
from retainer.cases.choices import Priority, SlaAction
from retainer.cases.events import CaseSlaActionTaken
from retainer.cases.models import BusinessCalendar, Case, CaseEvent, Defect, SlaClock, SlaTarget
from retainer.catalog.models import Product, Release
from retainer.lib.errors import NotPermitted
from retainer.lib.events import record
from retainer.lib.models import apply_changes, save_validated

__all__ = [
    "CALENDAR_FIELDS",
    "SLA_TARGET_FIELDS",
    "authorize_add_defect",
    "authorize_change_defect",
    "authorize_save_calendar",
    "authorize_save_sla_target",
    "check_create_defect",
    "check_save_calendar",
    "check_save_sla_target",
    "check_set_defect_fix_release",
    "do_save_calendar",
    "do_save_sla_target",
    "do_take_sla_action",
]

#: The permissions of each operation (the API's for defects; the admin's names for SLA).
ADD_CALENDAR = ("cases.add_businesscalendar",)
CHANGE_CALENDAR = ("cases.change_businesscalendar",)
ADD_SLA_TARGET = ("cases.add_slatarget",)
CHANGE_SLA_TARGET = ("cases.change_slatarget",)
ADD_DEFECT = ("cases.add_defect",)
CHANGE_DEFECT = ("cases.change_defect",)

CALENDAR_FIELDS = (
    "name",
    "time_zone",
    "use_customer_time_zone",
    "always_open",
    "hours",
    "holidays",
)
SLA_TARGET_FIELDS = (
    "plan",
    "severity",
    "calendar",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "warning_percent",
    "warning_action",
    "breach_action",
    "escalation_team",
)

WARNING, BREACHED = "warning", "breached"


def _require(actor: Any, perms: tuple[str, ...]) -> None:
    """Active vendor staff holding every one of ``perms``, else ``NotPermitted`` (403)."""
    if not is_vendor_staff(actor):
        raise NotPermitted("staff_only", "Only the support team does this.")
    if not actor.has_perms(perms):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


# --- Business calendars and SLA targets -----------------------------------------------------


def authorize_save_calendar(actor: User, calendar: BusinessCalendar | None) -> None:
    """A new calendar needs ``cases.add_businesscalendar``, a change
    ``cases.change_businesscalendar`` (managers and admins)."""
    _require(actor, ADD_CALENDAR if calendar is None else CHANGE_CALENDAR)


def check_save_calendar(
    actor: User, calendar: BusinessCalendar | None, **fields: Any
) -> BusinessCalendar:
    authorize_save_calendar(actor, calendar)
    return do_save_calendar(calendar, actor=actor, **fields)


@transaction.atomic
def do_save_calendar(
    calendar: BusinessCalendar | None, *, actor: User | None, **fields: Any
) -> BusinessCalendar:
    """Create a calendar (``calendar`` is None) or change one; the model's ``clean()``
    refuses hours and holidays the clock arithmetic cannot take (``ValidationError``).

    Running clocks keep their due times; the calendar applies to clocks started or
    rescheduled (after a pause) from now on."""
    calendar = calendar if calendar is not None else BusinessCalendar()
    apply_changes(calendar, fields, allowed=CALENDAR_FIELDS)
    save_validated(calendar)
    return calendar


def authorize_save_sla_target(actor: User, target: SlaTarget | None) -> None:
    """``cases.add_slatarget`` for a new target, ``cases.change_slatarget`` for a change."""
    _require(actor, ADD_SLA_TARGET if target is None else CHANGE_SLA_TARGET)


def check_save_sla_target(actor: User, target: SlaTarget | None, **fields: Any) -> SlaTarget:
    authorize_save_sla_target(actor, target)
    return do_save_sla_target(target, actor=actor, **fields)


@transaction.atomic
def do_save_sla_target(target: SlaTarget | None, *, actor: User | None, **fields: Any) -> SlaTarget:
    """Create a target (``target`` is None) or change one; one target per plan and
    severity (the default per severity when ``plan`` is None), minutes are business
    minutes. New cases use it at once; running clocks keep their target minutes."""
    target = target if target is not None else SlaTarget()
    apply_changes(target, fields, allowed=SLA_TARGET_FIELDS)
    save_validated(target)
    return target


# --- What a warning or a breach does ---------------------------------------------------------


def do_take_sla_action(clock: SlaClock, *, moment: str) -> CaseSlaActionTaken | None:
    """Do what the clock's target says for ``moment`` (``"warning"`` or ``"breached"``) and
    record it as an internal ``sla_action_taken`` event; nothing when the target says
    nothing. Called by ``do_scan_sla_clocks`` inside its transaction, once per clock and
    moment (the scan marks the clock first). An e-mail leaves after commit."""
    target = clock.target
    action = target.breach_action if moment == BREACHED else target.warning_action
    if action == SlaAction.NONE:
        return None
    case = lock_case(clock.case)  # as it is now: an earlier clock's action may have changed it
    if action == SlaAction.NOTIFY_ASSIGNEE:
        detail = _notify_assignee(case, clock, moment)
    elif action == SlaAction.ESCALATE:
        detail = _escalate(case, target)
    else:
        detail = _raise_priority(case)
    event = CaseSlaActionTaken(clock=clock.kind, moment=moment, action=action, detail=detail)
    record(CaseEvent, event, case=case, actor=None, is_internal=True)
    return event


def _notify_assignee(case: Case, clock: SlaClock, moment: str) -> str:
    """The e-mail itself is the mail channel's: it answers every SLA warning and breach
    event (docs/mail.md), so the assignee gets one message, whatever the target says."""
    assignee = case.assignee
    if assignee is None or not assignee.email:
        return "Nobody is assigned: nobody was notified."
    return f"E-mailed {assignee.full_name}."


def _escalate(case: Case, target: SlaTarget) -> str:
    team = target.escalation_team
    if team is None:  # the model refuses this; kept for rows written before it did
        return "No escalation team is set."
    if case.queue_id == team.pk:
        return f"Already with {team.name}."
    do_update_case(case, actor=None, queue=team)
    return f"Moved to {team.name}."


def _raise_priority(case: Case) -> str:
    order = list(Priority.values)  # low, normal, high, urgent
    current = order.index(case.priority) if case.priority in order else 0
    if current == len(order) - 1:
        return "Already urgent."
    raised = Priority(order[current + 1])
    do_update_case(case, actor=None, priority=raised.value)
    return f"Priority raised to {raised.label.lower()}."


# --- Defects ---------------------------------------------------------------------------------


def authorize_add_defect(actor: User) -> None:
    """``cases.add_defect``, as the API's ``POST /defects/`` asks."""
    _require(actor, ADD_DEFECT)


def check_create_defect(
    actor: User,
    *,
    product: Product,
    title: str,
    description: str = "",
    affected_releases: Iterable[Release] = (),
) -> Defect:
    authorize_add_defect(actor)
    return do_create_defect(
        product=product,
        title=title,
        description=description,
        affected_releases=affected_releases,
        actor=actor,
    )


def authorize_change_defect(actor: User) -> None:
    """``cases.change_defect``, as the API's ``POST /defects/<id>/fix-release/`` asks."""
    _require(actor, CHANGE_DEFECT)


def check_set_defect_fix_release(actor: User, defect: Defect, *, release: Release) -> list[Contact]:
    """Mark the defect fixed in ``release``; returns the contacts of its linked open cases."""
    authorize_change_defect(actor)
    return do_set_defect_fix_release(defect, release, actor=actor)
