"""Runs through the API and the command, add-ons and pro-rating, and the pure rules."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from retainer.billing import actions, rules
from retainer.billing.choices import InvoiceStatus, RunStatus
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


def test_starting_a_run_through_the_api_queues_it_and_the_worker_bills_it(
    cast, product, django_capture_on_commit_callbacks
):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)

    with django_capture_on_commit_callbacks() as commit:
        created = post(client, "billing_run_list", period=this_period().label, key="run-1")
    replay = post(client, "billing_run_list", period=this_period().label, key="run-1")
    billed_in_the_request = Invoice.objects.exists()
    for callback in commit:  # the commit: the job is enqueued and the worker runs it
        callback()
    status = client.get(url("billing_run_detail", created.json()["id"])).json()

    assert created.status_code == 202, created.json()
    assert created.json()["status"] == RunStatus.PENDING
    assert replay.json() == created.json()
    assert BillingRun.objects.count() == 1
    assert not billed_in_the_request
    assert status["status"] == RunStatus.SUCCEEDED
    assert (status["items_done"], status["items_total"], status["progress_percent"]) == (1, 1, 100)
    assert status["seconds_left"] == 0
    assert Invoice.objects.count() == 1


def test_the_run_shows_its_rate_and_time_left_while_it_runs():
    start = dt.datetime(2026, 10, 2, 12, tzinfo=dt.UTC)
    running = BillingRun(
        period=dt.date(2026, 9, 1),
        status=RunStatus.RUNNING,
        items_total=1000,
        items_done=250,
        started_at=start,
        heartbeat_at=start + dt.timedelta(seconds=10),
    )

    assert (running.progress_percent, running.items_per_second, running.seconds_left) == (
        25,
        25.0,
        30,
    )
    assert BillingRun(period=dt.date(2026, 9, 1)).seconds_left is None


def test_continuing_a_failed_run_queues_it_again_and_a_succeeded_one_is_left_alone(
    cast, product, django_capture_on_commit_callbacks
):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)
    failed = actions.do_create_run(period=this_period(), actor=cast.billing)
    BillingRun.objects.filter(pk=failed.pk).update(status=RunStatus.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        continued = post(client, "billing_run_start", failed.pk)
    with django_capture_on_commit_callbacks() as again:
        repeated = post(client, "billing_run_start", failed.pk)

    assert continued.status_code == repeated.status_code == 202
    assert BillingRun.objects.get(pk=failed.pk).status == RunStatus.SUCCEEDED
    assert repeated.json()["items_done"] == 1
    assert again == []  # nothing left to do, nothing queued
    assert post(client, "billing_run_start", 999999).status_code == 404


def test_a_run_whose_worker_is_alive_is_not_continued_twice(cast):
    billing_run = actions.do_create_run(period=this_period(), actor=cast.billing)
    BillingRun.objects.filter(pk=billing_run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )

    response = post(cast.client_for(cast.billing), "billing_run_start", billing_run.pk)

    assert response.status_code == 409
    assert response.json()["code"] == "run_in_progress"


def test_the_command_prints_progress_and_bills(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    out = io.StringIO()

    call_command("run_billing", "--period", this_period().label, stdout=out)

    text = out.getvalue()
    assert "[##############################] 1/1 items (100%)" in text
    assert "succeeded, 1 invoices, 1 lines, 1 items" in text


def test_the_command_can_only_queue_the_run(cast, product, django_capture_on_commit_callbacks):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as commit:
        call_command("run_billing", "--period", this_period().label, "--no-wait", stdout=out)

    billing_run = BillingRun.objects.get()
    assert f"Billing run {billing_run.pk} for {this_period().label} is queued." in out.getvalue()
    assert billing_run.status == RunStatus.PENDING
    assert len(commit) >= 1  # the job, enqueued once the command's transaction commits


def test_the_command_refuses_a_future_period(cast):
    with pytest.raises(CommandError, match="has not started"):
        call_command("run_billing", "--period", "2099-01", stdout=io.StringIO())
    assert not BillingRun.objects.exists()


def test_a_draft_run_leaves_unnumbered_drafts(cast, product):
    sell(cast, product, Preset.PAY_AS_YOU_GO, unit="incidents", overage_rate="95")
    open_case(cast, product)
    client = cast.client_for(cast.billing)

    run_billing(client, issue=False)
    (draft,) = invoices(client)
    issued = post(client, "invoice_issue", draft["id"])

    assert (draft["status"], draft["number"]) == (InvoiceStatus.DRAFT, None)
    assert Decimal(draft["total"]) == Decimal(95)
    assert issued.json()["status"] == InvoiceStatus.ISSUED
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


@time_machine.travel(dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC), tick=False)
def test_a_prorated_term_starting_mid_month_is_billed_for_its_days(cast, product):
    start = dt.date(2026, 3, 10)
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.SUBSCRIPTION,
        start_date=start,
        end_date=dt.date(2027, 2, 28),
        covered_products=[product],
        terms={"price_basis": "fixed", "price_amount": "3650", "extra": {"prorate": True}},
        actor=cast.admin,
    )
    client = cast.client_for(cast.billing)

    run_billing(client)

    (invoice,) = invoices(client)
    factor = rules.prorate_factor(contract.plan_terms, contract.start_date, contract.end_date)
    assert factor == Decimal(356) / Decimal(365)  # 10 March to 28 February of 365 days
    assert Decimal(invoice["lines"][0]["amount"]) == Decimal(3560)
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
    from retainer.billing import run
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
    assert late.status == RunStatus.SUCCEEDED and late.items_done == 0
    assert BilledItem.objects.count() == 1
    assert Invoice.objects.count() == 1


def test_the_command_shows_the_rate_and_the_time_left_once_a_batch_is_done():
    from retainer.billing.management.commands.run_billing import pace

    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    run = BillingRun(status=RunStatus.RUNNING, items_total=10_000, items_done=0)
    assert pace(run) == ""  # no batch yet: no rate
    run.started_at, run.heartbeat_at, run.items_done = start, start + dt.timedelta(seconds=2), 2500
    assert pace(run) == ", 1,250 items/s, 0:06 left"
    run.status = RunStatus.SUCCEEDED
    assert pace(run) == ", 1,250 items/s, 0:00 left"
