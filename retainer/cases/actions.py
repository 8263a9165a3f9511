"""Every change to a case. Each action is atomic and writes ``CaseEvent`` rows.

Ledger movements go through ``retainer.contracts.actions`` with keys derived from
their source, so a replayed or retried action never consumes twice:
``case:<id>:incident:v<n>`` for incidents and ``time-entry:<id>:v<n>`` for time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, Team, User
from retainer.cases import workflow
from retainer.cases.choices import (
    CaseEventType,
    CaseStatus,
    CaseType,
    ClockKind,
    CsatRating,
    Priority,
    Severity,
)
from retainer.cases.models import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseMessage,
    CasePause,
    CsatResponse,
    Defect,
    RunningTimer,
    SlaClock,
    SlaTarget,
    TimeEntry,
)
from retainer.cases.sla import Pause, calendar_from_row, clock_times
from retainer.catalog.models import Environment, Product, Release
from retainer.contracts import actions as contract_actions
from retainer.contracts.actions import ContractError
from retainer.contracts.choices import DecrementPoint, Outcome, SourceType
from retainer.contracts.models import Contract
from retainer.contracts.selectors import decide_for
from retainer.lib.business_hours import Calendar
from retainer.lib.models import apply_changes
from retainer.lib.sanitize import clean_line
from retainer.lib.uploads import Readable, store_upload

CONSUMING_OUTCOMES = (Outcome.COVERED, Outcome.COVERED_BILLABLE)
INTAKE_RELATIONS = (
    "organization",
    "contact",
    "product",
    "release",
    "environment",
    "contract",
    "opened_by",
)
CSAT_SALT = "retainer.cases.csat"


class CaseError(Exception):
    """A refused case operation, with a stable code for the API and a sentence for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def record_case_event(
    case: Case, type: str, *, actor: User | None, internal: bool = False, **data: Any
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=type, actor=actor, is_internal=internal, data=data
    )


def _touch(case: Case, fields: Iterable[str]) -> None:
    case.updated_at = timezone.now()
    case.save(update_fields=[*fields, "updated_at"])


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


