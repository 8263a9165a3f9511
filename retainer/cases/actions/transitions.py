"""Moving a case through the workflow, changing its fields, overriding its decision."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Team, User
from retainer.cases import workflow
from retainer.cases.actions.clocks import clocks_after_transition
from retainer.cases.actions.common import CONSUMING_OUTCOMES, decrement_point, lock_case, touch
from retainer.cases.actions.consumption import consume_incident, credit_incident
from retainer.cases.choices import CaseStatus
from retainer.cases.events import (
    CaseAssigned,
    CaseDecisionOverridden,
    CaseFieldsChanged,
    CaseStatusChanged,
)
from retainer.cases.models import Case, CaseEvent
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import DecrementPoint
from retainer.contracts.models import Contract
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.models import apply_changes


@transaction.atomic
def do_transition_case(
    case: Case,
    target: str,
    *,
    actor: User | None,
    root_cause: str = "",
    by_customer: bool = False,
) -> Case:
    """Move the case to ``target`` if the workflow allows it, with the ledger effects:
    resolution-mode incidents are consumed on resolve and credited back on reopen;
    creation-mode incidents are credited back on cancel. Never blocked by the balance."""
    case = lock_case(case)
    now = timezone.now()
    workflow.check_transition(
        case.status,
        target,
        by_customer=by_customer,
        resolved_at=case.resolved_at,
        now=now,
        root_cause=root_cause or case.root_cause,
    )
    old = case.status
    case.status = target
    fields = ["status"]
    point = decrement_point(case) if case.entitlement in CONSUMING_OUTCOMES else None
    if target == CaseStatus.RESOLVED:
        case.resolved_at = now
        if root_cause:
            case.root_cause = root_cause
            case.full_clean(exclude=["decision"])
        fields += ["resolved_at", "root_cause"]
    elif target == CaseStatus.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    elif old == CaseStatus.RESOLVED and target == CaseStatus.OPEN:
        case.resolved_at = None
        fields.append("resolved_at")
    touch(case, fields)
    changed = CaseStatusChanged(old=old, new=target, root_cause=case.root_cause)
    record(CaseEvent, changed, case=case, actor=actor)
    clocks_after_transition(case, old, target, at=now, actor=actor)
    _ledger_after_transition(case, old, target, point, actor=actor)
    return case


def _ledger_after_transition(
    case: Case, old: str, target: str, point: str | None, *, actor: User | None
) -> None:
    """Resolution-mode incidents are drawn on resolve and credited on reopen;
    creation-mode ones are credited on cancel."""
    if (
        target == CaseStatus.RESOLVED
        and point == DecrementPoint.CASE_RESOLUTION
        and not case.incident_consumed
    ):
        consume_incident(case, actor=actor)
    elif (
        old == CaseStatus.RESOLVED
        and target == CaseStatus.OPEN
        and point == DecrementPoint.CASE_RESOLUTION
    ):
        credit_incident(case, actor=actor, reason="case reopened")
    elif target == CaseStatus.CANCELLED and point == DecrementPoint.CASE_CREATION:
        credit_incident(case, actor=actor, reason="case cancelled")


AGENT_FIELDS = ("severity", "priority", "type", "category", "tags", "subject", "queue", "assignee")


@transaction.atomic
def do_update_case(case: Case, *, actor: User | None, **changes: Any) -> Case:
    case = lock_case(case)
    if "assignee" in changes and changes["assignee"] is not None:
        assignee = changes["assignee"]
        if not (assignee.is_staff and assignee.is_active):
            raise ValidationError({"assignee": "Cases are assigned to active vendor staff."})
    if (
        "queue" in changes
        and changes["queue"] is not None
        and not isinstance(changes["queue"], Team)
    ):
        raise ValidationError({"queue": "Choose a team."})
    diff = apply_changes(case, changes, allowed=AGENT_FIELDS)
    if diff:
        case.full_clean(exclude=["decision"])
        touch(case, diff.keys())
        record(CaseEvent, _update_event(case, diff), case=case, actor=actor)
    return case


def _update_event(case: Case, diff: dict[str, dict[str, Any]]) -> CaseAssigned | CaseFieldsChanged:
    """A change of the assignee alone is an assignment; anything else changes fields."""
    if set(diff) == {"assignee"}:
        assignee = case.assignee
        return CaseAssigned(
            assignee=assignee.pk if assignee else None,
            assignee_name=assignee.full_name if assignee else "",
            previous=diff["assignee"]["old"],
        )
    return CaseFieldsChanged(
        **{("case_type" if field == "type" else field): change for field, change in diff.items()}
    )


@transaction.atomic
def do_override_case_decision(
    case: Case, *, outcome: str, contract: Contract | None, reason: str, actor: User | None
) -> Case:
    """An agent's override of the intake decision. Moves the incident with it: credited on
    the old contract, consumed on the new one when that one decrements on creation."""
    case = lock_case(case)
    if case.decision is None:
        raise Conflict("no_decision", "This case has no recorded decision.")
    if contract is not None and contract.organization_id != case.organization_id:
        raise ValidationError({"contract": "The contract belongs to another organization."})
    contract_actions.do_override_decision(
        case.decision, new_outcome=outcome, contract=contract, reason=reason, actor=actor
    )
    overridden = CaseDecisionOverridden(
        old_outcome=case.entitlement,
        old_contract=case.contract_id,
        new_outcome=outcome,
        new_contract=contract.pk if contract else None,
        reason=reason,
    )
    if case.incident_consumed and (
        contract is None or contract.pk != case.contract_id or outcome not in CONSUMING_OUTCOMES
    ):
        credit_incident(case, actor=actor, reason="decision overridden")
    case.entitlement = outcome
    case.contract = contract
    touch(case, ["entitlement", "contract"])
    record(CaseEvent, overridden, case=case, actor=actor)
    point = decrement_point(case) if outcome in CONSUMING_OUTCOMES else None
    due_now: dict[str, bool] = {
        DecrementPoint.CASE_CREATION: case.status != CaseStatus.CANCELLED,
        DecrementPoint.CASE_RESOLUTION: case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
    }
    if point is not None and due_now.get(point, False) and not case.incident_consumed:
        consume_incident(case, actor=actor)
    return case
