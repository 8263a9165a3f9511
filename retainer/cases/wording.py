"""What staff read about a case's coverage and history: the staff wording of an
entitlement decision (customers read the decision's own ``sentence``) and one human
sentence per history event. Pure: plain values in, strings out, no ORM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from retainer.cases.choices import CaseEventType, CaseStatus, ClockKind, RootCause
from retainer.contracts.choices import Channel, Outcome

#: Why no contract applied, as staff read it (the customer's sentence says "your …").
STAFF_REASONS: dict[str, str] = {
    "no_contract": "The organization has no support contract for this product.",
    "contact_inactive": "The contact is deactivated.",
    "contact_other_organization": "The contact belongs to another organization.",
    "other_organization": "The organization has no support contract for this product.",
    "contract_cancelled": "The contract was cancelled.",
    "contract_not_active": "The contract is not active yet.",
    "contract_not_started": "The contract has not started yet.",
    "contract_expired": "The contract has expired.",
    "product_not_covered": "The contract does not cover this product.",
    "channel_not_covered": "The contract does not cover requests by this channel.",
    "contact_not_named": "The contact is not a named contact on the contract.",
    "contact_not_trained": "The contact has not completed the course the contract requires.",
    "allowance_exhausted": "The allowance is used up and the contract blocks further cases.",
}

#: The staff timeline's label of each event type.
EVENT_LABELS: dict[str, str] = {
    CaseEventType.OPENED: "Case opened",
    CaseEventType.DECISION_RECORDED: "Coverage decided",
    CaseEventType.DECISION_OVERRIDDEN: "Decision overridden",
    CaseEventType.INCIDENT_CONSUMED: "Incident drawn",
    CaseEventType.INCIDENT_CREDITED: "Incident credited back",
    CaseEventType.CONSUMPTION_REFUSED: "Consumption refused",
    CaseEventType.STATUS_CHANGED: "Status changed",
    CaseEventType.FIELDS_CHANGED: "Fields changed",
    CaseEventType.ASSIGNED: "Assigned",
    CaseEventType.REPLIED: "Replied",
    CaseEventType.NOTE_ADDED: "Internal note",
    CaseEventType.ATTACHMENT_ADDED: "File attached",
    CaseEventType.TIME_LOGGED: "Time logged",
    CaseEventType.TIME_CHANGED: "Time entry changed",
    CaseEventType.TIME_DELETED: "Time entry withdrawn",
    CaseEventType.DEFECT_LINKED: "Defect linked",
    CaseEventType.FIX_AVAILABLE: "Fix available",
    CaseEventType.CONTRACT_CHANGED: "Contract changed",
    CaseEventType.CSAT_ANSWERED: "Survey answered",
    CaseEventType.SLA_STARTED: "SLA started",
    CaseEventType.SLA_WARNING: "SLA warning",
    CaseEventType.SLA_BREACHED: "SLA breached",
    CaseEventType.SLA_MET: "SLA met",
    CaseEventType.SLA_PAUSED: "SLA paused",
    CaseEventType.SLA_RESUMED: "SLA resumed",
}


def minutes_text(minutes: int) -> str:
    """ "1 minute", "45 minutes"."""
    return f"{minutes} minute{'' if abs(minutes) == 1 else 's'}"


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value or "—"))


def staff_decision_text(
    *, outcome: str, reason: str, contract: int | None, offering_kind: str = ""
) -> str:
    """The decision as an agent needs it: which contract, or why none applies."""
    if outcome == Outcome.COVERED:
        return f"Covered by contract #{contract}."
    if outcome == Outcome.COVERED_BILLABLE:
        return (
            f"Covered by contract #{contract} and billable: the allowance is used up "
            "or the contract is pay-as-you-go, so the work is billed at the overage rate."
        )
    if outcome == Outcome.WARRANTY:
        return f"Covered by the warranty of contract #{contract}."
    if outcome == Outcome.OUT_OF_SCOPE:
        offer = f"; offer the {offering_kind.replace('_', ' ')} service" if offering_kind else ""
        return f"Out of the scope of support ({reason.replace('_', ' ')}){offer}."
    return "Not entitled: " + STAFF_REASONS.get(reason, reason.replace("_", " ") + ".")


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _clock(data: Mapping[str, Any]) -> str:
    text = _label(ClockKind.choices, data.get("clock"))
    due = _when(data.get("due_at"))
    return f"{text}, due {due}" if due else text


def _time_logged(data: Mapping[str, Any], note: str) -> str:
    text = minutes_text(data.get("minutes", 0))
    if data.get("billable"):
        text += f", billable ({minutes_text(data.get('covered', 0))} covered"
        text += f", {minutes_text(data['overage'])} overage)" if data.get("overage") else ")"
    else:
        text += ", not billable"
    return f"{text}: “{note}”" if note else text


def _changes(data: Mapping[str, Any]) -> str:
    changed = {k: v for k, v in data.items() if isinstance(v, dict)}
    return ", ".join(f"{k.replace('_', ' ')}: {v['old']} → {v['new']}" for k, v in changed.items())


def _overridden(data: Mapping[str, Any]) -> str:
    old, new = (
        _label(Outcome.choices, data["old_outcome"]),
        _label(Outcome.choices, data["new_outcome"]),
    )
    return f"{old} → {new}: {data['reason']}"


def _status(data: Mapping[str, Any]) -> str:
    old, new = (
        _label(CaseStatus.choices, data.get("old")),
        _label(CaseStatus.choices, data.get("new")),
    )
    text = f"{old} → {new}"
    cause = data.get("root_cause")
    return f"{text} (root cause: {_label(RootCause.choices, cause)})" if cause else text


_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    CaseEventType.OPENED: lambda d: (
        f"by {_label(Channel.choices, d.get('channel')).lower()}"
        + (f", severity {d['severity']}" if d.get("severity") else "")
    ),
    CaseEventType.DECISION_RECORDED: lambda d: staff_decision_text(
        outcome=d["outcome"], reason=d["reason"], contract=d.get("contract")
    ),
    CaseEventType.DECISION_OVERRIDDEN: _overridden,
    CaseEventType.INCIDENT_CONSUMED: lambda d: (
        f"from contract #{d['contract']}" + (", billed as overage" if d.get("overage") else "")
    ),
    CaseEventType.INCIDENT_CREDITED: lambda d: f"to contract #{d['contract']}",
    CaseEventType.CONSUMPTION_REFUSED: lambda d: str(d.get("detail") or d.get("code", "")),
    CaseEventType.STATUS_CHANGED: _status,
    CaseEventType.FIELDS_CHANGED: _changes,
    CaseEventType.TIME_CHANGED: _changes,
    CaseEventType.ASSIGNED: lambda d: d.get("assignee_name") or "nobody",
    CaseEventType.ATTACHMENT_ADDED: lambda d: str(d.get("file_name", "")),
    CaseEventType.DEFECT_LINKED: lambda d: f"defect #{d['new']}",
    CaseEventType.FIX_AVAILABLE: lambda d: f"in release {d['release']}",
    CaseEventType.CONTRACT_CHANGED: lambda d: (
        f"#{d.get('old_contract') or '—'} → #{d.get('new_contract') or '—'}"
    ),
    CaseEventType.CSAT_ANSWERED: lambda d: _label([], d.get("rating")),
    CaseEventType.SLA_STARTED: _clock,
    CaseEventType.SLA_WARNING: _clock,
    CaseEventType.SLA_BREACHED: _clock,
    CaseEventType.SLA_MET: _clock,
}


def event_summary(event_type: str, data: Mapping[str, Any], *, note: str = "") -> str:
    """What the staff timeline says after an event's label (``note``: the time entry's
    note, for time logged)."""
    if event_type == CaseEventType.TIME_LOGGED:
        return _time_logged(data, note)
    summary = _SUMMARIES.get(event_type)
    try:
        return summary(data) if summary is not None else ""
    except (KeyError, TypeError):  # a row older than its event's current shape
        return ""