@transaction.atomic
def do_open_case(
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
) -> Case:
    """Store the case, take and record the entitlement decision, and consume an incident
    when the covering contract decrements on creation.

    The case is always stored, whatever the decision: a case that is not entitled or out
    of scope is answered with the reason and the offer, never dropped.
    """
    _check_intake(contact, product, release, subject, description)
    now = timezone.now()
    decision, request = decide_for(
        contact=contact,
        product=product,
        channel=channel,
        on=timezone.localdate(now),
        release=release,
        environment=environment,
        modified_source=modified_source,
        third_party=third_party,
    )
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
        contract_id=decision.contract_id,
    )
    # The related objects were loaded and checked above; validate the plain fields only
    # (re-checking every foreign key would cost one query each on the hottest write path).
    case.full_clean(exclude=[*INTAKE_RELATIONS, "decision", "public_id"], validate_unique=False)
    case.save()
    row = contract_actions.do_record_decision(
        decision, request, source_type=SourceType.CASE, source_id=str(case.pk), actor=actor
    )
    case.decision = row
    events = [
        CaseEvent(
            case=case,
            type=CaseEventType.OPENED,
            actor=actor,
            created_at=now,
            data={"channel": channel, "severity": severity},
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
    if decision.consumes and _decrement_point(case) == DecrementPoint.CASE_CREATION:
        events.append(_draw_incident(case, actor=actor))
    case.save(update_fields=["decision", "incident_version", "incident_consumed"])
    CaseEvent.objects.bulk_create(events)
    _start_clocks(
        case, [ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION], at=now, actor=actor, pauses=[]
    )
    return case


def _decrement_point(case: Case) -> str | None:
    if case.contract_id is None:
        return None
    return _contract(case).plan_terms.decrement_point


def _contract(case: Case) -> Contract:
    """The case's contract, loaded once per case object (its terms never change)."""
    contract = case.contract
    assert contract is not None  # noqa: S101 - callers check contract_id
    return contract


def _draw_incident(case: Case, *, actor: User | None) -> CaseEvent:
    """Consume one incident for the case; returns the (unsaved) event saying what happened.

    The caller saves ``incident_version`` / ``incident_consumed`` on the case.
    """
    assert case.contract_id is not None  # noqa: S101 - callers check the decision first
    case.incident_version += 1
    try:
        movement = contract_actions.do_consume(
            case.contract_id,
            quantity=1,
            key=case.incident_key,
            source_type=SourceType.CASE,
            source_id=str(case.pk),
            actor=actor,
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


def _consume_incident(case: Case, *, actor: User | None) -> None:
    event = _draw_incident(case, actor=actor)
    _touch(case, ["incident_version", "incident_consumed"])
    event.save()


def _credit_incident(case: Case, *, actor: User | None, reason: str) -> None:
    if not case.incident_consumed or case.contract_id is None:
        return
    contract_actions.do_reverse_entry(
        case.contract_id, reverses_key=case.incident_key, reason=reason, actor=actor
    )
    case.incident_consumed = False
    _touch(case, ["incident_consumed"])
    record_case_event(
        case, CaseEventType.INCIDENT_CREDITED, actor=actor, contract=case.contract_id, reason=reason
    )


# --- Workflow -------------------------------------------------------------------------------


def lock_case(case: Case) -> Case:
    """Re-read the case row under a lock (``SELECT … FOR UPDATE``; SQLite's immediate
    transactions already serialize writers)."""
    return Case.objects.select_for_update().get(pk=case.pk)


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
    point = _decrement_point(case) if case.entitlement in CONSUMING_OUTCOMES else None
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
    _touch(case, fields)
    record_case_event(
        case,
        CaseEventType.STATUS_CHANGED,
        actor=actor,
        old=old,
        new=target,
        root_cause=case.root_cause,
    )
    _sla_after_transition(case, old, target, at=now, actor=actor)
    if (
        target == CaseStatus.RESOLVED
        and point == DecrementPoint.CASE_RESOLUTION
        and not case.incident_consumed
    ):
        _consume_incident(case, actor=actor)
    elif (
        old == CaseStatus.RESOLVED
        and target == CaseStatus.OPEN
        and point == DecrementPoint.CASE_RESOLUTION
    ):
        _credit_incident(case, actor=actor, reason="case reopened")
    elif target == CaseStatus.CANCELLED and point == DecrementPoint.CASE_CREATION:
        _credit_incident(case, actor=actor, reason="case cancelled")
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
        _touch(case, diff.keys())
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
        _credit_incident(case, actor=actor, reason="decision overridden")
    case.entitlement = outcome
    case.contract = contract
    _touch(case, ["entitlement", "contract"])
    record_case_event(
        case,
        CaseEventType.DECISION_OVERRIDDEN,
        actor=actor,
        old=old,
        new={"outcome": outcome, "contract": contract.pk if contract else None},
        reason=reason,
    )
    point = _decrement_point(case) if outcome in CONSUMING_OUTCOMES else None
    due_now: dict[str, bool] = {
        DecrementPoint.CASE_CREATION: case.status != CaseStatus.CANCELLED,
        DecrementPoint.CASE_RESOLUTION: case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
    }
    if point is not None and due_now.get(point, False) and not case.incident_consumed:
        _consume_incident(case, actor=actor)
    return case


# --- Conversation ---------------------------------------------------------------------------


@transaction.atomic
def do_add_message(case: Case, *, author: User, body: str, internal: bool = False) -> CaseMessage:
    """A reply or an internal note. A customer's reply hands a waiting case back to the
    vendor; the first public reply by staff stops the first-response clock."""
    if not body.strip():
        raise ValidationError({"body": "The message is empty."})
    by_customer = not author.is_staff
    if by_customer and internal:
        raise ValidationError({"internal": "Customers cannot write internal notes."})
    case = lock_case(case)
    if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        raise CaseError("case_finished", "This case is finished; please open a new case.")
    message = CaseMessage.objects.create(
        case=case, author=author, body=body, is_internal=internal, by_customer=by_customer
    )
    record_case_event(
        case,
        CaseEventType.NOTE_ADDED if internal else CaseEventType.REPLIED,
        actor=author,
        internal=internal,
        message=message.pk,
    )
    _sla_after_message(case, message, actor=author)
    if by_customer and case.status == CaseStatus.WAITING_ON_CUSTOMER:
        do_transition_case(case, CaseStatus.OPEN, actor=author, by_customer=True)
    elif not by_customer and not internal and case.first_response_at is None:
        case.first_response_at = message.created_at
        _touch(case, ["first_response_at"])
        if case.status == CaseStatus.NEW:
            do_transition_case(case, CaseStatus.OPEN, actor=author)
    else:
        _touch(case, [])
    return message


@transaction.atomic
def do_add_attachment(
    case: Case,
    *,
    upload: Readable,
    name: str,
    uploaded_by: User,
    internal: bool = False,
    message: CaseMessage | None = None,
) -> CaseAttachment:
    """Store an uploaded file on the case under a server-generated name.

    Raises ``UploadRejected`` (too large, empty, type not allowed) or ``CaseError`` (too
    many files, case finished); nothing is stored then. Customers' files are never internal.
    """
    if not uploaded_by.is_staff and internal:
        raise ValidationError({"internal": "Customers cannot add internal files."})
    case = lock_case(case)
    if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        raise CaseError("case_finished", "This case is finished; please open a new case.")
    if case.attachments.count() >= settings.RETAINER_ATTACHMENTS_PER_CASE:
        raise CaseError("too_many_attachments", "This case has reached its number of files.")
    stored = store_upload(
        upload, original_name=name, max_bytes=settings.RETAINER_ATTACHMENT_MAX_BYTES
    )
    # If the transaction rolls back, the stored file is orphaned but unreachable: its
    # random name is recorded nowhere.
    attachment = CaseAttachment.objects.create(
        case=case,
        message=message,
        storage_name=stored.storage_name,
        display_name=stored.safe_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        is_internal=internal,
        uploaded_by=uploaded_by,
    )
    record_case_event(
        case,
        CaseEventType.ATTACHMENT_ADDED,
        actor=uploaded_by,
        internal=internal,
        attachment=attachment.pk,
        name=attachment.display_name,
        size=attachment.size,
    )
    return attachment


# --- Time -----------------------------------------------------------------------------------


def _consume_time(entry: TimeEntry, *, actor: User | None) -> None:
    """Draw the entry's minutes from its contract when billable; record covered/overage."""
    entry.covered_minutes = entry.overage_minutes = 0
    if not entry.billable or entry.contract_id is None:
        return
    contract = Contract.objects.get(pk=entry.contract_id)
    if contract.plan_terms.decrement_point != DecrementPoint.TIME_ENTRY:
        return
    try:
        movement = contract_actions.do_consume(
            entry.contract_id,
            quantity=entry.minutes,
            key=entry.ledger_key,
            source_type=SourceType.TIME_ENTRY,
            source_id=str(entry.pk),
            actor=actor,
        )
    except ContractError as exc:
        record_case_event(
            entry.case,
            CaseEventType.CONSUMPTION_REFUSED,
            actor=actor,
            internal=True,
            code=exc.code,
            entry=entry.pk,
        )
        return
    entry.covered_minutes = -movement.entry.quantity
    entry.overage_minutes = movement.entry.overage_quantity


def _reverse_time(entry: TimeEntry, *, actor: User | None, reason: str) -> None:
    if entry.contract_id is None or (entry.covered_minutes == 0 and entry.overage_minutes == 0):
        return
    contract_actions.do_reverse_entry(
        entry.contract_id, reverses_key=entry.ledger_key, reason=reason, actor=actor
    )


def _time_contract(case: Case) -> int | None:
    return case.contract_id if case.entitlement in CONSUMING_OUTCOMES else None


@transaction.atomic
def do_log_time(
    case: Case,
    *,
    agent: User,
    minutes: int,
    billable: bool = True,
    work_date: dt.date | None = None,
    started_at: dt.datetime | None = None,
    note: str = "",
    actor: User | None,
) -> TimeEntry:
    """Record work on a case; billable minutes consume hours from the case's contract at
    once (the part beyond the balance is overage)."""
    if not agent.is_staff:
        raise ValidationError({"agent": "Time is logged by vendor staff."})
    if minutes <= 0:
        raise ValidationError({"minutes": "The duration must be a positive number of minutes."})
    entry = TimeEntry.objects.create(
        case=case,
        agent=agent,
        minutes=minutes,
        billable=billable,
        work_date=work_date or timezone.localdate(),
        started_at=started_at,
        note=note,
        contract_id=_time_contract(case),
    )
    _consume_time(entry, actor=actor)
    entry.save(update_fields=["covered_minutes", "overage_minutes"])
    record_case_event(
        case,
        CaseEventType.TIME_LOGGED,
        actor=actor,
        internal=True,
        entry=entry.pk,
        minutes=minutes,
        billable=billable,
        covered=entry.covered_minutes,
        overage=entry.overage_minutes,
    )
    return entry


@transaction.atomic
def do_update_time_entry(entry: TimeEntry, *, actor: User | None, **changes: Any) -> TimeEntry:
    """Change an entry. When minutes or billability change, the old version's consumption
    is reversed and the new version consumed, so the balance follows exactly."""
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_deleted:
        raise CaseError("time_entry_deleted", "This time entry was deleted.")
    if "minutes" in changes and changes["minutes"] <= 0:
        raise ValidationError({"minutes": "The duration must be a positive number of minutes."})
    diff = apply_changes(entry, changes, allowed=("minutes", "billable", "note", "work_date"))
    if not diff:
        return entry
    if {"minutes", "billable"} & set(diff):
        _reverse_time(entry, actor=actor, reason="time entry changed")
        entry.version += 1
        _consume_time(entry, actor=actor)
    entry.save()
    record_case_event(
        entry.case,
        CaseEventType.TIME_CHANGED,
        actor=actor,
        internal=True,
        entry=entry.pk,
        changes=diff,
    )
    return entry


@transaction.atomic
def do_delete_time_entry(entry: TimeEntry, *, actor: User | None) -> TimeEntry:
    """Withdraw an entry: its consumption is reversed; the row stays for history."""
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.is_deleted:
        return entry
    _reverse_time(entry, actor=actor, reason="time entry deleted")
    entry.is_deleted = True
    entry.save(update_fields=["is_deleted"])
    record_case_event(
        entry.case, CaseEventType.TIME_DELETED, actor=actor, internal=True, entry=entry.pk
    )
    return entry


# --- Defects --------------------------------------------------------------------------------


@transaction.atomic
def do_create_defect(
    *,
    product: Product,
    title: str,
    description: str = "",
    affected_releases: Iterable[Release] = (),
    actor: User | None,
) -> Defect:
    releases = list(affected_releases)
    if any(r.product_id != product.pk for r in releases):
        raise ValidationError(
            {"affected_releases": "Every affected release must belong to the defect's product."}
        )
    defect = Defect(product=product, title=title.strip(), description=description, created_by=actor)
    defect.full_clean()
    defect.save()
    defect.affected_releases.set(releases)
    return defect


@transaction.atomic
def do_link_defect(case: Case, defect: Defect, *, actor: User | None) -> Case:
    case = lock_case(case)
    if defect.product_id != case.product_id:
        raise ValidationError({"defect": "The defect belongs to another product."})
    if case.defect_id != defect.pk:
        old = case.defect_id
        case.defect = defect
        _touch(case, ["defect"])
        record_case_event(case, CaseEventType.DEFECT_LINKED, actor=actor, old=old, new=defect.pk)
    return case


@transaction.atomic
def do_set_defect_fix_release(
    defect: Defect, release: Release, *, actor: User | None
) -> list[Contact]:
    """Record the release that fixes the defect; every linked open case gets an event.

    Returns the contacts to notify (the requesters of the linked open cases).
    """
    if release.product_id != defect.product_id:
        raise ValidationError(
            {"fix_release": "The fix release must belong to the defect's product."}
        )
    defect.fix_release = release
    defect.status = "fixed"
    defect.save(update_fields=["fix_release", "status"])
    contacts: dict[int, Contact] = {}
    for case in defect.cases.filter(status__in=workflow.ACTIVE).select_related("contact"):
        record_case_event(
            case,
            CaseEventType.FIX_AVAILABLE,
            actor=actor,
            defect=defect.pk,
            release=release.version,
        )
        contacts[case.contact_id] = case.contact
    return list(contacts.values())


# --- Satisfaction ---------------------------------------------------------------------------


def csat_token(case: Case) -> str:
    """A signed token for the survey link; it names the case and nothing else."""
    return signing.dumps({"case": case.public_id}, salt=CSAT_SALT)


def case_for_csat_token(token: str, *, max_age: dt.timedelta = dt.timedelta(days=60)) -> Case:
    try:
        payload = signing.loads(token, salt=CSAT_SALT, max_age=max_age)
    except signing.BadSignature:
        raise CaseError(
            "invalid_survey_link", "This survey link is invalid or has expired."
        ) from None
    try:
        return Case.objects.get(public_id=payload["case"])
    except Case.DoesNotExist:
        raise CaseError(
            "invalid_survey_link", "This survey link is invalid or has expired."
        ) from None


@transaction.atomic
def do_answer_csat(
    case: Case, *, rating: str, comment: str = "", actor: User | None
) -> CsatResponse:
    if rating not in CsatRating.values:
        raise ValidationError({"rating": "Choose good, neutral or bad."})
    case = lock_case(case)
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        raise CaseError("case_not_resolved", "The survey opens when the case is resolved.")
    if CsatResponse.objects.filter(case=case).exists():
        raise CaseError("survey_answered", "This survey was already answered. Thank you!")
    response = CsatResponse.objects.create(case=case, rating=rating, comment=comment.strip())
    record_case_event(case, CaseEventType.CSAT_ANSWERED, actor=actor, rating=rating)
    return response


# --- SLA clocks -----------------------------------------------------------------------------


def sla_target_for(case: Case) -> SlaTarget | None:
    """The plan's target for the case's severity, else the default target, else none."""
    plan_id = _contract(case).plan_id if case.contract_id else None
    targets = SlaTarget.objects.select_related("calendar").filter(severity=case.severity)
    if plan_id is not None:
        target = targets.filter(plan_id=plan_id).first()
        if target is not None:
            return target
    return targets.filter(plan__isnull=True).first()


def _calendar(case: Case, target: SlaTarget) -> Calendar:
    zone = (
        case.organization.time_zone
        if target.calendar.use_customer_time_zone
        else target.calendar.time_zone
    )
    return calendar_from_row(target.calendar, zone)


def _pauses(case: Case) -> list[Pause]:
    return [(p.started_at, p.ended_at) for p in CasePause.objects.filter(case=case)]


def _schedule(clock: SlaClock, case: Case) -> None:
    times = clock_times(
        _calendar(case, clock.target),
        started_at=clock.started_at,
        target_minutes=clock.target_minutes,
        warning_percent=clock.target.warning_percent,
        pauses=_pauses(case),
    )
    clock.due_at, clock.warn_at = times.due_at, times.warn_at


def _start_clocks(
    case: Case,
    kinds: Iterable[str],
    *,
    at: dt.datetime,
    actor: User | None,
    pauses: list[Pause] | None = None,
) -> list[SlaClock]:
    """Start the clocks of ``kinds`` that the case's target defines; ``pauses`` may be
    given when known (a new case has none) to spare reading them."""
    target = sla_target_for(case)
    if target is None:
        return []
    by_kind: dict[str, int | None] = {
        ClockKind.FIRST_RESPONSE: target.first_response_minutes,
        ClockKind.NEXT_RESPONSE: target.next_response_minutes,
        ClockKind.RESOLUTION: target.resolution_minutes,
    }
    calendar = _calendar(case, target)
    pauses = _pauses(case) if pauses is None else pauses
    clocks = []
    for kind in kinds:
        minutes = by_kind[kind]
        if minutes is None:
            continue
        times = clock_times(
            calendar,
            started_at=at,
            target_minutes=minutes,
            warning_percent=target.warning_percent,
            pauses=pauses,
        )
        clocks.append(
            SlaClock(
                case=case,
                kind=kind,
                target=target,
                target_minutes=minutes,
                started_at=at,
                due_at=times.due_at,
                warn_at=times.warn_at,
            )
        )
    SlaClock.objects.bulk_create(clocks)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            type=CaseEventType.SLA_STARTED,
            actor=actor,
            is_internal=True,
            data={"clock": clock.kind, "due_at": _iso(clock.due_at)},
        )
        for clock in clocks
    )
    return clocks


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _stop_clocks(case: Case, kinds: Iterable[str], *, at: dt.datetime, actor: User | None) -> None:
    for clock in SlaClock.objects.filter(case=case, kind__in=list(kinds), stopped_at__isnull=True):
        clock.stopped_at = at
        clock.save(update_fields=["stopped_at"])
        met = clock.breached_at is None
        if met:
            record_case_event(
                case, CaseEventType.SLA_MET, actor=actor, internal=True, clock=clock.kind
            )


def _reschedule_running(case: Case) -> None:
    for clock in SlaClock.objects.filter(case=case, stopped_at__isnull=True).select_related(
        "target__calendar"
    ):
        _schedule(clock, case)
        clock.save(update_fields=["due_at", "warn_at"])


def _pause_clocks(case: Case, *, at: dt.datetime, actor: User | None) -> None:
    if not CasePause.objects.filter(case=case, ended_at__isnull=True).exists():
        CasePause.objects.create(case=case, started_at=at)
        _reschedule_running(case)
        record_case_event(case, CaseEventType.SLA_PAUSED, actor=actor, internal=True)


def _resume_clocks(case: Case, *, at: dt.datetime, actor: User | None) -> None:
    if CasePause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at):
        _reschedule_running(case)
        record_case_event(case, CaseEventType.SLA_RESUMED, actor=actor, internal=True)


