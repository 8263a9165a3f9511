"""``selectors.balance_summaries``: the balances of many contracts in one query."""

from __future__ import annotations

from retainer.contracts import actions, selectors
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract

from .conftest import TODAY


def test_many_contracts_are_summed_in_one_query_like_one_at_a_time(
    cast, shop, django_assert_num_queries
):
    for n, unit in enumerate(["incidents", "hours", "none", "incidents"]):
        contract = actions.do_create_contract(
            organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
            covered_products=[shop.product], actor=None,
            terms={"unit": unit, "quantity": 0 if unit == "none" else 5, "exhaustion_policy": "bill",
                   "overage_rate": "10"},
        )  # fmt: skip
        if unit != "none":
            actions.do_consume(contract, quantity=7, key=f"c{n}", source_type="admin", actor=None)
            actions.do_top_up(contract, quantity=n + 1, key=f"t{n}", actor=None)
    contracts = list(Contract.objects.order_by("id"))
    with django_assert_num_queries(1):
        summaries = selectors.balance_summaries(contracts=contracts)
    for contract in contracts:
        assert summaries[contract.pk] == selectors.balance_summary(contract=contract)
    hours = summaries[contracts[1].pk]
    assert (hours.granted, hours.consumed, hours.overage, hours.balance) == (7, 5, 2, 2)
    with django_assert_num_queries(0):
        assert selectors.balance_summaries(contracts=[]) == {}
