"""One rule per case operation, whatever the door (console, portal, API).

Each ``check_<verb>_<noun>`` authorizes the actor (``NotPermitted``, a 403 on every
door), validates the raw input the doors share (``InvalidInput``), then calls the
``do_*`` action. The permission of each operation is the one the API asked for before
the doors were aligned; ``authorize_*`` is exposed separately so an HTML door can
refuse before it looks at its form.

The doors fetch the case through ``cases.access`` first (404 for a case the actor
cannot see), so a customer reaching a check may see the case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.models import Contact, User
from retainer.cases.actions.conversation import Reply, do_reply
from retainer.cases.actions.defects import do_link_defect
from retainer.cases.actions.intake import IntakePlan, do_open_case, plan_intake
from retainer.cases.actions.satisfaction import do_answer_csat
from retainer.cases.actions.timekeeping import (
    do_delete_time_entry,
    do_log_time,
    do_start_timer,
    do_stop_timer,
    do_update_time_entry,
)
from retainer.cases.actions.transitions import (
    do_override_case_decision,
    do_transition_case,
    do_update_case,
)
from retainer.cases.choices import CaseStatus, CsatRating
from retainer.cases.models import Case, CsatResponse, Defect, RunningTimer, TimeEntry
from retainer.contracts.choices import Outcome
from retainer.contracts.models import Contract
from retainer.lib.errors import InvalidInput, NotFound, NotPermitted

#: The Django permissions staff need for each operation (customers have their own rules).
OPEN_CASE = ("cases.add_case",)
CHANGE_CASE = ("cases.change_case",)
REPLY = ("cases.change_case", "cases.add_casemessage")
LOG_TIME = ("cases.add_timeentry",)
CHANGE_TIME = ("cases.change_timeentry",)
OVERRIDE_DECISION = ("contracts.override_entitlementdecision",)

#: The longest time entry, in minutes.
MAX_MINUTES = 24 * 60

_NO_PERMISSION = "You do not have permission to do this."


def _require(actor: Any, perms: tuple[str, ...]) -> None:
    """Active vendor staff holding every one of ``perms``, else ``NotPermitted``."""
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", _NO_PERMISSION)


def _staff_only(actor: Any, perms: tuple[str, ...], detail: str) -> None:
    if not is_vendor_staff(actor):
        raise NotPermitted("staff_only", detail)
    _require(actor, perms)


# --- Opening a case -------------------------------------------------------------------------


def authorize_open_case(actor: User) -> Contact | None:
    """Staff need ``cases.add_case``; a customer needs an active contact (returned), and
    anyone else learns nothing (``NotFound``)."""
    if is_vendor_staff(actor):
        _require(actor, OPEN_CASE)
        return None
    own = customer_contact(actor)
    if own is None:
        raise NotFound("not_found", "Not found.")
    return own


def plan_open_case(actor: User, *, contact: Contact | None = None, **fields: Any) -> IntakePlan:
    """Who may open a case for whom, then ``plan_intake`` (reads only).

    Staff with ``cases.add_case`` open a case for any ``contact``; a customer opens one
    only as their own contact (any other is refused), and never sets the priority.
    """
    own = authorize_open_case(actor)
    if own is None:
        if contact is None:
            raise InvalidInput("contact_required", "Name the contact.", field="contact")
    else:
        if contact is not None and contact.pk != own.pk:
            raise NotPermitted("not_your_contact", "You open cases as yourself.")
        if "priority" in fields:
            raise InvalidInput(
                "field_not_allowed", "The support team sets the priority.", field="priority"
            )
        contact = own
    return plan_intake(contact=contact, actor=actor, **fields)


def check_open_case(actor: User, **fields: Any) -> Case:
    """Open a case through any door: ``plan_open_case``, then ``do_open_case``. (The API
    plans before its idempotency transaction and stores inside it: the same two steps.)"""
    return do_open_case(plan_open_case(actor, **fields), actor=actor)


# --- The conversation -----------------------------------------------------------------------


def authorize_reply(actor: User) -> None:
    """Staff need ``cases.change_case`` and ``cases.add_casemessage``; a customer who
    sees the case may reply."""
    if is_vendor_staff(actor):
        _require(actor, REPLY)


def check_reply(
    actor: User, case: Case, *, body: str = "", internal: bool = False, upload: Any = None
) -> Reply:
    """A reply or an internal note, with or without one file, or a file alone."""
    authorize_reply(actor)
    if internal and not is_vendor_staff(actor):
        raise InvalidInput(
            "field_not_allowed", "Customers cannot write internal notes.", field="internal"
        )
    if not body.strip() and upload is None:
        raise InvalidInput("empty", "Write a reply or attach a file.", field="body")
    return do_reply(case, author=actor, body=body, internal=internal, upload=upload)


# --- The workflow and the case's fields -----------------------------------------------------


def authorize_transition(actor: User) -> None:
    """Staff need ``cases.change_case``; customers make the customer's moves only."""
    if is_vendor_staff(actor):
        _require(actor, CHANGE_CASE)


