"""Every change to plans, contracts, the ledger, decisions and training records.

Each action is atomic and records what happened: ledger movements are their own
append-only rows; everything else writes a ``ContractEvent``. Functions that lock a
contract row say so; they take the lock through ``lock_contract`` only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, Organization, User
from retainer.catalog.models import Product
from retainer.contracts import entitlement
from retainer.contracts.choices import (
    CONTRACT_TRANSITIONS,
    TIER_RANK,
    AuthorizationPolicy,
    ContractEventType,
    ContractStatus,
    EntryKind,
    Outcome,
    Preset,
    SourceType,
)
from retainer.contracts.ledger import Exhausted, crosses_low_balance, split_consumption
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    EntitlementDecision,
    LedgerEntry,
    SupportPlan,
    TrainingRecord,
)
from retainer.contracts.pricing import (
    CurrencyMismatch,
    ProductPrice,
    contract_price,
    renewal_price,
)
from retainer.contracts.terms import PlanTerms, preset_terms, validate_terms
from retainer.lib.models import save_validated

MAX_KEY_LENGTH = 255


class ContractError(Exception):
    """A request that conflicts with the contract's state (e.g. topping up a cancelled one)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Movement:
    """The result of a ledger action: the entry, and whether it was a replay."""

    entry: LedgerEntry
    replayed: bool


def record_contract_event(type: str, *, actor: User | None, **refs: Any) -> ContractEvent:
    data = refs.pop("data", {})
    return ContractEvent.objects.create(type=type, actor=actor, data=data, **refs)


# --- Plans ---------------------------------------------------------------------------------


def _checked_terms(terms: PlanTerms) -> PlanTerms:
    errors = validate_terms(terms)
    if errors:
        raise ValidationError(errors)
    return terms


@transaction.atomic
def do_create_plan(
    *,
    code: str,
    name: str,
    terms: PlanTerms,
    products: Iterable[Product] = (),
    actor: User | None,
) -> SupportPlan:
    _checked_terms(terms)
    plan = SupportPlan(
        code=code,
        version=1,
        name=name.strip(),
        tier=terms.tier,
        tier_rank=TIER_RANK.get(terms.tier, 0),
        preset=terms.preset,
        unit=terms.unit,
        currency=terms.currency,
        terms=terms.to_json(),
    )
    save_validated(plan)
    plan.products.set(list(products))
    record_contract_event(
        ContractEventType.PLAN_CREATED, actor=actor, plan=plan, data={"code": code, "version": 1}
    )
    return plan


@transaction.atomic
def do_create_plan_version(
    plan: SupportPlan,
    *,
    actor: User | None,
    name: str | None = None,
    products: Iterable[Product] | None = None,
    **term_changes: Any,
) -> SupportPlan:
    """Create the next version of ``plan`` with ``term_changes``; contracts already sold
    keep their snapshot. Only the current version can be superseded."""
    current = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if not current.is_current:
        raise ContractError("plan_not_current", "Only the current version of a plan can change.")
    try:
        terms = _checked_terms(current.plan_terms.replace(**term_changes))
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({"terms": str(exc)}) from None
    SupportPlan.objects.filter(pk=current.pk).update(is_current=False)
    new = SupportPlan(
        code=current.code,
        version=current.version + 1,
        name=(name or current.name).strip(),
        tier=terms.tier,
        tier_rank=TIER_RANK.get(terms.tier, 0),
        preset=terms.preset,
        unit=terms.unit,
        currency=terms.currency,
        terms=terms.to_json(),
        previous=current,
    )
    save_validated(new)
    new.products.set(list(products) if products is not None else list(current.products.all()))
    changed = {
        key: {"old": old, "new": terms.to_json()[key]}
        for key, old in current.terms.items()
        if terms.to_json().get(key) != old
    }
    record_contract_event(
        ContractEventType.PLAN_VERSIONED,
        actor=actor,
        plan=new,
        data={"code": new.code, "version": new.version, "changes": changed},
    )
    return new


