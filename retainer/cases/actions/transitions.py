"""Moving a case through the workflow, changing its fields, overriding its decision."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Team, User
from retainer.cases import workflow
from retainer.cases.actions.clocks import clocks_after_transition
from retainer.cases.actions.common import (
    CONSUMING_OUTCOMES,
    CaseError,
    decrement_point,
    lock_case,
    record_case_event,
    touch,
)
from retainer.cases.actions.intake import consume_incident, credit_incident
from retainer.cases.choices import (
    CaseEventType,
    CaseStatus,
)
from retainer.cases.models import (
    Case,
)
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import DecrementPoint
from retainer.contracts.models import Contract
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
    try:
        workflow.check_transition(
            case.status,
            target,
            by_customer=by_customer,
            resolved_at=case.resolved_at,
            now=now,
            root_cause=root_cause or case.root_cause,
        )
    except workflow.TransitionError as exc:
        raise CaseError(exc.code, exc.detail) from None
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
    record_case_event(
        case,
        CaseEventType.STATUS_CHANGED,
        actor=actor,
        old=old,
        new=target,
        root_cause=case.root_cause,
    )
    clocks_after_transition(case, old, target, at=now, actor=actor)
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
    return case


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
        event = (
            CaseEventType.ASSIGNED if set(diff) == {"assignee"} else CaseEventType.FIELDS_CHANGED
        )
        record_case_event(case, event, actor=actor, changes=diff)
    return case


@transaction.atomic
def do_override_case_decision(
    case: Case, *, outcome: str, contract: Contract | None, reason: str, actor: User | None
) -> Case:
    """An agent's override of the intake decision. Moves the incident with it: credited on
    the old contract, consumed on the new one when that one decrements on creation."""
    case = lock_case(case)
    if case.decision is None:
        raise CaseError("no_decision", "This case has no recorded decision.")
    if contract is not None and contract.organization_id != case.organization_id:
        raise ValidationError({"contract": "The contract belongs to another organization."})
    contract_actions.do_override_decision(
        case.decision, new_outcome=outcome, contract=contract, reason=reason, actor=actor
    )
    old = {"outcome": case.entitlement, "contract": case.contract_id}
    if case.incident_consumed and (
        contract is None or contract.pk != case.contract_id or outcome not in CONSUMING_OUTCOMES
    ):
        credit_incident(case, actor=actor, reason="decision overridden")
    case.entitlement = outcome
    case.contract = contract
    touch(case, ["entitlement", "contract"])
    record_case_event(
        case,
        CaseEventType.DECISION_OVERRIDDEN,
        actor=actor,
        old=old,
        new={"outcome": outcome, "contract": contract.pk if contract else None},
        reason=reason,
    )
    point = decrement_point(case) if outcome in CONSUMING_OUTCOMES else None
    due_now: dict[str, bool] = {
        DecrementPoint.CASE_CREATION: case.status != CaseStatus.CANCELLED,
        DecrementPoint.CASE_RESOLUTION: case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
    }
    if point is not None and due_now.get(point, False) and not case.incident_consumed:
        consume_incident(case, actor=actor)
    return case
