"""Opening a case: the entitlement decision, and incidents drawn and credited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.cases.actions.clocks import clock_started_events, new_clocks
from retainer.cases.actions.common import (
    INTAKE_RELATIONS,
    decrement_point,
    record_case_event,
    touch,
)
from retainer.cases.choices import (
    CaseEventType,
    CaseType,
    ClockKind,
    Priority,
    Severity,
)
from retainer.cases.models import Case, CaseEvent, SlaClock, SlaTarget
from retainer.cases.selectors import sla_target_for
from retainer.catalog.models import Environment, Product, Release
from retainer.contracts import actions as contract_actions
from retainer.contracts import entitlement
from retainer.contracts.actions import ContractError, lock_contract
from retainer.contracts.choices import DecrementPoint, SourceType
from retainer.contracts.selectors import candidate_contracts, decide_for
from retainer.lib.sanitize import clean_line

# --- Intake ---------------------------------------------------------------------------------


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


def do_open_case(*, plan: IntakePlan | None = None, actor: User | None, **fields: Any) -> Case:
    """Store the case, record the entitlement decision, and consume an incident when the
    covering contract decrements on creation.

    The reads (checks, decision) happen first, outside the write transaction, unless a
    ``plan`` taken by ``plan_intake`` is given. If the allowance ran out in between, the
    decision is taken again inside the transaction, so the recorded decision is always
    the one that was applied. The case is always stored, whatever the decision: a case
    that is not entitled or out of scope is answered with the reason and the offer.
    """
    plan = plan or plan_intake(actor=actor, **fields)
    # No savepoint when called inside a transaction: a failure fails the caller's too.
    with transaction.atomic(savepoint=False):
        return _store_intake(plan, actor=actor)


def _store_intake(plan: IntakePlan, *, actor: User | None) -> Case:
    case, decision, request = plan.case, plan.decision, plan.request
    now = case.created_at
    case.save()
    drawn: CaseEvent | None = None
    if decision.consumes and decrement_point(case) == DecrementPoint.CASE_CREATION:
        drawn = _draw_incident(case, actor=actor, new_case=True)
        if drawn.type == CaseEventType.CONSUMPTION_REFUSED:
            # The allowance went while this request decided: decide again, now that it
            # holds the write lock, and apply that decision instead.
            decision, request = decide_for(on=request.on, **plan.inputs)
            case.entitlement = decision.outcome
            case.contract_id = decision.contract_id
            drawn = None
            if decision.consumes and decrement_point(case) == DecrementPoint.CASE_CREATION:
                drawn = _draw_incident(case, actor=actor, new_case=True)
            plan.sla_target = sla_target_for(case)
    case.decision = contract_actions.do_record_decision(
        decision, request, source_type=SourceType.CASE, source_id=str(case.pk), actor=actor
    )
    events = [
        CaseEvent(
            case=case,
            type=CaseEventType.OPENED,
            actor=actor,
            created_at=now,
            data={"channel": case.channel, "severity": case.severity},
        ),
        CaseEvent(
            case=case,
            type=CaseEventType.DECISION_RECORDED,
            actor=actor,
            created_at=now,
            data={
                "outcome": decision.outcome,
                "reason": decision.reason,
                "sentence": decision.sentence,
                "contract": decision.contract_id,
            },
        ),
    ]
    if drawn is not None:
        events.append(drawn)
    case.save(
        update_fields=[
            "decision",
            "incident_version",
            "incident_consumed",
            "entitlement",
            "contract",
        ]
    )
    clocks = new_clocks(
        case,
        [ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION],
        at=now,
        pauses=[],
        target=plan.sla_target,
    )
    SlaClock.objects.bulk_create(clocks)
    CaseEvent.objects.bulk_create([*events, *clock_started_events(clocks, actor=actor)])
    return case


def _draw_incident(case: Case, *, actor: User | None, new_case: bool = False) -> CaseEvent:
    """Consume one incident for the case; returns the (unsaved) event saying what happened.

    The caller saves ``incident_version`` / ``incident_consumed`` on the case. For a case
    inserted by this transaction (``new_case``) no entry can carry its key yet.
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
        )
    except ContractError as exc:
        # Another case took the last incident between decision and consumption: the case
        # stays stored and visible, the agent sees why nothing was drawn.
        case.incident_version -= 1
        return CaseEvent(
            case=case,
            type=CaseEventType.CONSUMPTION_REFUSED,
            actor=actor,
            data={"code": exc.code, "detail": exc.detail},
        )
    case.incident_consumed = True
    return CaseEvent(
        case=case,
        type=CaseEventType.INCIDENT_CONSUMED,
        actor=actor,
        data={
            "contract": case.contract_id,
            "covered": -movement.entry.quantity,
            "overage": movement.entry.overage_quantity,
        },
    )


def consume_incident(case: Case, *, actor: User | None) -> None:
    event = _draw_incident(case, actor=actor)
    touch(case, ["incident_version", "incident_consumed"])
    event.save()


def credit_incident(case: Case, *, actor: User | None, reason: str) -> None:
    if not case.incident_consumed or case.contract_id is None:
        return
    contract_actions.do_reverse_entry(
        case.contract_id, reverses_key=case.incident_key, reason=reason, actor=actor
    )
    case.incident_consumed = False
    touch(case, ["incident_consumed"])
    record_case_event(
        case, CaseEventType.INCIDENT_CREDITED, actor=actor, contract=case.contract_id, reason=reason
    )