# --- Contracts -----------------------------------------------------------------------------


def lock_contract(contract_id: int) -> Contract:
    """Lock the contract row for the rest of the transaction and return it fresh.

    PostgreSQL takes ``SELECT … FOR UPDATE``; on SQLite the settings open every
    transaction with ``BEGIN IMMEDIATE``, which already holds the database write lock.
    Must be called inside ``transaction.atomic()``.
    """
    return Contract.objects.select_for_update().get(pk=contract_id)


def _product_prices(products: Iterable[Product]) -> list[ProductPrice]:
    return [
        ProductPrice(
            product_id=p.pk, list_price=p.list_price, net_price=p.net_price, currency=p.currency
        )
        for p in products
    ]


def contract_terms(preset: str, plan: SupportPlan | None, overrides: dict[str, Any]) -> PlanTerms:
    """The terms a new contract is sold on: the plan's (or the preset's defaults) plus
    per-contract overrides."""
    if preset not in Preset.values:
        raise ContractError("unknown_preset", f"There is no preset called {preset!r}.")
    clean = {key: value for key, value in overrides.items() if value is not None}
    if plan is not None and plan.preset != preset:
        raise ContractError(
            "preset_mismatch", f"Plan {plan} is a {plan.preset} plan, not {preset}."
        )
    try:
        terms = plan.plan_terms.replace(**clean) if plan else preset_terms(preset, **clean)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({"terms": str(exc)}) from None
    return _checked_terms(terms)


@transaction.atomic
def do_create_contract(
    *,
    organization: Organization,
    preset: str,
    start_date: dt.date,
    plan: SupportPlan | None = None,
    covered_products: Iterable[Product] = (),
    named_contacts: Iterable[Contact] = (),
    purchase_date: dt.date | None = None,
    purchase_price: Decimal | None = None,
    end_date: dt.date | None = None,
    named_engineer: bool = False,
    extra_named_contacts: int = 0,
    reference: str = "",
    terms: dict[str, Any] | None = None,
    actor: User | None,
) -> Contract:
    """Sell a contract: snapshot the terms, price it, and grant the first term's allowance."""
    snapshot = contract_terms(preset, plan, terms or {})
    products = list(covered_products) or (list(plan.products.all()) if plan else [])
    if not products:
        raise ValidationError({"covered_products": "A contract covers at least one product."})
    if organization.currency != snapshot.currency and snapshot.price_basis != "included":
        raise ContractError(
            "currency_mismatch",
            f"The plan is priced in {snapshot.currency}, "
            f"the organization is invoiced in {organization.currency}.",
        )
    if snapshot.is_warranty:
        purchase_date = purchase_date or start_date
        start_date = purchase_date
    computed_end = snapshot.term_end(start_date)
    if end_date is None:
        end_date = computed_end
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": "The term cannot end before it starts."})
    contacts = list(named_contacts)
    _check_named_contacts(organization, snapshot, contacts, extra_named_contacts)
    try:
        price = contract_price(
            snapshot,
            _product_prices(products),
            purchase_price=purchase_price,
            named_engineer=named_engineer,
            extra_named_contacts=extra_named_contacts,
        )
    except CurrencyMismatch as exc:
        raise ContractError("currency_mismatch", str(exc)) from None
    contract = Contract(
        organization=organization,
        plan=plan,
        preset=preset,
        unit=snapshot.unit,
        terms=snapshot.to_json(),
        status=ContractStatus.ACTIVE,
        start_date=start_date,
        end_date=end_date,
        purchase_date=purchase_date,
        purchase_price=purchase_price,
        price=price,
        currency=snapshot.currency,
        named_engineer=named_engineer,
        extra_named_contacts=extra_named_contacts,
        low_balance_at=snapshot.low_balance_at(),
        reference=reference,
    )
    save_validated(contract)
    contract.covered_products.set(products)
    contract.named_contacts.set(contacts)
    record_contract_event(
        ContractEventType.CONTRACT_CREATED,
        actor=actor,
        contract=contract,
        plan=plan,
        data={"preset": preset, "price": str(price), "currency": contract.currency},
    )
    if snapshot.has_allowance and snapshot.quantity > 0:
        _append(
            lock_contract(contract.pk),
            kind=EntryKind.GRANT,
            quantity=snapshot.quantity,
            key=f"contract:{contract.pk}:grant",
            source_type=SourceType.CONTRACT,
            source_id=str(contract.pk),
            actor=actor,
        )
        contract.refresh_from_db()
    return contract


