"""The allowance ledger: consume, reverse, top up, adjust — locked and exactly once."""

from __future__ import annotations

from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.contracts import entitlement
from retainer.contracts.actions.common import MAX_KEY_LENGTH, Movement, lock_contract
from retainer.contracts.choices import ContractStatus, EntryKind, SourceType
from retainer.contracts.events import (
    ContractToppedUp,
    ExhaustedBalance,
    LedgerAdjusted,
    LowBalance,
    NegativeBalance,
)
from retainer.contracts.ledger import Exhausted, crosses_low_balance, split_consumption
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.lib import compiled
from retainer.lib.converters import parse_id
from retainer.lib.errors import Conflict, InvalidInput
from retainer.lib.events import record

# --- The ledger ----------------------------------------------------------------------------


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {"key": f"An idempotency key is 1 to {MAX_KEY_LENGTH} printable characters."}
        )
    return key


def source_links(
    source_type: str, source_id: str, *, reverses: LedgerEntry | None = None
) -> tuple[int | None, int | None]:
    """``(case id, time entry id)`` an entry's source names, for its typed links.

    A case source is the case; a time-entry source is the entry and its case. A source id
    that names no row (the API takes any string) links nothing. Cases are read by label,
    not imported: the cases app sits above this one.
    """
    if reverses is not None:
        return reverses.case_id, reverses.time_entry_id
    pk = parse_id(source_id)
    if pk is None:
        return None, None
    if source_type == SourceType.CASE:
        case = apps.get_model("cases", "Case").objects.filter(pk=pk)
        return (pk if case.exists() else None), None
    if source_type == SourceType.TIME_ENTRY:
        time_entry = apps.get_model("cases", "TimeEntry").objects.filter(pk=pk)
        case_id = time_entry.values_list("case_id", flat=True).first()
        return (case_id, pk) if case_id is not None else (None, None)
    return None, None


def append_entry(
    locked: Contract,
    *,
    kind: str,
    quantity: int,
    key: str,
    source_type: str,
    source_id: str = "",
    actor: User | None,
    overage_quantity: int = 0,
    price: Decimal | None = None,
    reason: str = "",
    reverses: LedgerEntry | None = None,
    links: tuple[int | None, int | None] | None = None,
) -> LedgerEntry:
    """Write one entry on a contract locked by the caller and update the cached balance
    in the same transaction; emit the low-balance and negative-balance events.

    ``price`` is what a top-up costs, in the contract's currency. ``links`` is the
    ``(case id, time entry id)`` the entry comes from when the caller knows them (the
    cases app does); otherwise they are read from its source (``source_links``).
    """
    before = locked.balance
    after = before + quantity
    case_id, time_entry_id = (
        links if links is not None else source_links(source_type, source_id, reverses=reverses)
    )
    priced = bool(overage_quantity) or price is not None
    entry = LedgerEntry(
        contract=locked,
        kind=kind,
        quantity=quantity,
        overage_quantity=overage_quantity,
        overage_rate=locked.plan_terms.overage_rate if overage_quantity else None,
        price=price,
        currency=locked.currency if priced else "",
        balance_after=after,
        key=key,
        source_type=source_type,
        source_id=source_id,
        case_id=case_id,
        time_entry_id=time_entry_id,
        reason=reason,
        reverses=reverses,
        actor=actor,
    )
    compiled.insert(entry)  # the hottest write: one statement, compiled once
    changed = ["balance"]
    locked.balance = after
    changed += _balance_warnings(locked, entry, before=before, actor=actor)
    compiled.update(locked, changed)
    return entry


def _balance_warnings(
    locked: Contract, entry: LedgerEntry, *, before: int, actor: User | None
) -> list[str]:
    """Record the low, exhausted and negative balance events ``entry`` causes and re-arm the warning
    after a top-up; returns the contract fields it changed."""
    after = entry.balance_after
    changed = []
    if crosses_low_balance(
        before=before,
        after=after,
        threshold=locked.low_balance_at,
        armed=not locked.low_balance_warned,
    ):
        locked.low_balance_warned = True
        changed.append("low_balance_warned")
        warning = LowBalance(balance=after, threshold=locked.low_balance_at, entry=entry.pk)
        record(ContractEvent, warning, contract=locked, actor=actor)
    elif (
        entry.kind == EntryKind.TOP_UP
        and locked.low_balance_warned
        and (locked.low_balance_at is None or after > locked.low_balance_at)
    ):
        locked.low_balance_warned = False  # re-armed: the next crossing warns again
        changed.append("low_balance_warned")
    if before > 0 >= after:
        record(
            ContractEvent,
            ExhaustedBalance(balance=after, entry=entry.pk),
            contract=locked,
            actor=actor,
        )
    if before >= 0 > after:
        record(
            ContractEvent,
            NegativeBalance(balance=after, entry=entry.pk),
            contract=locked,
            actor=actor,
        )
    return changed


def grant_term(locked: Contract, *, actor: User | None) -> LedgerEntry | None:
    """Grant a new term's allowance (key ``contract:<id>:grant``) on a contract the caller
    locked; nothing for terms without an allowance or with a quantity of 0."""
    terms = locked.plan_terms
    if not terms.has_allowance or terms.quantity <= 0:
        return None
    return append_entry(
        locked,
        kind=EntryKind.GRANT,
        quantity=terms.quantity,
        key=f"contract:{locked.pk}:grant",
        source_type=SourceType.CONTRACT,
        source_id=str(locked.pk),
        actor=actor,
    )


