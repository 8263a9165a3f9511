"""Training records, recorded entitlement decisions and their overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.contracts import entitlement
from retainer.contracts.actions.common import record_contract_event
from retainer.contracts.choices import (
    ContractEventType,
    Outcome,
)
from retainer.contracts.models import (
    Contract,
    EntitlementDecision,
    TrainingRecord,
)
from retainer.lib.models import save_validated

# --- Training, decisions -------------------------------------------------------------------


@transaction.atomic
def do_record_training(
    *, contact: Contact, course: str, completed_on: dt.date, actor: User | None
) -> TrainingRecord:
    if completed_on > timezone.now().date():
        raise ValidationError({"completed_on": "A training cannot be completed in the future."})
    record = TrainingRecord(contact=contact, course=course.strip(), completed_on=completed_on)
    save_validated(record)
    record_contract_event(
        ContractEventType.TRAINING_RECORDED,
        actor=actor,
        data={"contact": contact.pk, "course": record.course, "completed_on": str(completed_on)},
    )
    return record


def decision_json(decision: entitlement.Decision) -> list[dict[str, Any]]:
    return [
        {
            "contract": c.contract_id,
            "eligible": c.eligible,
            "reason": c.reason,
            "billable": c.billable,
        }
        for c in decision.considered
    ]


def do_record_decision(
    decision: entitlement.Decision,
    request: entitlement.Request,
    *,
    source_type: str,
    source_id: str = "",
    actor: User | None,
) -> EntitlementDecision:
    """Store a decision taken by ``entitlement.decide`` (nothing is consumed here).

    The row is its own record (who, when, what was considered); no contract event
    repeats it, so a contract's history is not one line per case.
    """
    return EntitlementDecision.objects.create(
        source_type=source_type,
        source_id=source_id,
        organization_id=request.organization_id,
        contact_id=request.contact.id,
        product_id=request.product_id,
        channel=request.channel,
        decided_on=request.on,
        outcome=decision.outcome,
        reason=decision.reason,
        offering_kind=decision.offering_kind,
        sentence=decision.sentence,
        contract_id=decision.contract_id,
        considered=decision_json(decision),
        facts={
            "release": request.release.id if request.release else None,
            "environment": request.environment_id,
            "modified_source": request.modified_source,
            "third_party": request.third_party,
            "scope_findings": list(decision.scope_findings),
        },
        created_by=actor,
    )


@transaction.atomic
def do_override_decision(
    decision: EntitlementDecision,
    *,
    new_outcome: str,
    contract: Contract | None,
    reason: str,
    actor: User | None,
) -> EntitlementDecision:
    """An agent's override with a reason; the computed outcome is kept beside it."""
    if new_outcome not in Outcome.values:
        raise ValidationError({"new_outcome": f"Unknown outcome {new_outcome!r}."})
    if not reason.strip():
        raise ValidationError({"reason": "An override needs a reason."})
    if contract is not None and contract.organization_id != decision.organization_id:
        raise ValidationError({"contract": "The contract belongs to another organization."})
    if new_outcome in (Outcome.COVERED, Outcome.COVERED_BILLABLE, Outcome.WARRANTY) and (
        contract is None
    ):
        raise ValidationError({"contract": "A covering outcome names the contract."})
    row = EntitlementDecision.objects.select_for_update().get(pk=decision.pk)
    old = {"outcome": row.effective_outcome, "contract": row.effective_contract_id}
    row.override_outcome = new_outcome
    row.override_contract = contract
    row.override_reason = reason.strip()
    row.overridden_by = actor
    row.overridden_at = timezone.now()
    row.save(
        update_fields=[
            "override_outcome",
            "override_contract",
            "override_reason",
            "overridden_by",
            "overridden_at",
        ]
    )
    record_contract_event(
        ContractEventType.DECISION_OVERRIDDEN,
        actor=actor,
        decision=row,
        contract=contract,
        data={
            "old": old,
            "new": {"outcome": new_outcome, "contract": contract.pk if contract else None},
            "reason": row.override_reason,
        },
    )
    return row