def _check_named_contacts(
    organization: Organization, terms: PlanTerms, contacts: list[Contact], extra: int
) -> None:
    if any(c.organization_id != organization.pk for c in contacts):
        raise ValidationError({"named_contacts": "Named contacts belong to the organization."})
    if (
        terms.authorization_policy == AuthorizationPolicy.NAMED
        and terms.max_named_contacts is not None
        and len(contacts) > terms.max_named_contacts + extra
    ):
        limit = terms.max_named_contacts + extra
        raise ValidationError(
            {"named_contacts": f"This contract allows at most {limit} named contacts."}
        )


@transaction.atomic
def do_set_named_contacts(
    contract: Contract, contacts: Iterable[Contact], *, actor: User | None
) -> Contract:
    contacts = list(contacts)
    _check_named_contacts(
        contract.organization, contract.plan_terms, contacts, contract.extra_named_contacts
    )
    before = sorted(contract.named_contacts.values_list("pk", flat=True))
    contract.named_contacts.set(contacts)
    after = sorted(c.pk for c in contacts)
    if before != after:
        record_contract_event(
            ContractEventType.NAMED_CONTACTS_CHANGED,
            actor=actor,
            contract=contract,
            data={"old": before, "new": after},
        )
    return contract


# --- The ledger ----------------------------------------------------------------------------


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {"key": f"An idempotency key is 1 to {MAX_KEY_LENGTH} printable characters."}
        )
    return key


