"""The billing console in a real browser: a billing clerk starts a run and follows its
progress, is refused a run for a future month, issues a draft and downloads its PDF; an
agent is refused billing; a customer's invoice cards keep their labels on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.billing import actions
from retainer.billing.models import BillingRun, Invoice
from retainer.billing.rules import period_of
from retainer.billing.run import execute_run
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs_inline() -> Iterator[None]:
    """The job worker, inline: a queued run is billed as soon as its request commits."""
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous


@pytest.fixture
def fee(cast) -> None:
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.FIXED_FEE,
        start_date=timezone.localdate().replace(day=1), covered_products=[product],
        terms={"price_amount": Decimal(540)}, actor=cast.admin,
    )  # fmt: skip


def test_billing_starts_a_run_and_follows_it_to_the_end(
    cast, fee, jobs_inline, page: Any, live_server, login
):
    login("billing@vendor.test", PASSWORD)
    page.get_by_role("link", name="Billing", exact=True).click()
    page.get_by_role("link", name="Billing runs").click()

    page.get_by_label("Period (YYYY-MM)").fill("2999-01")
    page.get_by_role("button", name="Start the run").click()
    expect(page.get_by_text("The period 2999-01 has not started")).to_be_visible()
    assert not BillingRun.objects.exists()

    period = period_of(timezone.localdate()).label
    page.get_by_label("Period (YYYY-MM)").fill(period)
    page.get_by_role("button", name="Start the run").click()
    expect(page.get_by_text(f"for {period} is queued.")).to_be_visible()
    expect(page.locator("#run-progress")).to_contain_text("Succeeded")
    page.get_by_role("link", name="See the invoices").click()
    expect(page.locator("table.list")).to_contain_text("€540.00")

    # A run the worker has not reached yet: the page follows it without a reload.
    waiting = actions.do_create_run(period=period_of(timezone.localdate()), actor=cast.billing)
    page.goto(f"{live_server.url}/console/billing/runs/{waiting.pk}/")
    expect(page.locator("#run-progress")).to_contain_text("Pending")
    execute_run(waiting)  # what the worker does
    expect(page.locator("#run-progress")).to_contain_text("Succeeded", timeout=10_000)


def test_billing_issues_a_draft_and_downloads_its_pdf(cast, page: Any, live_server, login):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=period_of(timezone.localdate()), actor=cast.billing
    )
    actions.do_add_line(
        invoice, description="Consulting", quantity=Decimal(2), unit_price=Decimal("617.25"),
        currency="EUR", actor=cast.billing,
    )  # fmt: skip
    login("billing@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/invoices/?status=draft")
    page.get_by_role("link", name="Draft", exact=True).click()

    page.get_by_role("button", name="Issue the invoice").click()
    number = Invoice.objects.get().number
    expect(page.get_by_text(f"Issued as {number}.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("tfoot")).to_contain_text("€1,234.50")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    with open(download.value.path(), "rb") as body:
        assert body.read(4) == b"%PDF"

    page.get_by_role("button", name="Mark as paid").click()
    expect(page.get_by_text("Marked as paid.")).to_be_visible()
    page.get_by_label("Reason").fill("Goodwill")
    page.get_by_role("button", name="Issue the credit note").click()
    expect(page.get_by_text("Credit note CN-")).to_be_visible()


def test_an_agent_is_refused_billing_and_a_manager_only_reads(
    cast, page: Any, live_server, login, browser
):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=period_of(timezone.localdate()), actor=cast.billing
    )
    login("agent@vendor.test", PASSWORD)
    expect(page.get_by_role("link", name="Billing", exact=True)).to_have_count(0)
    response = page.goto(f"{live_server.url}/console/invoices/")
    assert response is not None and response.status == 403

    manager = browser.new_page()
    manager.goto(f"{live_server.url}/login/")
    manager.get_by_label("E-mail").fill("manager@vendor.test")
    manager.get_by_label("Password").fill(PASSWORD)
    manager.get_by_role("button", name="Sign in").click()
    manager.goto(f"{live_server.url}/console/invoices/{invoice.pk}/")
    expect(manager.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
    expect(manager.get_by_role("button", name="Issue the invoice")).to_have_count(0)


def test_the_customers_invoice_cards_keep_their_labels_on_a_phone(
    cast, page: Any, live_server, login
):
    invoice = actions.do_create_invoice(
        organization=cast.acme, period=period_of(timezone.localdate()), actor=cast.billing
    )
    actions.do_add_line(
        invoice, description="Support", quantity=Decimal(1), unit_price=Decimal(99),
        currency="EUR", actor=cast.billing,
    )  # fmt: skip
    actions.do_issue_invoice(invoice, actor=cast.billing)
    page.set_viewport_size({"width": 375, "height": 740})
    login("carl@acme.test", PASSWORD)
    page.get_by_role("link", name="Invoices").click()

    total = page.locator("td[data-label=Total]")
    expect(total).to_contain_text("€99.00")
    label = total.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Total"'
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
