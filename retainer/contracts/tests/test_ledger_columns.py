"""Money and links in columns: a top-up's price, and the case and time entry an entry was
drawn for, are columns of the ledger entry, filled by the ledger itself."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.contracts import actions
from retainer.contracts.choices import EntryKind, Preset, SourceType
from retainer.contracts.models import Contract, LedgerEntry

from .conftest import TODAY


def _sell(cast, shop, **terms) -> Contract:
    return actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], terms=terms, actor=cast.admin,
    )  # fmt: skip


def _open_case(cast, shop) -> Case:
    return case_actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=shop.product, subject="Posting fails",
        description="The nightly job stops.", channel="web",
    )  # fmt: skip


@pytest.fixture
def hours(cast, shop) -> Contract:
    return _sell(cast, shop, unit="hours", quantity=60, exhaustion_policy="bill",
                 overage_rate="120")  # fmt: skip


def test_a_priced_top_up_stores_its_price_and_currency(cast, shop) -> None:
    bank = _sell(cast, shop)
    movement = actions.do_top_up(bank, quantity=5, key="k", price=Decimal(500), actor=cast.admin)
    entry = LedgerEntry.objects.get(pk=movement.entry.pk)
    assert (entry.price, entry.currency) == (Decimal(500), "EUR")


def test_a_top_up_without_a_price_has_none(cast, shop) -> None:
    bank = _sell(cast, shop)
    movement = actions.do_top_up(bank, quantity=5, key="k", actor=cast.admin)
    assert LedgerEntry.objects.get(pk=movement.entry.pk).price is None


def test_an_incident_drawn_for_a_case_links_the_case(cast, shop) -> None:
    _sell(cast, shop)
    case = _open_case(cast, shop)
    entry = LedgerEntry.objects.get(kind=EntryKind.CONSUME)
    assert (entry.case_id, entry.time_entry_id) == (case.pk, None)


def test_time_drawn_from_an_hour_bank_links_the_time_entry_and_its_case(cast, shop, hours):
    case = _open_case(cast, shop)
    time_entry = case_actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    entry = LedgerEntry.objects.get(contract=hours, kind=EntryKind.CONSUME)
    assert (entry.case_id, entry.time_entry_id) == (case.pk, time_entry.pk)
    assert entry.overage_quantity == 30


def test_a_reversal_keeps_the_links_of_what_it_reverses(cast, shop, hours) -> None:
    case = _open_case(cast, shop)
    time_entry = case_actions.do_log_time(case, agent=cast.agent, minutes=30, actor=cast.agent)
    original = LedgerEntry.objects.get(contract=hours, kind=EntryKind.CONSUME)
    actions.do_reverse_entry(hours, reverses_key=original.key, actor=cast.admin)
    reversal = LedgerEntry.objects.get(contract=hours, kind=EntryKind.REVERSE)
    assert (reversal.case_id, reversal.time_entry_id) == (case.pk, time_entry.pk)


def test_a_source_id_that_names_no_case_links_nothing(cast, shop) -> None:
    bank = _sell(cast, shop)
    movement = actions.do_consume(
        bank, quantity=1, key="k", source_type=SourceType.CASE, source_id="987654", actor=None
    )
    assert LedgerEntry.objects.get(pk=movement.entry.pk).case_id is None
