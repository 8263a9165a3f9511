"""A contract's term ending: the announcement that it is about to end, expiry,
cancellation and renewal."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from retainer.accounts.models import User
from retainer.contracts.actions.common import lock_contract
from retainer.contracts.actions.movements import append_entry, grant_term
from retainer.contracts.actions.sales import clean_name, contract_name
from retainer.contracts.choices import (
    CONTRACT_TRANSITIONS,
    ContractStatus,
    EntryKind,
    SourceType,
)
from retainer.contracts.events import (
    ContractCancelled,
    ContractExpired,
    ContractExpiring,
    ContractRenewed,
)
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.contracts.pricing import renewal_price
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.models import save_validated


def _not_announced_for(end_date: dt.date | None = None) -> Q:
    """Contracts whose announced end date is not ``end_date`` (their own, when ``None``)."""
    other: F | dt.date = F("end_date") if end_date is None else end_date
    return (
        Q(expiry_announced_for__isnull=True)
        | Q(expiry_announced_for__lt=other)
        | Q(expiry_announced_for__gt=other)
    )


def do_announce_expiring_contracts(*, today: dt.date, within_days: int | None = None) -> list[int]:
    """Publish ``contract.expiring`` for every active contract whose ``end_date`` falls
    from ``today`` to ``within_days`` later (``RETAINER_CONTRACT_EXPIRING_DAYS``), once per
    contract and end date; returns the ids of the contracts announced now.

    "Once" is a guarded ``UPDATE … WHERE expiry_announced_for`` is not the end date: the
    event is written only when that update changed the row, in the same transaction, so
    a second run, or another worker running at the same moment, announces nothing again
    (on PostgreSQL the later update waits for the earlier one's commit, then finds the
    row announced). A renewal is a new contract, announced for its own end; a changed end
    date is announced again. One transaction per contract; takes no other lock."""
    days = settings.RETAINER_CONTRACT_EXPIRING_DAYS if within_days is None else within_days
    due = (
        Contract.objects.filter(
            _not_announced_for(),
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + dt.timedelta(days=days),
        )
        .order_by("end_date", "pk")
        .values_list("pk", "organization_id", "end_date")
    )
    announced = []
    for pk, organization_id, end_date in due:
        assert end_date is not None  # noqa: S101 - the query filters on it
        with transaction.atomic():
            changed = Contract.objects.filter(
                _not_announced_for(end_date),
                pk=pk,
                status=ContractStatus.ACTIVE,
                end_date=end_date,
            ).update(expiry_announced_for=end_date)
            if not changed:
                continue  # announced meanwhile, renewed, cancelled or moved
            event = ContractExpiring(
                organization=organization_id,
                end_date=end_date.isoformat(),
                days_left=(end_date - today).days,
            )
            record(ContractEvent, event, contract_id=pk, actor=None)
        announced.append(pk)
    return announced


def expire_unused(locked: Contract, *, actor: User | None, reason: str) -> int:
    """Write the ``expire`` entry for a positive balance; return what expired."""
    remaining = locked.balance
    if remaining <= 0 or not locked.plan_terms.has_allowance:
        return 0
    # Callers hold the lock and act once per status change, so the position in the
    # ledger makes a unique, repeatable key (a later correction can expire again).
    position = LedgerEntry.objects.filter(contract=locked).count()
    append_entry(
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
        expired = expire_unused(locked, actor=actor, reason="Term ended.")
    locked.status = ContractStatus.EXPIRED
    locked.save(update_fields=["status"])
    record(ContractEvent, ContractExpired(expired=expired), contract=locked, actor=actor)
    return locked


@transaction.atomic
def do_cancel_contract(contract: Contract, *, reason: str, actor: User | None) -> Contract:
    """Cancel a draft or active contract; its unused allowance expires (locks the row)."""
    locked = lock_contract(contract.pk)
    if locked.status == ContractStatus.CANCELLED:
        return locked
    if ContractStatus.CANCELLED not in allowed_transitions(locked.status):
        raise Conflict(
            "contract_not_cancellable", f"A {locked.status} contract cannot be cancelled."
        )
    expired = expire_unused(locked, actor=actor, reason=f"Cancelled: {reason}".strip())
    old = locked.status
    locked.status = ContractStatus.CANCELLED
    locked.save(update_fields=["status"])
    cancelled = ContractCancelled(old=old, reason=reason, expired=expired)
    record(ContractEvent, cancelled, contract=locked, actor=actor)
    return locked


def allowed_transitions(status: str) -> set[str]:
    return CONTRACT_TRANSITIONS[status]


@transaction.atomic
def do_renew_contract(contract: Contract, *, actor: User | None, name: str = "") -> Contract:
    """Start the next term on the same terms with the annual uplift applied.

    Locks the contract row. Unused allowance of the old term expires, and up to the
    plan's rollover cap comes back on the new term as a ``rollover`` entry. Renewing
    twice returns the renewal already made. Without a ``name`` the new term is named
    like a new contract, for its own start year (``contract_name``).
    """
    locked = lock_contract(contract.pk)
    existing = Contract.objects.filter(previous=locked).first()
    if existing is not None:
        return existing
    if ContractStatus.RENEWED not in allowed_transitions(locked.status):
        raise Conflict("contract_not_renewable", f"A {locked.status} contract cannot be renewed.")
    if locked.end_date is None:
        raise Conflict("contract_not_renewable", "An open-ended contract is not renewed.")
    renewal = _next_term(locked, name=name)
    old_status = locked.status
    carried = _close_term(locked, renewal, actor=actor)
    new_locked = lock_contract(renewal.pk)
    grant_term(new_locked, actor=actor)
    if carried:
        append_entry(
            new_locked,
            kind=EntryKind.ROLLOVER,
            quantity=carried,
            key=f"contract:{locked.pk}:rollover",
            source_type=SourceType.CONTRACT,
            source_id=str(locked.pk),
            reason=f"Rolled over from contract {locked.pk}.",
            actor=actor,
        )
    renewed = ContractRenewed(
        old_status=old_status, renewal=renewal.pk, price=str(renewal.price), rolled_over=carried
    )
    record(ContractEvent, renewed, contract=locked, actor=actor)
    renewal.refresh_from_db()
    return renewal


def _next_term(locked: Contract, *, name: str) -> Contract:
    """Save the contract of the term after ``locked``: same terms, products and named
    contacts, the price with the uplift, the low-balance threshold recomputed."""
    terms = locked.plan_terms
    assert locked.end_date is not None  # noqa: S101 - open-ended contracts are refused first
    start = locked.end_date + dt.timedelta(days=1)
    plan_name = locked.plan.name if locked.plan is not None else None
    renewal = Contract(
        organization_id=locked.organization_id,
        name=clean_name(name)
        if name.strip()
        else contract_name(
            locked.organization.name,
            plan_name=plan_name,
            preset=locked.preset,
            unit=locked.unit,
            start=start,
        ),
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
    return renewal


def _close_term(locked: Contract, renewal: Contract, *, actor: User | None) -> int:
    """Mark ``locked`` renewed and expire its unused allowance; return how much of it rolls
    over to ``renewal`` (at most the plan's rollover cap)."""
    terms = locked.plan_terms
    unused = max(locked.balance, 0) if terms.has_allowance else 0
    carried = min(unused, terms.rollover_cap) if terms.rollover_cap else 0
    if terms.allowance_expires:
        expire_unused(locked, actor=actor, reason=f"Renewed as contract {renewal.pk}.")
    locked.status = ContractStatus.RENEWED
    locked.save(update_fields=["status"])
    return carried
