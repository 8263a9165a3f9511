"""The typed events of a case's history (``CaseEvent`` rows), one class per type.

Each class is the payload of one ``CaseEventType``: writers build it and record it with
``retainer.lib.events.record`` (the history row and its outbox message, in the action's
transaction); readers get it back with ``retainer.lib.events.parse``.

``customer_fields`` is what the case's customer may read of an event (the API's events
endpoint and the portal's timeline render nothing else); ids of staff, contracts,
defects and time entries, priorities, tags, categories and agents' reasons stay with
staff. A row marked ``is_internal`` is not shown to customers at all, whatever its type.

Ids are ints, times ISO strings. A change of one field is ``{"old": …, "new": …}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from retainer.cases.choices import CaseEventType
from retainer.lib.events import Event

#: One field's change: ``{"old": value, "new": value}``.
Change = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class CaseEventBase(Event):
    """Every event of a case's history."""

    history = "cases.caseevent"


def _unnest_changes(data: Mapping[str, Any]) -> dict[str, Any]:
    """Rows written before the changed fields were explicit kept them under ``changes``."""
    if "changes" not in data:
        return dict(data)
    flat = {key: value for key, value in data.items() if key != "changes"}
    return {**dict(data["changes"] or {}), **flat}


# --- Intake and the entitlement decision ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseOpened(CaseEventBase):
    """A case was opened, through one channel, with its severity."""

    name = "case.opened"
    type = CaseEventType.OPENED
    customer_fields = frozenset({"channel", "severity"})

    channel: str
    severity: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseDecisionRecorded(CaseEventBase):
    """The entitlement decision taken at intake (the contract it chose is staff-only)."""

    name = "case.decision_recorded"
    type = CaseEventType.DECISION_RECORDED
    customer_fields = frozenset({"outcome", "reason", "sentence"})

    outcome: str
    reason: str
    sentence: str
    contract: int | None
    channel: str = ""  # how the case came in (rows written before it was added: empty)


@dataclass(frozen=True, kw_only=True)
class CaseDecisionOverridden(CaseEventBase):
    """An agent overrode the decision; the customer learns the outcome, not the reason."""

    name = "case.decision_overridden"
    type = CaseEventType.DECISION_OVERRIDDEN
    customer_fields = frozenset({"old_outcome", "new_outcome"})

    old_outcome: str
    old_contract: int | None
    new_outcome: str
    new_contract: int | None
    reason: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        if "old" in data or "new" in data:  # rows written as {"old": {…}, "new": {…}}
            old, new = data.get("old") or {}, data.get("new") or {}
            data = {
                "old_outcome": old.get("outcome", ""),
                "old_contract": old.get("contract"),
                "new_outcome": new.get("outcome", ""),
                "new_contract": new.get("contract"),
                "reason": data.get("reason", ""),
            }
        return super().from_data(data)


@dataclass(frozen=True, kw_only=True)
class CaseIncidentConsumed(CaseEventBase):
    """One incident was drawn from the case's contract (covered, or beyond it: overage)."""

    name = "case.incident_consumed"
    type = CaseEventType.INCIDENT_CONSUMED
    customer_fields = frozenset({"covered", "overage"})

    contract: int
    covered: int
    overage: int


@dataclass(frozen=True, kw_only=True)
class CaseIncidentCredited(CaseEventBase):
    """The case's incident went back to its contract (cancelled, reopened, overridden)."""

    name = "case.incident_credited"
    type = CaseEventType.INCIDENT_CREDITED

    contract: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class CaseConsumptionRefused(CaseEventBase):
    """The contract refused a consumption (the allowance ran out meanwhile); nothing was
    drawn. ``entry`` is the time entry when time was being drawn."""

    name = "case.consumption_refused"
    type = CaseEventType.CONSUMPTION_REFUSED

    code: str
    detail: str = ""
    entry: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseContractChanged(CaseEventBase):
    """The case moved to another contract."""

    name = "case.contract_changed"
    type = CaseEventType.CONTRACT_CHANGED

    old_contract: int | None
    new_contract: int | None
    reason: str = ""


# --- The workflow and the case's fields -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseStatusChanged(CaseEventBase):
    """The case moved from one status to another (with its root cause once resolved)."""

    name = "case.status_changed"
    type = CaseEventType.STATUS_CHANGED
    customer_fields = frozenset({"old", "new", "root_cause"})

    old: str
    new: str
    root_cause: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseFieldsChanged(CaseEventBase):
    """Agents changed the case's fields; each changed one is ``{"old", "new"}``, the
    others ``None``. Customers see only what their own case view shows."""

    name = "case.fields_changed"
    type = CaseEventType.FIELDS_CHANGED
    customer_fields = frozenset({"severity", "case_type", "subject"})

    severity: Change | None = None
    priority: Change | None = None
    case_type: Change | None = None  # the case's ``type`` field
    category: Change | None = None
    tags: Change | None = None
    subject: Change | None = None
    queue: Change | None = None
    assignee: Change | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        flat = _unnest_changes(data)
        if "type" in flat:  # the case's type, as older rows named it
            flat["case_type"] = flat.pop("type")
        return super().from_data(flat)


