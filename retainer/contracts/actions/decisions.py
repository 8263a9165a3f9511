"""Training records, entitlement decisions (taken, recorded) and their overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.catalog.models import Environment, Product, Release
from retainer.catalog.selectors import release_facts, scope_facts_for_product
from retainer.contracts import entitlement
from retainer.contracts.choices import AuthorizationPolicy, Outcome
from retainer.contracts.events import DecisionOverridden, TrainingRecorded
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    EntitlementDecision,
    TrainingRecord,
)
from retainer.contracts.selectors import Candidate, candidate_contracts, contact_facts
from retainer.lib import compiled
from retainer.lib.events import record
from retainer.lib.models import save_validated

# --- Training, decisions -------------------------------------------------------------------


@transaction.atomic
def do_record_training(
    *, contact: Contact, course: str, completed_on: dt.date, actor: User | None
) -> TrainingRecord:
    if completed_on > timezone.now().date():
        raise ValidationError({"completed_on": "A training cannot be completed in the future."})
    training = TrainingRecord(contact=contact, course=course.strip(), completed_on=completed_on)
    save_validated(training)
    recorded = TrainingRecorded(
        contact=contact.pk, course=training.course, completed_on=completed_on.isoformat()
    )
    record(ContractEvent, recorded, actor=actor)
    return training


@transaction.atomic
def do_certify_training(
    *,
    contact: Contact,
    course: str,
    completed_on: dt.date,
    expires_on: dt.date | None,
    certificate: str = "",
    actor: User | None,
) -> TrainingRecord:
    """Record that ``contact`` completed ``course`` on ``completed_on``, valid until
    ``expires_on`` (``None``: never expires): a new record, or the contact's record of the
    course (whatever its case) renewed with these dates and certificate. A completion
    older than the one on record changes nothing and returns the record."""
    if completed_on > timezone.now().date():
        raise ValidationError({"completed_on": "A training cannot be completed in the future."})
    course = course.strip()
    training = (
        TrainingRecord.objects.select_for_update()
        .filter(contact=contact, course__iexact=course)
        .first()
    )
    renewed = training is not None
    if training is None:
        training = TrainingRecord(contact=contact, course=course)
    elif completed_on < training.completed_on:
        return training
    training.completed_on, training.expires_on = completed_on, expires_on
    training.certificate = certificate
    save_validated(training)
    recorded = TrainingRecorded(
        contact=contact.pk,
        course=training.course,
        completed_on=completed_on.isoformat(),
        expires_on=expires_on.isoformat() if expires_on is not None else None,
        certificate=certificate,
        renewed=renewed,
    )
    record(ContractEvent, recorded, actor=actor)
    return training


def decide_for(
    *,
    contact: Contact,
    product: Product,
    channel: str,
    on: dt.date,
    release: Release | None = None,
    environment: Environment | None = None,
    modified_source: bool = False,
    third_party: bool = False,
    candidates: list[Candidate] | None = None,
) -> tuple[entitlement.Decision, entitlement.Request]:
    """Load the facts and take the decision; reads only, writes nothing (recording it is
    ``do_record_decision``).

    ``candidates`` may be given when the caller loaded them (to keep the rows)."""
    if candidates is None:
        candidates = candidate_contracts(organization_id=contact.organization_id)
    facts = [c.facts for c in candidates]
    needs_courses = any(c.authorization_policy == AuthorizationPolicy.TRAINED for c in facts)
    request = entitlement.Request(
        contact=contact_facts(contact, with_courses=needs_courses, on=on),
        organization_id=contact.organization_id,
        product_id=product.pk,
        channel=channel,
        on=on,
        release=release_facts(release) if release is not None else None,
        environment_id=environment.pk if environment is not None else None,
        modified_source=modified_source,
        third_party=third_party,
    )
    policy, releases = scope_facts_for_product(product)
    decision = entitlement.decide(request, facts, policy=policy, releases=releases)
    return decision, request


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
    decision_row = EntitlementDecision(
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
    return compiled.insert(decision_row)  # one per intake: compiled once


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
    overridden = DecisionOverridden(
        old=old,
        new={"outcome": new_outcome, "contract": contract.pk if contract else None},
        reason=row.override_reason,
    )
    record(ContractEvent, overridden, decision=row, contract=contract, actor=actor)
    return row
