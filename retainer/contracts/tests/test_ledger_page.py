"""The contract page's ledger shows each movement with the balance after it, in the
contract's unit (hours as h:mm, incidents as a count)."""

from __future__ import annotations

import re

from retainer.contracts import actions
from retainer.contracts.choices import Preset

from .conftest import TODAY


def balances(page: str) -> list[str]:
    return re.findall(r'<td class="balance-after">([^<]*)</td>', page)


def test_an_hour_bank_shows_the_running_balance_in_hours(cast, shop):
    bank = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], terms={"unit": "hours", "quantity": 600}, actor=None,
    )  # fmt: skip
    actions.do_consume(bank, quantity=90, key="a", source_type="admin", actor=None)
    actions.do_top_up(bank, quantity=30, key="b", actor=None)
    page = cast.client_for(cast.agent).get(f"/console/contracts/{bank.pk}/").content.decode()
    assert balances(page) == ["9:00 h", "8:30 h", "10:00 h"]  # newest first
    assert "-1:30" in page and "+0:30" in page


def test_an_incident_bank_shows_the_running_balance_as_a_count(cast, shop):
    bank = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=None,
    )  # fmt: skip
    for key in "ab":
        actions.do_consume(bank, quantity=1, key=key, source_type="admin", actor=None)
    actions.do_reverse_entry(bank, reverses_key="a", actor=None)
    page = cast.client_for(cast.agent).get(f"/console/contracts/{bank.pk}/").content.decode()
    assert balances(page) == ["9", "8", "9", "10"]


def test_the_contract_page_needs_a_fixed_number_of_queries(
    cast, shop, django_assert_max_num_queries
):
    bank = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=None,
    )  # fmt: skip
    client = cast.client_for(cast.agent)
    client.get(f"/console/contracts/{bank.pk}/")
    for n in range(8):
        actions.do_consume(bank, quantity=1, key=f"k{n}", source_type="admin", actor=None)
    with django_assert_max_num_queries(16):
        assert client.get(f"/console/contracts/{bank.pk}/").status_code == 200
