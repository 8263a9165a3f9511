"""The allowance ledger: consume, reverse, top up, adjust — locked and exactly once."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.contracts import entitlement
from retainer.contracts.actions.common import (
    MAX_KEY_LENGTH,
    ContractError,
    Movement,
    lock_contract,
    record_contract_event,
)
from retainer.contracts.choices import (
    ContractEventType,
    ContractStatus,
    EntryKind,
    SourceType,
)
from retainer.contracts.ledger import Exhausted, crosses_low_balance, split_consumption
from retainer.contracts.models import (
    Contract,
    LedgerEntry,
)

# --- The ledger ----------------------------------------------------------------------------


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            {"key": f"An idempotency key is 1 to {MAX_KEY_LENGTH} printable characters."}
        )
    return key


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


def existing_entry(contract_id: int, key: str) -> LedgerEntry | None:
    """The entry written under ``key`` (unique per contract), if any."""
    try:
        return LedgerEntry.objects.get(contract_id=contract_id, key=key)
    except LedgerEntry.DoesNotExist:
        return None


def require_active(locked: Contract) -> None:
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
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        return consume_locked(
            lock_contract(contract_id),
            quantity=quantity,
            key=key,
            source_type=source_type,
            source_id=source_id,
            actor=actor,
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
) -> Movement:
    """``do_consume`` on a contract the caller locked (``lock_contract``) in its own
    transaction. Raises ``ContractError`` before writing anything, so the caller may
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
    entry = append_entry(
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
    key = check_key(key or f"reverse:{reverses_key}")
    contract_id = contract if isinstance(contract, int) else contract.pk
    with transaction.atomic():
        locked = lock_contract(contract_id)
        found = existing_entry(contract_id, key)
        if found is not None:
            return Movement(found, replayed=True)
        original = existing_entry(contract_id, reverses_key)
        if original is None:
            raise ContractError("entry_not_found", "There is no entry with this key to reverse.")
        if original.kind not in (EntryKind.CONSUME, EntryKind.TOP_UP, EntryKind.ADJUST):
            raise ContractError("not_reversible", f"A {original.kind} entry is not reversed.")
        if LedgerEntry.objects.filter(reverses=original).exists():
            raise ContractError("already_reversed", "This entry was already reversed.")
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
    will invoice for the top-up.
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
            raise ContractError(
                "currency_mismatch",
                f"The contract is in {locked.currency}; a top-up cannot be priced in {currency}.",
            )
        if not locked.plan_terms.has_allowance:
            raise ContractError("no_allowance", "This contract has no allowance to top up.")
        entry = append_entry(
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
        record_contract_event(
            ContractEventType.LEDGER_ADJUSTED,
            actor=actor,
            contract=locked,
            data={"quantity": quantity, "reason": reason.strip(), "entry": entry.pk},
        )
        return Movement(entry, replayed=False)