def _append(
    locked: Contract,
    *,
    kind: str,
    quantity: int,
    key: str,
    source_type: str,
    source_id: str = "",
    actor: User | None,
    overage_quantity: int = 0,
    reason: str = "",
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Write one entry on a contract locked by the caller and update the cached balance
    in the same transaction; emit the low-balance and negative-balance events."""
    terms = locked.plan_terms
    before = locked.balance
    after = before + quantity
    entry = LedgerEntry.objects.create(
        contract=locked,
        kind=kind,
        quantity=quantity,
        overage_quantity=overage_quantity,
        overage_rate=terms.overage_rate if overage_quantity else None,
        currency=locked.currency if overage_quantity else "",
        balance_after=after,
        key=key,
        source_type=source_type,
        source_id=source_id,
        reason=reason,
        reverses=reverses,
        actor=actor,
    )
    changed = ["balance"]
    locked.balance = after
    if crosses_low_balance(
        before=before,
        after=after,
        threshold=locked.low_balance_at,
        armed=not locked.low_balance_warned,
    ):
        locked.low_balance_warned = True
        changed.append("low_balance_warned")
        record_contract_event(
            ContractEventType.LOW_BALANCE,
            actor=actor,
            contract=locked,
            data={"balance": after, "threshold": locked.low_balance_at, "entry": entry.pk},
        )
    elif (
        kind == EntryKind.TOP_UP
        and locked.low_balance_warned
        and (locked.low_balance_at is None or after > locked.low_balance_at)
    ):
        locked.low_balance_warned = False  # re-armed: the next crossing warns again
        changed.append("low_balance_warned")
    if before >= 0 > after:
        record_contract_event(
            ContractEventType.NEGATIVE_BALANCE,
            actor=actor,
            contract=locked,
            data={"balance": after, "entry": entry.pk},
        )
    locked.save(update_fields=changed)
    return entry


def _existing(contract_id: int, key: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(contract_id=contract_id, key=key).first()


def _require_active(locked: Contract) -> None:
    if locked.status != ContractStatus.ACTIVE:
        raise ContractError(
            "contract_not_active",
            f"This contract is {locked.get_status_display().lower()}; "
            "it cannot take new movements.",
        )


def do_consume(
    contract: Contract | int,
    *,
    quantity: int,
    key: str,
    source_type: str,
    source_id: str = "",
    actor: User | None,
) -> Movement:
    """Draw ``quantity`` (incidents, or minutes) from the contract, exactly once per ``key``.

    Locks the contract row. A replayed key returns the original entry and writes
    nothing. The part beyond the balance is recorded as billable overage with the
    contract's rate (``bill``, and ``block`` when something was left); with ``block``
    and nothing left, raises ``ContractError("allowance_exhausted")``.
    """
    _check_key(key)
    if quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be a positive whole number."})
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = _existing(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        _require_active(locked)
        terms = locked.plan_terms
        if not terms.has_allowance:
            raise ContractError(
                "no_allowance", "This contract covers by dates only; nothing is consumed."
            )
        try:
            split = split_consumption(
                balance=locked.balance, quantity=quantity, policy=terms.exhaustion_policy
            )
        except Exhausted:
            raise ContractError(
                "allowance_exhausted", entitlement.SENTENCES[entitlement.Reason.EXHAUSTED]
            ) from None
        entry = _append(
            locked,
            kind=EntryKind.CONSUME,
            quantity=-split.covered,
            overage_quantity=split.overage,
            key=key,
            source_type=source_type,
            source_id=source_id,
            actor=actor,
        )
        return Movement(entry, replayed=False)


def do_reverse_entry(
    contract: Contract | int,
    *,
    reverses_key: str,
    key: str | None = None,
    reason: str = "",
    actor: User | None,
) -> Movement:
    """Write the reversal of the entry recorded under ``reverses_key`` (at most once).

    Locks the contract row. Allowed on any contract status: credits back what a
    cancelled or moved case consumed.
    """
    key = _check_key(key or f"reverse:{reverses_key}")
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = _existing(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        original = _existing(contract_id, reverses_key)
        if original is None:
            raise ContractError("entry_not_found", "There is no entry with this key to reverse.")
        if original.kind not in (EntryKind.CONSUME, EntryKind.TOP_UP, EntryKind.ADJUST):
            raise ContractError("not_reversible", f"A {original.kind} entry is not reversed.")
        if LedgerEntry.objects.filter(reverses=original).exists():
            raise ContractError("already_reversed", "This entry was already reversed.")
        entry = _append(
            locked,
            kind=EntryKind.REVERSE,
            quantity=-original.quantity,
            overage_quantity=-original.overage_quantity,
            key=key,
            source_type=original.source_type,
            source_id=original.source_id,
            reason=reason,
            reverses=original,
            actor=actor,
        )
        return Movement(entry, replayed=False)


def do_top_up(
    contract: Contract | int,
    *,
    quantity: int,
    key: str,
    price: Decimal | None = None,
    currency: str | None = None,
    actor: User | None,
) -> Movement:
    """Add ``quantity`` to an active contract's balance (re-arms the low-balance warning).

    Locks the contract row. ``price`` (in the contract's currency) is what billing
    will invoice for the top-up.
    """
    _check_key(key)
    if quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be a positive whole number."})
    if price is not None and price < 0:
        raise ValidationError({"price": "The price cannot be negative."})
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = _existing(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        _require_active(locked)
        if currency is not None and currency != locked.currency:
            raise ContractError(
                "currency_mismatch",
                f"The contract is in {locked.currency}; a top-up cannot be priced in {currency}.",
            )
        if not locked.plan_terms.has_allowance:
            raise ContractError("no_allowance", "This contract has no allowance to top up.")
        entry = _append(
            locked,
            kind=EntryKind.TOP_UP,
            quantity=quantity,
            key=key,
            source_type=SourceType.ADMIN,
            actor=actor,
        )
        record_contract_event(
            ContractEventType.CONTRACT_TOPPED_UP,
            actor=actor,
            contract=locked,
            data={
                "quantity": quantity,
                "price": None if price is None else str(price),
                "currency": locked.currency,
                "entry": entry.pk,
            },
        )
        return Movement(entry, replayed=False)


def do_adjust_balance(
    contract: Contract | int, *, quantity: int, key: str, reason: str, actor: User | None
) -> Movement:
    """A manual correction with a reason (locks the contract row)."""
    _check_key(key)
    if quantity == 0:
        raise ValidationError({"quantity": "An adjustment changes the balance."})
    if not reason.strip():
        raise ValidationError({"reason": "An adjustment needs a reason."})
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = _existing(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        entry = _append(
            locked,
            kind=EntryKind.ADJUST,
            quantity=quantity,
            key=key,
            source_type=SourceType.ADMIN,
            reason=reason.strip(),
            actor=actor,
        )
        record_contract_event(
            ContractEventType.LEDGER_ADJUSTED,
            actor=actor,
            contract=locked,
            data={"quantity": quantity, "reason": reason.strip(), "entry": entry.pk},
        )
        return Movement(entry, replayed=False)


def _expire_unused(locked: Contract, *, actor: User | None, reason: str) -> int:
    """Write the ``expire`` entry for a positive balance; return what expired."""
    remaining = locked.balance
    if remaining <= 0 or not locked.plan_terms.has_allowance:
        return 0
    # Callers hold the lock and act once per status change, so the position in the
    # ledger makes a unique, repeatable key (a later correction can expire again).
    position = LedgerEntry.objects.filter(contract=locked).count()
    _append(
        locked,
        kind=EntryKind.EXPIRE,
        quantity=-remaining,
        key=f"contract:{locked.pk}:expire:{position}",
        source_type=SourceType.CONTRACT,
        source_id=str(locked.pk),
        reason=reason,
        actor=actor,
    )
    return remaining


@transaction.atomic
def do_expire_contract(contract: Contract, *, actor: User | None) -> Contract:
    """End an active term: unused allowance expires (locks the contract row)."""
    locked = lock_contract(contract.pk)
    if locked.status != ContractStatus.ACTIVE:
        return locked
    expired = 0
    if locked.plan_terms.allowance_expires:
        expired = _expire_unused(locked, actor=actor, reason="Term ended.")
    locked.status = ContractStatus.EXPIRED
    locked.save(update_fields=["status"])
    record_contract_event(
        ContractEventType.CONTRACT_EXPIRED, actor=actor, contract=locked, data={"expired": expired}
    )
    return locked


@transaction.atomic
def do_cancel_contract(contract: Contract, *, reason: str, actor: User | None) -> Contract:
    """Cancel a draft or active contract; its unused allowance expires (locks the row)."""
    locked = lock_contract(contract.pk)
    if locked.status == ContractStatus.CANCELLED:
        return locked
    if ContractStatus.CANCELLED not in _transitions(locked.status):
        raise ContractError(
            "contract_not_cancellable", f"A {locked.status} contract cannot be cancelled."
        )
    expired = _expire_unused(locked, actor=actor, reason=f"Cancelled: {reason}".strip())
    old = locked.status
    locked.status = ContractStatus.CANCELLED
    locked.save(update_fields=["status"])
    record_contract_event(
        ContractEventType.CONTRACT_CANCELLED,
        actor=actor,
        contract=locked,
        data={"old": old, "reason": reason, "expired": expired},
    )
    return locked


def _transitions(status: str) -> set[str]:
    return CONTRACT_TRANSITIONS[status]


@transaction.atomic
def do_renew_contract(contract: Contract, *, actor: User | None) -> Contract:
    """Start the next term on the same terms with the annual uplift applied.

    Locks the contract row. Unused allowance of the old term expires, and up to the
    plan's rollover cap comes back on the new term as a ``rollover`` entry. Renewing
    twice returns the renewal already made.
    """
    locked = lock_contract(contract.pk)
    existing = Contract.objects.filter(previous=locked).first()
    if existing is not None:
        return existing
    if ContractStatus.RENEWED not in _transitions(locked.status):
        raise ContractError(
            "contract_not_renewable", f"A {locked.status} contract cannot be renewed."
        )
    terms = locked.plan_terms
    if locked.end_date is None:
        raise ContractError("contract_not_renewable", "An open-ended contract is not renewed.")
    start = locked.end_date + dt.timedelta(days=1)
    renewal = Contract(
        organization_id=locked.organization_id,
        plan_id=locked.plan_id,
        preset=locked.preset,
        unit=locked.unit,
        terms=locked.terms,
        status=ContractStatus.ACTIVE,
        start_date=start,
        end_date=terms.term_end(start),
        purchase_date=locked.purchase_date,
        purchase_price=locked.purchase_price,
        price=renewal_price(locked.price, terms.uplift_percent),
        currency=locked.currency,
        named_engineer=locked.named_engineer,
        extra_named_contacts=locked.extra_named_contacts,
        term_number=locked.term_number + 1,
        previous=locked,
        low_balance_at=terms.low_balance_at(),
        reference=locked.reference,
    )
    save_validated(renewal)
    renewal.covered_products.set(locked.covered_products.all())
    renewal.named_contacts.set(locked.named_contacts.all())
    unused = max(locked.balance, 0) if terms.has_allowance else 0
    carried = 0
    if terms.rollover_cap:
        carried = min(unused, terms.rollover_cap)
    if terms.allowance_expires:
        _expire_unused(locked, actor=actor, reason=f"Renewed as contract {renewal.pk}.")
    old_status = locked.status
    locked.status = ContractStatus.RENEWED
    locked.save(update_fields=["status"])
    new_locked = lock_contract(renewal.pk)
    if terms.has_allowance and terms.quantity > 0:
        _append(
            new_locked,
            kind=EntryKind.GRANT,
            quantity=terms.quantity,
            key=f"contract:{renewal.pk}:grant",
            source_type=SourceType.CONTRACT,
            source_id=str(renewal.pk),
            actor=actor,
        )
    if carried:
        _append(
            new_locked,
            kind=EntryKind.ROLLOVER,
            quantity=carried,
            key=f"contract:{locked.pk}:rollover",
            source_type=SourceType.CONTRACT,
            source_id=str(locked.pk),
            reason=f"Rolled over from contract {locked.pk}.",
            actor=actor,
        )
    record_contract_event(
        ContractEventType.CONTRACT_RENEWED,
        actor=actor,
        contract=locked,
        data={
            "old_status": old_status,
            "renewal": renewal.pk,
            "price": str(renewal.price),
            "rolled_over": carried,
        },
    )
    renewal.refresh_from_db()
    return renewal


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


@transaction.atomic
def do_record_decision(
    decision: entitlement.Decision,
    request: entitlement.Request,
    *,
    source_type: str,
    source_id: str = "",
    actor: User | None,
) -> EntitlementDecision:
    """Store a decision taken by ``entitlement.decide`` (nothing is consumed here)."""
    row = EntitlementDecision.objects.create(
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
    record_contract_event(
        ContractEventType.DECISION_RECORDED,
        actor=actor,
        decision=row,
        contract_id=decision.contract_id,
        data={"outcome": decision.outcome, "reason": decision.reason},
    )
    return row


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
