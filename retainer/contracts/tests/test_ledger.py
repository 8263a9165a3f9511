"""The ledger through the actions: grants, consumption, overage, replays, reversals,
renewal and expiry, and the append-only guarantees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from retainer.contracts import actions, selectors
from retainer.contracts.choices import ContractEventType, EntryKind, Preset, SourceType
from retainer.contracts.models import AppendOnlyError, ContractEvent, LedgerEntry
from retainer.lib.errors import DomainError

from .conftest import TODAY


def bank(cast, shop, **terms):
    return actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=TODAY,
        covered_products=[shop.product],
        terms=terms,
        actor=cast.admin,
    )


def consume(contract, n, key, actor=None):
    return actions.do_consume(
        contract, quantity=n, key=key, source_type=SourceType.CASE, source_id=key, actor=actor
    )


def test_a_bank_is_granted_its_allowance_on_creation(cast, shop) -> None:
    contract = bank(cast, shop, quantity=10)
    assert contract.balance == 10
    assert selectors.ledger_sum(contract=contract) == 10
    assert list(contract.ledger.values_list("kind", flat=True)) == [EntryKind.GRANT]


def test_replaying_a_key_returns_the_original_entry_and_writes_nothing(cast, shop) -> None:
    contract = bank(cast, shop, quantity=10)
    first = consume(contract, 1, "case:1:incident")
    again = consume(contract, 1, "case:1:incident")
    assert again.replayed and again.entry.pk == first.entry.pk
    contract.refresh_from_db()
    assert contract.balance == 9
    assert LedgerEntry.objects.filter(contract=contract).count() == 2


def test_partial_cover_splits_into_covered_and_overage_with_the_rate(cast, shop) -> None:
    contract = bank(
        cast, shop, unit="hours", quantity=60, exhaustion_policy="bill", overage_rate="90"
    )
    entry = consume(contract, 150, "time-entry:1:v1").entry
    assert (entry.quantity, entry.overage_quantity) == (-60, 90)
    assert entry.overage_rate == Decimal("90") and entry.currency == "EUR"
    contract.refresh_from_db()
    assert contract.balance == 0


def test_block_refuses_when_nothing_is_left_and_writes_nothing(cast, shop) -> None:
    contract = bank(cast, shop, quantity=1)
    consume(contract, 1, "case:1")
    before = LedgerEntry.objects.count()
    with pytest.raises(DomainError) as error:
        consume(contract, 1, "case:2")
    assert error.value.code == "allowance_exhausted"
    assert LedgerEntry.objects.count() == before


def test_allow_goes_negative_and_flags_it(cast, shop) -> None:
    contract = bank(cast, shop, quantity=1, exhaustion_policy="allow")
    consume(contract, 1, "case:1")
    consume(contract, 1, "case:2")
    contract.refresh_from_db()
    assert contract.balance == -1
    assert contract.events.filter(type=ContractEventType.NEGATIVE_BALANCE).count() == 1
    # 1 -> 0 used the allowance up; 0 -> -1 went below zero: one event each.
    assert contract.events.filter(type=ContractEventType.EXHAUSTED_BALANCE).count() == 1


def test_the_balance_reaching_exactly_zero_is_exhausted_once_per_crossing(cast, shop) -> None:
    contract = bank(cast, shop, quantity=2)
    consume(contract, 1, "case:1")
    consume(contract, 1, "case:2")
    exhausted = contract.events.filter(type=ContractEventType.EXHAUSTED_BALANCE)
    assert [e.data["balance"] for e in exhausted] == [0]
    assert not contract.events.filter(type=ContractEventType.NEGATIVE_BALANCE).exists()
    actions.do_top_up(contract, quantity=1, key="top-up:1", actor=cast.admin)
    consume(contract, 1, "case:3")
    assert exhausted.all().count() == 2  # the top-up lifted it above zero: a new crossing


def test_a_reversal_credits_back_once(cast, shop) -> None:
    contract = bank(cast, shop, quantity=3)
    consume(contract, 1, "case:1")
    actions.do_reverse_entry(contract, reverses_key="case:1", actor=cast.agent)
    replay = actions.do_reverse_entry(contract, reverses_key="case:1", actor=cast.agent)
    assert replay.replayed
    with pytest.raises(DomainError):
        actions.do_reverse_entry(contract, reverses_key="case:1", key="other", actor=None)
    contract.refresh_from_db()
    assert contract.balance == 3 == selectors.ledger_sum(contract=contract)


def test_low_balance_warns_once_and_a_top_up_rearms_it(cast, shop) -> None:
    contract = bank(cast, shop, quantity=4, low_balance_threshold=2)
    for n in range(3):
        consume(contract, 1, f"case:{n}")
    warnings = ContractEvent.objects.filter(contract=contract, type=ContractEventType.LOW_BALANCE)
    assert warnings.count() == 1
    actions.do_top_up(contract, quantity=5, key="top-up-1", actor=cast.billing)
    for n in range(3, 8):
        consume(contract, 1, f"case:{n}")
    assert warnings.count() == 2


def test_renewal_expires_unused_allowance_and_rolls_over_up_to_the_cap(cast, shop) -> None:
    contract = bank(cast, shop, quantity=10, rollover_cap=3)
    consume(contract, 1, "case:1")
    renewal = actions.do_renew_contract(contract, actor=cast.admin)
    contract.refresh_from_db()
    assert contract.status == "renewed" and contract.balance == 0
    assert renewal.balance == 13
    assert renewal.start_date == contract.end_date + dt.timedelta(days=1)
    kinds = list(renewal.ledger.values_list("kind", "quantity"))
    assert kinds == [(EntryKind.GRANT, 10), (EntryKind.ROLLOVER, 3)]
    assert actions.do_renew_contract(contract, actor=cast.admin).pk == renewal.pk


def test_ledger_rows_refuse_save_and_delete_in_the_model(cast, shop) -> None:
    entry = bank(cast, shop).ledger.get()
    entry.quantity = 100
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET quantity = 99", "DELETE FROM {t}"])
def test_the_database_refuses_updates_and_deletes_of_ledger_rows(cast, shop, statement) -> None:
    bank(cast, shop)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t="contracts_ledgerentry"))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.all().update(quantity=5)
    assert LedgerEntry.objects.get().quantity == 10


def test_an_hour_bank_from_the_bank_preset_draws_per_time_entry():
    from retainer.contracts.choices import DecrementPoint, Preset
    from retainer.contracts.terms import preset_terms

    assert (
        preset_terms(Preset.BANK, unit="hours", quantity=600).decrement_point
        == DecrementPoint.TIME_ENTRY
    )
    assert preset_terms(Preset.BANK).decrement_point == DecrementPoint.CASE_CREATION
    assert preset_terms(Preset.MAINTENANCE).decrement_point == DecrementPoint.NONE


def test_a_decrement_point_that_does_not_fit_the_unit_is_refused():
    from retainer.contracts.choices import DecrementPoint, Preset
    from retainer.contracts.terms import preset_terms, validate_terms

    terms = preset_terms(Preset.BANK, unit="hours", decrement_point=DecrementPoint.CASE_CREATION)
    assert "decrement_point" in validate_terms(terms)
