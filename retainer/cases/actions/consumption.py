"""Incidents drawn from a case's contract and credited back to it.

Intake draws on creation-mode contracts; transitions and overrides draw on
resolution-mode ones and credit incidents back on cancel, reopen or a changed decision.
The ledger key is ``case:<id>:incident:v<n>``, so a replay never draws twice.
"""

from __future__ import annotations

from retainer.accounts.models import User
from retainer.cases.actions.common import touch
from retainer.cases.events import (
    CaseConsumptionRefused,
    CaseIncidentConsumed,
    CaseIncidentCredited,
)
from retainer.cases.models import Case, CaseEvent
from retainer.contracts import actions as contract_actions
from retainer.contracts.actions import lock_contract
from retainer.contracts.choices import SourceType
from retainer.lib.errors import DomainError
from retainer.lib.events import record


def draw_incident(
    case: Case, *, actor: User | None, new_case: bool = False
) -> CaseIncidentConsumed | CaseConsumptionRefused:
    """Consume one incident for the case; returns the event saying what happened, for the
    caller to record.

    The caller saves ``incident_version`` / ``incident_consumed`` on the case. For a case
    inserted by this transaction (``new_case``) no entry can carry its key yet. Locks the
    contract row.
    """
    assert case.contract_id is not None  # noqa: S101 - callers check the decision first
    case.incident_version += 1
    try:
        movement = contract_actions.consume_locked(
            lock_contract(case.contract_id),
            quantity=1,
            key=case.incident_key,
            source_type=SourceType.CASE,
            source_id=str(case.pk),
            actor=actor,
            fresh_key=new_case,
            links=(case.pk, None),
        )
    except DomainError as exc:
        # Another case took the last incident between decision and consumption: the case
        # stays stored and visible, the agent sees why nothing was drawn.
        case.incident_version -= 1
        return CaseConsumptionRefused(code=exc.code, detail=exc.detail)
    case.incident_consumed = True
    return CaseIncidentConsumed(
        contract=case.contract_id,
        covered=-movement.entry.quantity,
        overage=movement.entry.overage_quantity,
    )


def consume_incident(case: Case, *, actor: User | None) -> None:
    """Draw the case's incident now (resolution mode, or after an override)."""
    event = draw_incident(case, actor=actor)
    touch(case, ["incident_version", "incident_consumed"])
    record(CaseEvent, event, case=case, actor=actor)


def credit_incident(case: Case, *, actor: User | None, reason: str) -> None:
    """Give the case's incident back to its contract, if one was drawn."""
    if not case.incident_consumed or case.contract_id is None:
        return
    contract_actions.do_reverse_entry(
        case.contract_id, reverses_key=case.incident_key, reason=reason, actor=actor
    )
    case.incident_consumed = False
    touch(case, ["incident_consumed"])
    record(
        CaseEvent,
        CaseIncidentCredited(contract=case.contract_id, reason=reason),
        case=case,
        actor=actor,
    )
