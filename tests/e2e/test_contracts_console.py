"""Plans and contracts in the console, in a real browser: billing creates an hour-bank
plan and sells it to Acme from Acme's page; a manager names contacts up to the plan's
limit and is told why one more is refused; an agent is refused the forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract, SupportPlan

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def product(cast) -> Product:
    return catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline",
        list_price=Decimal(50000), currency="EUR",
    )  # fmt: skip


def test_billing_creates_a_plan_and_sells_it_from_the_organization_page(
    cast, product, page: Any, live_server, login
):
    login("billing@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/plans/")
    page.get_by_role("link", name="New plan").click()
    page.get_by_role("link", name="Bank (prepaid hours or incidents)").click()
    page.get_by_label(re.compile(r"^Name:?$")).fill("Gold hours")
    page.get_by_label("Code (stable across versions)").fill("gold-hours")
    page.get_by_label("Ledgerline").check()
    page.get_by_label("Allowance unit").select_option("hours")
    page.get_by_label("Allowance per term (incidents, or hours)").fill("40")
    page.get_by_label("Price per term (fixed)").fill("6000")
    page.get_by_label("When used up").select_option("bill")
    page.get_by_role("button", name="Create the plan").click()
    # Billing overage needs a rate: the refusal is shown beside the field.
    expect(
        page.get_by_text("Billing overage needs a positive overage rate.", exact=True)
    ).to_be_visible()
    page.get_by_label("Overage rate (per hour, or per incident)").fill("150")
    page.get_by_role("button", name="Create the plan").click()
    expect(page.get_by_text("Plan Gold hours v1 created.")).to_be_visible()

    page.goto(f"{live_server.url}/console/organizations/{cast.acme.pk}/")
    page.get_by_role("link", name="Sell a contract").click()
    page.get_by_label(re.compile(r"^Plan:?$")).select_option(
        label="Gold hours (Bank (prepaid hours or incidents))"
    )
    page.get_by_label("Start date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Sell the contract").click()
    name = f"Acme — Gold hours {timezone.localdate().year}"
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator(".balance-after").first).to_have_text("40:00 h")
    contract = Contract.objects.get()
    assert (contract.plan, contract.balance) == (SupportPlan.objects.get(), 40 * 60)


def test_a_manager_is_told_when_one_more_named_contact_is_over_the_limit(
    cast, product, page: Any, live_server, login
):
    contract = contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.MAINTENANCE, start_date=timezone.localdate(),
        covered_products=[product], actor=cast.admin,
        terms={"authorization_policy": "named", "max_named_contacts": 1},
    )  # fmt: skip
    login("manager@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/contracts/{contract.pk}/")
    page.get_by_role("link", name="Named contacts").click()
    page.get_by_label(re.compile(r"^Contact:?$")).select_option(
        label="Carl Contact <carl@acme.test>"
    )
    page.get_by_role("button", name="Name this contact").click()
    expect(page.get_by_text("Named contacts saved.")).to_be_visible()
    page.get_by_label(re.compile(r"^Contact:?$")).select_option(label="Ada Admin <ada@acme.test>")
    page.get_by_role("button", name="Name this contact").click()
    expect(page.locator("form .error")).to_contain_text("allows at most 1 named contacts")
    assert list(contract.named_contacts.all()) == [cast.contact]


def test_an_agent_is_refused_the_plan_and_sale_forms(cast, product, page: Any, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/plans/")
    expect(page.get_by_role("heading", name="Plan catalogue")).to_be_visible()
    expect(page.get_by_role("link", name="New plan")).to_have_count(0)
    response = page.goto(f"{live_server.url}/console/plans/new/?preset=bank")
    assert response is not None and response.status == 403
    response = page.goto(f"{live_server.url}/console/contracts/new/")
    assert response is not None and response.status == 403
