"""The console's new-case form, search and refusals in a real browser, and the portal's
coverage preview on a phone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def product(cast) -> Product:
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline",
        list_price=Decimal(50000), currency="EUR",
    )  # fmt: skip
    catalog_actions.do_save_release(
        None, actor=cast.admin, product=product, version="5.0",
        ga_date=timezone.localdate() - dt.timedelta(days=30),
    )  # fmt: skip
    contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK,
        start_date=timezone.localdate() - dt.timedelta(days=10),
        covered_products=[product], actor=cast.admin,
    )  # fmt: skip
    return product


def test_an_agent_opens_a_case_for_a_caller_with_the_decision_preview(
    cast, product, page: Any, live_server, login
):
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/new/")
    page.get_by_label("Organization", exact=True).fill("acm")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Open a case for Acme").click()
    preview = page.locator("#decision-preview")
    expect(preview).to_contain_text("Choose the contact and the product")

    page.get_by_label("Contact").select_option(label="Carl Contact · carl@acme.test")
    expect(page.get_by_label("Channel")).to_have_value("phone")
    page.get_by_label("Product").select_option(label="Ledgerline")
    expect(page.locator("#id_release")).to_contain_text("5.0")
    page.get_by_label("Release").select_option(label="5.0")
    expect(preview).to_contain_text("Covered by contract #")
    expect(preview).to_contain_text("Your request is covered by your support contract.")

    page.get_by_label("Subject").fill("Called: posting stops")
    page.get_by_label("Description").fill("The nightly job stops with error 42.")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Called: posting stops")
    expect(page.locator(".case-header")).to_contain_text("Phone")
    case = Case.objects.get()
    assert (case.channel, case.contact_id, case.opened_by_id) == (
        "phone",
        cast.contact.pk,
        cast.agent.pk,
    )
    assert not csp_errors


def test_search_finds_a_case_by_a_word_of_its_conversation(
    cast, product, page: Any, live_server, login
):
    case = case_actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=product, subject="Nightly job",
        description="It stops.", channel="web",
    )  # fmt: skip
    case_actions.do_add_message(case, author=cast.contact.user, body="The capacitor overheats")
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/")
    search = page.get_by_role("search").get_by_role("searchbox").first
    search.fill("capacitor")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nightly job")


def test_a_billing_clerk_may_not_open_a_case(cast, product, page: Any, live_server, login):
    login("billing@vendor.test", PASSWORD)
    response = page.goto(f"{live_server.url}/console/cases/new/?organization={cast.acme.pk}")
    assert response is not None and response.status == 403
    assert not Case.objects.exists()


def test_on_a_phone_the_portal_preview_sits_above_the_submit_button(
    cast, product, page: Any, live_server, login
):
    page.set_viewport_size({"width": 375, "height": 800})
    login("carl@acme.test", PASSWORD)
    page.goto(f"{live_server.url}/portal/cases/new/")
    page.get_by_label("Product").select_option(label="Ledgerline")
    preview = page.locator("#decision-preview")
    expect(preview).to_contain_text("covered")
    button = page.get_by_role("button", name="Open the case")
    above, below = preview.bounding_box(), button.bounding_box()
    assert above is not None and below is not None
    assert above["y"] + above["height"] <= below["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