def _sla_after_transition(
    case: Case, old: str, new: str, *, at: dt.datetime, actor: User | None
) -> None:
    """Clocks follow the workflow: waiting on the customer pauses them, resolving stops
    the resolution clock (met or not), reopening resumes it with the resolved span paused."""
    if new == CaseStatus.WAITING_ON_CUSTOMER:
        _pause_clocks(case, at=at, actor=actor)
    elif old == CaseStatus.WAITING_ON_CUSTOMER:
        _resume_clocks(case, at=at, actor=actor)
    if new in (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED):
        _stop_clocks(case, ClockKind.values, at=at, actor=actor)
    elif old == CaseStatus.RESOLVED and new == CaseStatus.OPEN:
        resolved_clock = (
            SlaClock.objects.filter(case=case, kind=ClockKind.RESOLUTION).order_by("-id").first()
        )
        if resolved_clock is not None and resolved_clock.stopped_at is not None:
            CasePause.objects.create(case=case, started_at=resolved_clock.stopped_at, ended_at=at)
            resolved_clock.stopped_at = None
            resolved_clock.save(update_fields=["stopped_at"])
            _reschedule_running(case)


def _sla_after_message(case: Case, message: CaseMessage, *, actor: User | None) -> None:
    at = message.created_at
    if message.is_internal:
        return
    if message.by_customer:
        running = SlaClock.objects.filter(
            case=case, kind=ClockKind.NEXT_RESPONSE, stopped_at__isnull=True
        )
        if case.first_response_at is not None and not running.exists():
            _start_clocks(case, [ClockKind.NEXT_RESPONSE], at=at, actor=actor)
    else:
        _stop_clocks(case, [ClockKind.FIRST_RESPONSE, ClockKind.NEXT_RESPONSE], at=at, actor=actor)