def existing_entry(contract_id: int, key: str) -> LedgerEntry | None:
    """The entry written under ``key`` (unique per contract), if any."""
    try:
        return LedgerEntry.objects.get(contract_id=contract_id, key=key)
    except LedgerEntry.DoesNotExist:
        return None


def require_active(locked: Contract) -> None:
    if locked.status != ContractStatus.ACTIVE:
        raise Conflict(
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
    links: tuple[int | None, int | None] | None = None,
) -> Movement:
    """Draw ``quantity`` (incidents, or minutes) from the contract, exactly once per ``key``.

    Locks the contract row. A replayed key returns the original entry and writes
    nothing. The part beyond the balance is recorded as billable overage with the
    contract's rate (``bill``, and ``block`` when something was left); with ``block``
    and nothing left, raises ``Conflict("allowance_exhausted")``.
    """
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        return consume_locked(
            lock_contract(contract_id),
            quantity=quantity,
            key=key,
            source_type=source_type,
            source_id=source_id,
            actor=actor,
            links=links,
        )


def consume_locked(
    locked: Contract,
    *,
    quantity: int,
    key: str,
    source_type: str,
    source_id: str = "",
    actor: User | None,
    fresh_key: bool = False,
    links: tuple[int | None, int | None] | None = None,
) -> Movement:
    """``do_consume`` on a contract the caller locked (``lock_contract``) in its own
    transaction. Raises a ``DomainError`` before writing anything, so the caller may
    catch it and go on without a savepoint.

    ``fresh_key``: the key names a row this transaction inserted, so no entry can carry
    it yet and the lookup is skipped (the unique constraint still stands).
    """
    check_key(key)
    if quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be a positive whole number."})
    if not fresh_key:
        found = existing_entry(locked.pk, key)
        if found is not None:
            return Movement(found, replayed=True)
    require_active(locked)
    terms = locked.plan_terms
    if not terms.has_allowance:
        raise Conflict("no_allowance", "This contract covers by dates only; nothing is consumed.")
    try:
        split = split_consumption(
            balance=locked.balance, quantity=quantity, policy=terms.exhaustion_policy
        )
    except Exhausted:
        raise Conflict(
            "allowance_exhausted", entitlement.SENTENCES[entitlement.Reason.EXHAUSTED]
        ) from None
    entry = append_entry(
        locked,
        kind=EntryKind.CONSUME,
        quantity=-split.covered,
        overage_quantity=split.overage,
        key=key,
        source_type=source_type,
        source_id=source_id,
        actor=actor,
        links=links,
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
    key = check_key(key or f"reverse:{reverses_key}")
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = existing_entry(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        original = existing_entry(contract_id, reverses_key)
        if original is None:
            raise InvalidInput(
                "entry_not_found",
                "There is no entry with this key to reverse.",
                field="reverses_key",
            )
        if original.kind not in (EntryKind.CONSUME, EntryKind.TOP_UP, EntryKind.ADJUST):
            raise Conflict("not_reversible", f"A {original.kind} entry is not reversed.")
        if LedgerEntry.objects.filter(reverses=original).exists():
            raise Conflict("already_reversed", "This entry was already reversed.")
        entry = append_entry(
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
    will invoice for the top-up; it is stored on the entry (``LedgerEntry.price``).
    """
    check_key(key)
    if quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be a positive whole number."})
    if price is not None and price < 0:
        raise ValidationError({"price": "The price cannot be negative."})
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = existing_entry(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        require_active(locked)
        if currency is not None and currency != locked.currency:
            raise InvalidInput(
                "currency_mismatch",
                f"The contract is in {locked.currency}; a top-up cannot be priced in {currency}.",
                field="currency",
            )
        if not locked.plan_terms.has_allowance:
            raise Conflict("no_allowance", "This contract has no allowance to top up.")
        entry = append_entry(
            locked,
            kind=EntryKind.TOP_UP,
            quantity=quantity,
            key=key,
            source_type=SourceType.ADMIN,
            price=price,
            actor=actor,
        )
        topped_up = ContractToppedUp(
            quantity=quantity,
            price=None if price is None else str(price),
            currency=locked.currency,
            entry=entry.pk,
        )
        record(ContractEvent, topped_up, contract=locked, actor=actor)
        return Movement(entry, replayed=False)


def do_adjust_balance(
    contract: Contract | int, *, quantity: int, key: str, reason: str, actor: User | None
) -> Movement:
    """A manual correction with a reason (locks the contract row)."""
    check_key(key)
    if quantity == 0:
        raise ValidationError({"quantity": "An adjustment changes the balance."})
    if not reason.strip():
        raise ValidationError({"reason": "An adjustment needs a reason."})
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = existing_entry(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        entry = append_entry(
            locked,
            kind=EntryKind.ADJUST,
            quantity=quantity,
            key=key,
            source_type=SourceType.ADMIN,
            reason=reason.strip(),
            actor=actor,
        )
        adjusted = LedgerAdjusted(quantity=quantity, reason=reason.strip(), entry=entry.pk)
        record(ContractEvent, adjusted, contract=locked, actor=actor)
        return Movement(entry, replayed=False)
