"""The metrics dashboards in a real browser: the overview draws every chart with no
console error, also on a phone; a number drills down to the rows behind it; an agent is
refused the dashboards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.accounts import actions as account_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book(cast) -> Any:
    """Acme pays 100 a month on a three-year term since last year; Newco starts at 45 a
    month this month."""
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    newco = account_actions.do_create_organization(name="Newco", actor=None)
    this_month = timezone.localdate().replace(day=1)
    for organization, monthly, start, months in (
        (cast.acme, 100, this_month - dt.timedelta(days=400), 36),
        (newco, 45, this_month, 12),
    ):
        contract_actions.do_create_contract(
            organization=organization,
            preset=Preset.FIXED_FEE,
            start_date=start,
            covered_products=[product],
            terms={"price_amount": Decimal(monthly * months), "term_months": months},
            actor=cast.admin,
        )
    return newco


def test_the_overview_draws_its_charts_and_a_number_drills_down_to_its_rows(
    cast, book, page: Any, live_server, login
):
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login("manager@vendor.test", PASSWORD)
    page.get_by_role("link", name="Metrics", exact=True).click()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_have_attribute("data-drawn", "true")
    assert canvases.count() >= 4
    assert page.locator("canvas[data-drawn='true']").count() == canvases.count()

    table = page.locator("#table-revenue_summary")
    new_row = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="New", exact=True)
    )
    expect(new_row).to_contain_text("€45.00")
    new_row.get_by_role("link").click()

    expect(page.get_by_role("heading", name="New MRR")).to_be_visible()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Newco")
    expect(rows.first).to_contain_text("€45.00")
    # The browser asks for /favicon.ico on its own; there is none (404), which is no error
    # of these pages.
    assert [e for e in errors if "favicon.ico" not in e] == []


def test_the_overview_reads_on_a_phone(cast, book, page: Any, live_server, login):
    page.set_viewport_size({"width": 375, "height": 800})
    login("manager@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/metrics/")
    expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "true")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375


def test_an_agent_reaches_their_own_page_and_is_refused_the_dashboards(
    cast, page: Any, live_server, login
):
    login("agent@vendor.test", PASSWORD)
    page.get_by_role("link", name="Metrics", exact=True).click()
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    expect(page.get_by_role("link", name="Overview")).to_have_count(0)
    response = page.goto(f"{live_server.url}/console/metrics/")
    assert response is not None and response.status == 403
