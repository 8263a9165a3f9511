"""The seed scenarios, end to end through the API: sell, work, run billing, read invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from retainer.billing.choices import InvoiceStatus, RunStatus
from retainer.billing.models import BilledItem, Invoice
from retainer.billing.tests.conftest import invoices, open_case, run_billing, sell
from retainer.cases import actions as case_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import DecrementPoint, ExhaustionPolicy, Outcome, Preset


def amounts(invoice: dict) -> list[tuple[str, Decimal]]:
    return [(line["kind"], Decimal(line["amount"])) for line in invoice["lines"]]


def test_fixed_fee_with_120_hours_logged_bills_the_fee_and_20_hours_of_overage(cast, product):
    sell(
        cast,
        product,
        Preset.FIXED_FEE,
        price_amount="12000",
        quantity=100 * 60,
        overage_rate="150",
    )
    case = open_case(cast, product)
    for _ in range(12):
        case_actions.do_log_time(case, agent=cast.agent, minutes=600, actor=cast.agent)
    client = cast.client_for(cast.billing)

    run = run_billing(client)

    assert run["status"] == RunStatus.SUCCEEDED
    (invoice,) = invoices(client)
    assert invoice["status"] == InvoiceStatus.ISSUED
    assert invoice["number"].startswith("INV-")
    assert amounts(invoice) == [("fee", Decimal("12000")), ("overage", Decimal("3000"))]
    overage = invoice["lines"][1]
    assert (overage["minutes"], Decimal(overage["quantity"])) == (1200, Decimal(20))
    assert Decimal(overage["unit_price"]) == Decimal(150)
    assert Decimal(invoice["subtotal"]) == Decimal("15000")


def test_pay_as_you_go_at_95_per_incident_bills_7_incidents_as_665(cast, product):
    sell(
        cast,
        product,
        Preset.PAY_AS_YOU_GO,
        unit="incidents",
        decrement_point=DecrementPoint.CASE_CREATION,
        overage_rate="95",
    )
    for _ in range(7):
        open_case(cast, product)
    client = cast.client_for(cast.billing)

    run_billing(client)

    (invoice,) = invoices(client)
    assert amounts(invoice) == [("payg", Decimal("665"))]
    assert Decimal(invoice["lines"][0]["quantity"]) == 7


def test_a_bank_of_40_hours_bills_its_price_once_and_its_consumption_nothing(cast, product):
    sell(
        cast,
        product,
        Preset.BANK,
        unit="hours",
        quantity=40 * 60,
        price_amount="5200",
        decrement_point=DecrementPoint.TIME_ENTRY,
        exhaustion_policy=ExhaustionPolicy.BLOCK,
    )
    case = open_case(cast, product)
    case_actions.do_log_time(case, agent=cast.agent, minutes=300, actor=cast.agent)
    client = cast.client_for(cast.billing)

    run_billing(client)
    case_actions.do_log_time(case, agent=cast.agent, minutes=600, actor=cast.agent)
    second = run_billing(client)

    (invoice,) = invoices(client)
    assert amounts(invoice) == [("fee", Decimal("5200"))]
    assert second["items_done"] == 0
    assert Invoice.objects.count() == 1


def test_a_warranty_case_bills_nothing(cast, product):
    sell(cast, product, Preset.WARRANTY, start=timezone.localdate() - dt.timedelta(days=10))
    case = open_case(cast, product)
    assert case.entitlement == Outcome.WARRANTY
    case_actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    client = cast.client_for(cast.billing)

    run = run_billing(client)

    assert run["items_done"] == 0
    assert invoices(client) == []
    assert not BilledItem.objects.exists()


def test_a_priced_top_up_is_billed_once(cast, product):
    contract = sell(cast, product, Preset.BANK, unit="hours", quantity=600, price_amount="1000")
    contract_actions.do_top_up(
        contract, quantity=600, key="top-up:1", price=Decimal("900"), actor=cast.billing
    )
    client = cast.client_for(cast.billing)

    run_billing(client)
    run_billing(client)

    (invoice,) = invoices(client)
    assert amounts(invoice) == [("fee", Decimal("1000")), ("top_up", Decimal("900"))]
    assert "10 h" in invoice["lines"][1]["description"]


def test_a_reversed_overage_is_credited_on_the_next_invoice(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, overage_rate="120")
    case = open_case(cast, product)
    entry = case_actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    client = cast.client_for(cast.billing)
    run_billing(client)

    case_actions.do_update_time_entry(entry, minutes=30, actor=cast.agent)
    run_billing(client)

    second, first = invoices(client)
    assert amounts(first) == [("payg", Decimal("180"))]
    assert amounts(second) == [("payg", Decimal("-120"))]
    assert sum(line.quantity for line in BilledItem.objects.all()) == 30


def test_tax_comes_from_the_billing_profile_and_is_rounded_once(cast, product):
    from retainer.billing.actions import do_set_billing_profile

    do_set_billing_profile(cast.acme, tax_rate=Decimal("19"), actor=cast.admin)
    sell(cast, product, Preset.PAY_AS_YOU_GO, overage_rate="100")
    case = open_case(cast, product)
    case_actions.do_log_time(case, agent=cast.agent, minutes=7, actor=cast.agent)
    client = cast.client_for(cast.billing)

    run_billing(client)

    (invoice,) = invoices(client)
    # 7 min at 100/h = 11.666… → 11.67 (half-up, once); tax 19 % of 11.67 = 2.2173 → 2.22.
    assert Decimal(invoice["subtotal"]) == Decimal("11.67")
    assert Decimal(invoice["tax_amount"]) == Decimal("2.22")
    assert Decimal(invoice["total"]) == Decimal("13.89")
