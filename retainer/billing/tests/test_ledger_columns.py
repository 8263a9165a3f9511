"""Billing reads the ledger's columns: a top-up's price (``LedgerEntry.price``) and the case
an hour overage was drawn for (``LedgerEntry.case``)."""

from __future__ import annotations

from decimal import Decimal

from retainer.billing import run
from retainer.billing.choices import ItemKind
from retainer.cases import actions as case_actions
from retainer.contracts import actions as contract_actions

from .conftest import open_case, sell, this_period


def _lines(cast) -> list[run.LineDraft]:
    org = run.OrgInfo(cast.acme.pk, cast.acme.name, cast.acme.time_zone, cast.acme.currency)
    lines, _ = run.collect({org.id: org}, this_period())
    return [line for drafts in lines.values() for line in drafts]


def test_a_top_up_is_billed_at_the_price_stored_on_its_entry(cast, product) -> None:
    bank = sell(cast, product, "bank")
    contract_actions.do_top_up(
        bank, quantity=5, key="t-1", price=Decimal("750.50"), actor=cast.admin
    )
    [line] = [line for line in _lines(cast) if line.kind == ItemKind.TOP_UP]
    assert line.amount == Decimal("750.50")


def test_an_hour_overage_line_carries_its_case(cast, product) -> None:
    sell(cast, product, "bank", unit="hours", quantity=60, exhaustion_policy="bill",
         overage_rate="120")  # fmt: skip
    case = open_case(cast, product)
    case_actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    [line] = [line for line in _lines(cast) if line.kind == ItemKind.OVERAGE]
    assert (line.minutes, line.case_id) == (30, case.pk)