def check_transition_case(actor: User, case: Case, *, status: str, root_cause: str = "") -> Case:
    authorize_transition(actor)
    if status not in CaseStatus.values:
        raise InvalidInput("unknown_status", f"{status!r} is not a case status.", field="status")
    return do_transition_case(
        case,
        status,
        root_cause=root_cause,
        by_customer=not is_vendor_staff(actor),
        actor=actor,
    )


def authorize_update_case(actor: User) -> None:
    """Assignee, queue, severity, priority and the other agent fields: staff with
    ``cases.change_case``."""
    _staff_only(actor, CHANGE_CASE, "Only the support team changes these fields.")


def check_update_case(actor: User, case: Case, **changes: Any) -> Case:
    authorize_update_case(actor)
    return do_update_case(case, actor=actor, **changes)


def authorize_link_defect(actor: User) -> None:
    _staff_only(actor, CHANGE_CASE, "Only the support team links defects.")


def check_link_defect(actor: User, case: Case, defect: Defect) -> Case:
    authorize_link_defect(actor)
    return do_link_defect(case, defect, actor=actor)


def authorize_override_decision(actor: User) -> None:
    """``contracts.override_entitlementdecision``: a refusal is a 403, never a form error."""
    _staff_only(actor, OVERRIDE_DECISION, "Only the support team overrides decisions.")


def check_override_decision(
    actor: User, case: Case, *, outcome: str, contract: Contract | None, reason: str
) -> Case:
    authorize_override_decision(actor)
    if outcome not in Outcome.values:
        raise InvalidInput("unknown_outcome", f"{outcome!r} is not a decision.", field="outcome")
    if not reason.strip():
        raise InvalidInput("reason_required", "Say why the decision changes.", field="reason")
    return do_override_case_decision(
        case, outcome=outcome, contract=contract, reason=reason.strip(), actor=actor
    )


# --- Time -----------------------------------------------------------------------------------


def authorize_log_time(actor: User) -> None:
    """Logging time, typed or from the timer: staff with ``cases.add_timeentry``."""
    _staff_only(actor, LOG_TIME, "Time is logged by the support team.")


def authorize_change_time(actor: User) -> None:
    _staff_only(actor, CHANGE_TIME, "Time is changed by the support team.")


def _minutes(value: Any) -> int:
    """Whole minutes between 1 and a day: the unit every door sends."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "invalid_minutes", "Give the duration in whole minutes.", field="minutes"
        )
    if not 1 <= value <= MAX_MINUTES:
        raise InvalidInput(
            "invalid_minutes",
            f"The duration must be between 1 and {MAX_MINUTES} minutes.",
            field="minutes",
        )
    return value


def check_log_time(
    actor: User,
    case: Case,
    *,
    minutes: int,
    billable: bool = True,
    work_date: dt.date | None = None,
    started_at: dt.datetime | None = None,
    note: str = "",
) -> TimeEntry:
    """The actor's own work on the case, drawn from its contract when billable."""
    authorize_log_time(actor)
    return do_log_time(
        case,
        agent=actor,
        minutes=_minutes(minutes),
        billable=billable,
        work_date=work_date,
        started_at=started_at,
        note=note,
        actor=actor,
    )


def check_start_timer(actor: User, case: Case) -> RunningTimer:
    authorize_log_time(actor)
    return do_start_timer(case, agent=actor)


def check_stop_timer(actor: User, *, billable: bool = True, note: str = "") -> TimeEntry | None:
    authorize_log_time(actor)
    return do_stop_timer(agent=actor, billable=billable, note=note)


def check_update_time_entry(actor: User, entry: TimeEntry, **changes: Any) -> TimeEntry:
    authorize_change_time(actor)
    if "minutes" in changes:
        changes["minutes"] = _minutes(changes["minutes"])
    return do_update_time_entry(entry, actor=actor, **changes)


def check_delete_time_entry(actor: User, entry: TimeEntry) -> TimeEntry:
    authorize_change_time(actor)
    return do_delete_time_entry(entry, actor=actor)


# --- The survey -----------------------------------------------------------------------------


def authorize_answer_csat(actor: User | None) -> None:
    """The requester's organization answers; ``None`` is the bearer of the signed survey
    link (its door verified the token). Staff never answer for the customer."""
    if actor is not None and is_vendor_staff(actor):
        raise NotPermitted("customers_only", "The survey is answered by the customer.")


def check_answer_csat(
    actor: User | None, case: Case, *, rating: str, comment: str = ""
) -> CsatResponse:
    authorize_answer_csat(actor)
    if rating not in CsatRating.values:
        raise InvalidInput("invalid_rating", "Choose good, neutral or bad.", field="rating")
    return do_answer_csat(case, rating=rating, comment=comment, actor=actor)
