"""The case workflow as data: which status may follow which, and what each move means.

Pure module (no ORM): the actions consult it; the UI shows only allowed buttons.
"""

from __future__ import annotations

import datetime as dt

from retainer.cases.choices import CaseStatus as S
from retainer.lib.errors import Conflict, InvalidInput

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.WAITING_ON_VENDOR, S.RESOLVED, S.CANCELLED}),
    S.OPEN: frozenset({S.WAITING_ON_CUSTOMER, S.WAITING_ON_VENDOR, S.RESOLVED, S.CANCELLED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.OPEN, S.WAITING_ON_VENDOR, S.RESOLVED, S.CANCELLED}),
    S.WAITING_ON_VENDOR: frozenset({S.OPEN, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.OPEN}),  # back to open is a reopen
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Customers may withdraw a case before work starts, hand a waiting case back, and
# close or reopen a resolved one. Resolving is the agent's: it records the root cause.
CUSTOMER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CANCELLED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.OPEN}),
    S.RESOLVED: frozenset({S.CLOSED, S.OPEN}),
}

# What the button that makes each move says.
ACTION_LABELS: dict[str, str] = {
    S.OPEN: "Open",
    S.WAITING_ON_CUSTOMER: "Wait for customer",
    S.WAITING_ON_VENDOR: "Waiting on us",
    S.RESOLVED: "Resolve",
    S.CLOSED: "Close",
    S.CANCELLED: "Cancel case",
}

ACTIVE = frozenset({S.NEW, S.OPEN, S.WAITING_ON_CUSTOMER, S.WAITING_ON_VENDOR})
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.CANCELLED})
REOPEN_WINDOW = dt.timedelta(days=14)


def check_transition(
    current: str,
    target: str,
    *,
    by_customer: bool = False,
    resolved_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    root_cause: str = "",
) -> None:
    """Raise unless ``current`` → ``target`` is allowed: ``InvalidInput`` for a status that
    does not exist or a resolution without a root cause, ``Conflict`` for a move the
    current status (or the reopen window) forbids."""
    if target not in S.values:
        raise InvalidInput("unknown_status", f"{target!r} is not a case status.", field="status")
    allowed = (
        CUSTOMER_TRANSITIONS.get(current, frozenset()) if by_customer else TRANSITIONS[current]
    )
    if target not in allowed:
        raise Conflict(
            "transition_not_allowed",
            f"A case that is {S(current).label.lower()} cannot become {S(target).label.lower()}.",
        )
    reopening = current == S.RESOLVED and target == S.OPEN
    if (
        reopening
        and resolved_at is not None
        and now is not None
        and now - resolved_at > REOPEN_WINDOW
    ):
        raise Conflict(
            "reopen_window_passed",
            f"A case can be reopened within {REOPEN_WINDOW.days} days of its resolution; "
            "please open a new case.",
        )
    if target == S.RESOLVED and not root_cause:
        raise InvalidInput(
            "root_cause_required", "Choose a root cause to resolve the case.", field="root_cause"
        )


def allowed_targets(current: str, *, by_customer: bool = False) -> list[str]:
    table = CUSTOMER_TRANSITIONS if by_customer else TRANSITIONS
    return [s for s in S.values if s in table.get(current, frozenset())]
