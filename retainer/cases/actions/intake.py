"""Opening a case: the checks and the entitlement decision (reads), then the writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.cases.actions.clocks import clock_started_events, new_clocks
from retainer.cases.actions.common import INTAKE_RELATIONS, decrement_point
from retainer.cases.actions.consumption import draw_incident
from retainer.cases.choices import CaseType, ClockKind, Priority, Severity
from retainer.cases.events import (
    CaseConsumptionRefused,
    CaseDecisionRecorded,
    CaseIncidentConsumed,
    CaseOpened,
)
from retainer.cases.models import Case, CaseEvent, SlaTarget
from retainer.cases.selectors import sla_target_for
from retainer.catalog.models import Environment, Product, Release
from retainer.contracts import actions as contract_actions
from retainer.contracts import entitlement
from retainer.contracts.actions import decide_for
from retainer.contracts.choices import DecrementPoint, SourceType
from retainer.contracts.selectors import candidate_contracts
from retainer.lib import compiled
from retainer.lib.events import Event, record_many
from retainer.lib.sanitize import clean_line


def _check_intake(
    contact: Contact, product: Product, release: Release | None, subject: str, description: str
) -> None:
    errors: dict[str, str] = {}
    if not contact.is_active:
        errors["contact"] = "This contact is deactivated."
    if not product.is_active:
        errors["product"] = "This product is no longer supported."
    if release is not None and release.product_id != product.pk:
        errors["release"] = f"Release {release.version} belongs to another product."
    if not subject.strip():
        errors["subject"] = "A case needs a subject."
    if not description.strip():
        errors["description"] = "Describe the problem or the question."
    if errors:
        raise ValidationError(errors)


@dataclass
class IntakePlan:
    """What intake reads before it writes: the checked, unsaved case, the decision, and
    the SLA target. Taken outside the write transaction, so concurrent intakes only take
    turns for the writes."""

    case: Case
    decision: entitlement.Decision
    request: entitlement.Request
    inputs: dict[str, Any]
    sla_target: SlaTarget | None


def plan_intake(
    *,
    contact: Contact,
    product: Product,
    subject: str,
    description: str,
    channel: str,
    release: Release | None = None,
    environment: Environment | None = None,
    type: str = CaseType.QUESTION,
    severity: int = Severity.MEDIUM,
    priority: str = Priority.NORMAL,
    modified_source: bool = False,
    third_party: bool = False,
    actor: User | None,
) -> IntakePlan:
    """Check the request and take the entitlement decision; reads only."""
    _check_intake(contact, product, release, subject, description)
    now = timezone.now()
    inputs: dict[str, Any] = {
        "contact": contact,
        "product": product,
        "channel": channel,
        "release": release,
        "environment": environment,
        "modified_source": modified_source,
        "third_party": third_party,
    }
    candidates = candidate_contracts(organization_id=contact.organization_id)
    decision, request = decide_for(on=timezone.localdate(now), candidates=candidates, **inputs)
    case = Case(
        organization_id=contact.organization_id,
        contact=contact,
        product=product,
        release=release,
        environment=environment,
        channel=channel,
        type=type,
        severity=severity,
        priority=priority,
        # One plain display line: no control, bidi or zero-width characters, whatever the
        # channel it came through.
        subject=clean_line(subject, max_length=200),
        description=description,
        modified_source=modified_source,
        third_party=third_party,
        opened_by=actor,
        created_at=now,
        updated_at=now,
        entitlement=decision.outcome,
        # The row the decision read: its terms decide the decrement point and the SLA.
        contract=next(
            (c.contract for c in candidates if c.contract.pk == decision.contract_id), None
        ),
    )
    # The related objects were loaded and checked above; validate the plain fields only
    # (re-checking every foreign key would cost one query each on the hottest write path).
    case.full_clean(exclude=[*INTAKE_RELATIONS, "decision", "public_id"], validate_unique=False)
    return IntakePlan(case, decision, request, inputs, sla_target_for(case))


def do_open_case(plan: IntakePlan, *, actor: User | None) -> Case:
    """Store the case planned by ``plan_intake``, record the entitlement decision, and
    consume an incident when the covering contract decrements on creation.

    The reads (checks, decision) were taken by ``plan_intake``, outside the write
    transaction. If the allowance ran out in between, the decision is taken again inside
    the transaction, so the recorded decision is always the one that was applied. The
    case is always stored, whatever the decision: a case that is not entitled or out of
    scope is answered with the reason and the offer. Who may open which case is
    ``check_open_case``'s to say.
    """
    # No savepoint when called inside a transaction: a failure fails the caller's too.
    with transaction.atomic(savepoint=False):
        return _store_intake(plan, actor=actor)


def _store_intake(plan: IntakePlan, *, actor: User | None) -> Case:
    case = plan.case
    now = case.created_at
    # Validated by plan_intake; the statements of this function are compiled once
    # (``lib/compiled.py``): intake throughput is benchmarked.
    compiled.insert(case)
    decision, drawn = _apply_decision(plan, actor=actor)
    case.decision = contract_actions.do_record_decision(
        decision, plan.request, source_type=SourceType.CASE, source_id=str(case.pk), actor=actor
    )
    compiled.update(
        case, ["decision", "incident_version", "incident_consumed", "entitlement", "contract"]
    )
    clocks = new_clocks(
        case,
        [ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION],
        at=now,
        pauses=[],
        target=plan.sla_target,
    )
    compiled.insert_many(clocks)
    public: list[Event] = [
        CaseOpened(channel=case.channel, severity=case.severity),
        CaseDecisionRecorded(
            outcome=decision.outcome,
            reason=decision.reason,
            sentence=decision.sentence,
            contract=decision.contract_id,
            channel=case.channel,
        ),
    ]
    if drawn is not None:
        public.append(drawn)
    # One insert for the history and one for the outbox.
    row = {"case": case, "actor": actor, "created_at": now}
    record_many(
        CaseEvent,
        [(event, {**row, "is_internal": False}) for event in public]
        + [(event, {**row, "is_internal": True}) for event in clock_started_events(clocks)],
    )
    return case


def _apply_decision(
    plan: IntakePlan, *, actor: User | None
) -> tuple[entitlement.Decision, CaseIncidentConsumed | CaseConsumptionRefused | None]:
    """Draw the incident the decision calls for. If the allowance went while this request
    decided, decide again now that the contract is locked, and apply that decision."""
    case, decision = plan.case, plan.decision
    if not (decision.consumes and decrement_point(case) == DecrementPoint.CASE_CREATION):
        return decision, None
    drawn = draw_incident(case, actor=actor, new_case=True)
    if isinstance(drawn, CaseIncidentConsumed):
        return decision, drawn
    decision, plan.request = decide_for(on=plan.request.on, **plan.inputs)
    case.entitlement = decision.outcome
    case.contract_id = decision.contract_id
    plan.sla_target = sla_target_for(case)
    if decision.consumes and decrement_point(case) == DecrementPoint.CASE_CREATION:
        return decision, draw_incident(case, actor=actor, new_case=True)
    return decision, None
