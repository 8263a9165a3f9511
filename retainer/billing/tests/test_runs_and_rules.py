"""Runs through the API and the command, add-ons and pro-rating, and the pure rules."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from retainer.billing import rules
from retainer.billing.models import BillingRun, Invoice
from retainer.billing.tests.conftest import (
    invoices,
    open_case,
    post,
    run_billing,
    sell,
    this_period,
    url,
)
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.terms import preset_terms


def test_a_run_created_without_start_waits_for_the_worker_then_starts(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)

    created = post(client, "billing_run_list", period=this_period().label, key="run-1")
    replay = post(client, "billing_run_list", period=this_period().label, key="run-1")
    started = post(client, "billing_run_start", created.json()["id"])
    again = post(client, "billing_run_start", created.json()["id"])
    status = client.get(url("billing_run_detail", created.json()["id"])).json()

    assert created.status_code == 202, created.json()
    assert created.json()["status"] == "pending"
    assert replay.json() == created.json()
    assert BillingRun.objects.count() == 1
    assert started.json()["status"] == "succeeded"
    assert again.json()["items_done"] == started.json()["items_done"] == 1
    assert (status["items_done"], status["items_total"], status["progress_percent"]) == (1, 1, 100)
    assert Invoice.objects.count() == 1


def test_the_command_prints_progress_and_bills(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    out = io.StringIO()

    call_command("run_billing", "--period", this_period().label, stdout=out)

    text = out.getvalue()
    assert "[##############################] 1/1 items (100%)" in text
    assert "succeeded, 1 invoices, 1 lines, 1 items" in text


def test_the_command_refuses_a_future_period(cast):
    with pytest.raises(Exception, match="has not started"):
        call_command("run_billing", "--period", "2099-01", stdout=io.StringIO())
    assert not BillingRun.objects.exists()


def test_a_draft_run_leaves_unnumbered_drafts(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)

    run_billing(client, issue=False)
    (draft,) = invoices(client)
    issued = post(client, "invoice_issue", draft["id"])

    assert (draft["status"], draft["number"]) == ("draft", None)
    assert Decimal(draft["total"]) == Decimal(95)
    assert issued.json()["status"] == "issued"
    assert issued.json()["number"].endswith("000001")


def test_add_ons_get_their_own_lines_and_are_not_counted_twice(cast, product):
    plan = contract_actions.do_create_plan(
        code="platinum",
        name="Platinum",
        terms=preset_terms(
            Preset.MAINTENANCE,
            price_basis="fixed",
            price_amount=Decimal(9000),
            named_engineer_price=Decimal(6000),
            extra_contact_price=Decimal(500),
        ),
        products=[product],
        actor=cast.admin,
    )
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.MAINTENANCE,
        plan=plan,
        start_date=timezone.localdate().replace(day=1),
        named_engineer=True,
        extra_named_contacts=2,
        actor=cast.admin,
    )
    client = cast.client_for(cast.billing)

    run_billing(client)

    (invoice,) = invoices(client)
    lines = [(line["kind"], Decimal(line["amount"])) for line in invoice["lines"]]
    assert lines == [("fee", Decimal(9000)), ("addon", Decimal(6000)), ("addon", Decimal(1000))]
    assert Decimal(invoice["subtotal"]) == contract.price == Decimal(16000)


def test_a_prorated_term_starting_mid_month_is_billed_for_its_days(cast, product):
    today = timezone.localdate()
    start = today.replace(day=1) + dt.timedelta(days=9)
    if start > today:
        start = today.replace(day=1) - dt.timedelta(days=20)
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.SUBSCRIPTION,
        start_date=start,
        end_date=rules.add_months(start.replace(day=1), 12) - dt.timedelta(days=1),
        covered_products=[product],
        terms={"price_basis": "fixed", "price_amount": "3650", "extra": {"prorate": True}},
        actor=cast.admin,
    )
    client = cast.client_for(cast.billing)

    run_billing(client)

    (invoice,) = invoices(client)
    factor = rules.prorate_factor(contract.plan_terms, contract.start_date, contract.end_date)
    assert factor < 1
    assert Decimal(invoice["lines"][0]["amount"]) == rules.line_amount(
        Decimal(3650) * factor, 1, "EUR"
    )
    assert "pro-rated" in invoice["lines"][0]["description"]


def test_invoice_list_and_detail_queries_do_not_grow_with_rows(
    cast, product, django_assert_max_num_queries
):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    sell(cast, product, Preset.FIXED_FEE, price_amount="100")
    for _ in range(3):
        open_case(cast, product)
    client = cast.client_for(cast.billing)
    run_billing(client)
    invoice = Invoice.objects.get()
    with django_assert_max_num_queries(8):
        assert client.get(url("invoice_list")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(url("invoice_detail", invoice.pk)).status_code == 200


# --- Pure rules ----------------------------------------------------------------------------


def test_periods_parse_and_map_to_local_midnights():
    period = rules.parse_period("2026-10")
    assert (period.start, period.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    begin, end = period.utc_bounds("Europe/Berlin")
    assert begin == dt.datetime(2026, 9, 30, 22, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)  # after the DST change
    for bad in ("2026-13", "26-10", "2026-1", "", "2026-10-01"):
        with pytest.raises(rules.PeriodError):
            rules.parse_period(bad)


def test_hour_amounts_round_once_half_up_from_minutes():
    assert rules.hours_amount(Decimal(150), 1200, "EUR") == Decimal("3000.00")
    assert rules.hours_amount(Decimal(100), 7, "EUR") == Decimal("11.67")
    assert rules.hours_amount(Decimal("0.3"), 5, "EUR") == Decimal("0.03")  # 0.025 → 0.03
    assert rules.hours_amount(Decimal(100), -7, "EUR") == Decimal("-11.67")
    assert rules.hours_amount(Decimal(1000), 7, "JPY") == Decimal(117)


def test_prorating_only_when_asked_and_mid_month():
    terms = preset_terms(Preset.SUBSCRIPTION, extra={"prorate": True})
    plain = preset_terms(Preset.SUBSCRIPTION)
    start, end = dt.date(2026, 3, 16), dt.date(2027, 2, 28)
    assert rules.prorate_factor(plain, start, end) == 1
    assert rules.prorate_factor(terms, dt.date(2026, 3, 1), end) == 1
    assert rules.prorate_factor(terms, start, end) == Decimal(350) / Decimal(365)


def test_each_line_traces_back_to_its_time_entries(cast, product):
    from retainer.cases import actions as case_actions

    sell(cast, product, Preset.PAY_AS_YOU_GO, overage_rate="120")
    case = open_case(cast, product)
    entries = [
        case_actions.do_log_time(case, agent=cast.agent, minutes=m, actor=cast.agent)
        for m in (30, 45)
    ]
    client = cast.client_for(cast.billing)
    run_billing(client)
    (invoice,) = invoices(client)

    items = client.get(url("invoice_items", invoice["id"])).json()["results"]

    assert {(i["source_type"], i["source_id"], i["quantity"]) for i in items} == {
        ("time_entry", str(entries[0].pk), 30),
        ("time_entry", str(entries[1].pk), 45),
    }
    assert {i["line"] for i in items} == {invoice["lines"][0]["id"]}
    assert cast.client_for(cast.contact).get(url("invoice_items", invoice["id"])).status_code == 403


def test_a_run_that_loses_a_race_rolls_its_batch_back_and_collects_again(
    cast, product, monkeypatch
):
    from retainer.billing import actions, run
    from retainer.billing.models import BilledItem

    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    orgs = {o.id: o for o in run._organizations(BillingRun(period=this_period().start))}
    stale = run.collect(orgs, this_period())  # what a concurrent run saw before we billed
    run_billing(cast.client_for(cast.billing))
    real_collect = run.collect
    calls = []

    def racing_collect(orgs, period):
        calls.append(period)
        return stale if len(calls) == 1 else real_collect(orgs, period)

    monkeypatch.setattr(run, "collect", racing_collect)
    late = run.execute_run(actions.do_create_run(period=this_period(), actor=None))

    assert len(calls) == 2  # the first batch hit the unique key and was collected again
    assert late.status == "succeeded" and late.items_done == 0
    assert BilledItem.objects.count() == 1
    assert Invoice.objects.count() == 1