@transaction.atomic
def do_scan_sla_clocks(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Record one warning and one breach event per clock that has reached them.

    Idempotent: a clock warns once and breaches once, however often the scan runs.
    """
    now = now or timezone.now()
    warned = breached = 0
    running = SlaClock.objects.filter(stopped_at__isnull=True).select_related("case")
    for clock in running.filter(breached_at__isnull=True, due_at__lte=now).select_for_update():
        clock.breached_at = now
        clock.save(update_fields=["breached_at"])
        record_case_event(
            clock.case, CaseEventType.SLA_BREACHED, actor=None, internal=True, clock=clock.kind,
            due_at=_iso(clock.due_at),
        )  # fmt: skip
        breached += 1
    for clock in running.filter(warned_at__isnull=True, breached_at__isnull=True, warn_at__lte=now):
        clock.warned_at = now
        clock.save(update_fields=["warned_at"])
        record_case_event(
            clock.case, CaseEventType.SLA_WARNING, actor=None, internal=True, clock=clock.kind,
            due_at=_iso(clock.due_at),
        )  # fmt: skip
        warned += 1
    return {"warned": warned, "breached": breached}


# --- Timers ---------------------------------------------------------------------------------


@transaction.atomic
def do_start_timer(case: Case, *, agent: User) -> RunningTimer:
    """Start (or move) the agent's timer to this case. A timer running on another case is
    stopped first and its time logged there."""
    current = RunningTimer.objects.select_for_update().filter(agent=agent).first()
    if current is not None:
        if current.case_id == case.pk:
            return current
        do_stop_timer(agent=agent, billable=True)
    return RunningTimer.objects.create(agent=agent, case=case, started_at=timezone.now())


@transaction.atomic
def do_stop_timer(*, agent: User, billable: bool = True, note: str = "") -> TimeEntry | None:
    """Stop the agent's timer and log the elapsed whole minutes (at least one)."""
    timer = (
        RunningTimer.objects.select_for_update().select_related("case").filter(agent=agent).first()
    )
    if timer is None:
        return None
    elapsed = timezone.now() - timer.started_at
    minutes = max(1, round(elapsed.total_seconds() / 60))
    timer.delete()
    return do_log_time(
        timer.case,
        agent=agent,
        minutes=minutes,
        billable=billable,
        started_at=timer.started_at,
        work_date=timezone.localdate(timer.started_at),
        note=note,
        actor=agent,
    )