@dataclass(frozen=True, kw_only=True)
class CaseAssigned(CaseEventBase):
    """The case got another assignee (or none); customers see the name only."""

    name = "case.assigned"
    type = CaseEventType.ASSIGNED
    customer_fields = frozenset({"assignee_name"})

    assignee: int | None
    assignee_name: str = ""
    previous: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        if "changes" in data:  # rows written as {"changes": {"assignee": {"old", "new"}}}
            change = (data["changes"] or {}).get("assignee") or {}
            data = {"assignee": change.get("new"), "previous": change.get("old")}
        return super().from_data(data)


@dataclass(frozen=True, kw_only=True)
class CaseDefectLinked(CaseEventBase):
    """The case was linked to a defect (``old`` is the defect it was linked to before)."""

    name = "case.defect_linked"
    type = CaseEventType.DEFECT_LINKED

    old: int | None
    new: int


@dataclass(frozen=True, kw_only=True)
class CaseFixAvailable(CaseEventBase):
    """The defect linked to the case is fixed in a release."""

    name = "case.fix_available"
    type = CaseEventType.FIX_AVAILABLE
    customer_fields = frozenset({"release"})

    defect: int
    release: str  # the release's version


# --- The conversation -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseReplied(CaseEventBase):
    """A public reply, by the customer or by staff."""

    name = "case.replied"
    type = CaseEventType.REPLIED
    customer_fields = frozenset({"message"})

    message: int


@dataclass(frozen=True, kw_only=True)
class CaseNoteAdded(CaseEventBase):
    """An internal note by staff."""

    name = "case.note_added"
    type = CaseEventType.NOTE_ADDED

    message: int


@dataclass(frozen=True, kw_only=True)
class CaseAttachmentAdded(CaseEventBase):
    """A file was added to the case (its row says whether it is internal)."""

    name = "case.attachment_added"
    type = CaseEventType.ATTACHMENT_ADDED
    customer_fields = frozenset({"attachment", "file_name", "size"})

    attachment: int
    file_name: str  # the display name
    size: int  # bytes

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        if "name" in data and "file_name" not in data:  # as older rows named it
            data = {**data, "file_name": data["name"]}
        return super().from_data(data)


@dataclass(frozen=True, kw_only=True)
class CaseCsatAnswered(CaseEventBase):
    """The customer answered the satisfaction survey."""

    name = "case.csat_answered"
    type = CaseEventType.CSAT_ANSWERED
    customer_fields = frozenset({"rating"})

    rating: str


# --- Time -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseTimeLogged(CaseEventBase):
    """An agent logged minutes; ``covered`` and ``overage`` are what the contract drew."""

    name = "case.time_logged"
    type = CaseEventType.TIME_LOGGED

    entry: int
    minutes: int
    billable: bool
    covered: int
    overage: int


@dataclass(frozen=True, kw_only=True)
class CaseTimeChanged(CaseEventBase):
    """A time entry was changed; each changed field is ``{"old", "new"}``."""

    name = "case.time_changed"
    type = CaseEventType.TIME_CHANGED

    entry: int
    minutes: Change | None = None
    billable: Change | None = None
    note: Change | None = None
    work_date: Change | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        return super().from_data(_unnest_changes(data))


@dataclass(frozen=True, kw_only=True)
class CaseTimeDeleted(CaseEventBase):
    """A time entry was withdrawn (its consumption reversed; the row stays)."""

    name = "case.time_deleted"
    type = CaseEventType.TIME_DELETED

    entry: int


# --- SLA clocks -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CaseSlaStarted(CaseEventBase):
    """An SLA clock started; ``due_at`` is ISO (none while paused)."""

    name = "case.sla_started"
    type = CaseEventType.SLA_STARTED

    clock: str
    due_at: str | None


@dataclass(frozen=True, kw_only=True)
class CaseSlaWarning(CaseEventBase):
    """An SLA clock reached its warning time."""

    name = "case.sla_warning"
    type = CaseEventType.SLA_WARNING

    clock: str
    due_at: str | None


@dataclass(frozen=True, kw_only=True)
class CaseSlaBreached(CaseEventBase):
    """An SLA clock passed its due time."""

    name = "case.sla_breached"
    type = CaseEventType.SLA_BREACHED

    clock: str
    due_at: str | None


@dataclass(frozen=True, kw_only=True)
class CaseSlaMet(CaseEventBase):
    """An SLA clock stopped before its due time."""

    name = "case.sla_met"
    type = CaseEventType.SLA_MET

    clock: str


@dataclass(frozen=True, kw_only=True)
class CaseSlaPaused(CaseEventBase):
    """The clocks stopped running: the case waits on the customer."""

    name = "case.sla_paused"
    type = CaseEventType.SLA_PAUSED


@dataclass(frozen=True, kw_only=True)
class CaseSlaResumed(CaseEventBase):
    """The clocks run again."""

    name = "case.sla_resumed"
    type = CaseEventType.SLA_RESUMED


@dataclass(frozen=True, kw_only=True)
class CaseSlaActionTaken(CaseEventBase):
    """A clock's warning or breach did what its target says; ``detail`` is the outcome.

    ``moment`` is ``warning`` or ``breached``, ``action`` an ``SlaAction``."""

    name = "case.sla_action_taken"
    type = CaseEventType.SLA_ACTION_TAKEN

    clock: str
    moment: str  # "warning" or "breached"
    action: str
    detail: str
