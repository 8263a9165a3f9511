"""The customer portal in a real browser: opening a case with the decision preview, a refusal
for an unnamed contact, replying with a file and rating the case, the balance on My support,
and the open-case form at phone width."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.cases import actions as case_actions
from retainer.cases.choices import CaseStatus, RootCause
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import AuthorizationPolicy, Preset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(cast, settings, tmp_path) -> dict[str, Any]:
    """A product with five releases (the last three supported), a backport offering, and an
    incident bank for Acme whose named contacts are the customer admin and Carl."""
    settings.MEDIA_ROOT = tmp_path
    admin = cast.admin
    product = catalog_actions.do_save_product(
        None, actor=admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    today = timezone.localdate()
    releases = [
        catalog_actions.do_save_release(
            None,
            actor=admin,
            product=product,
            version=version,
            ga_date=today - dt.timedelta(days=400 * (5 - n)),
        )
        for n, version in enumerate(["1.0", "2.0", "3.0", "4.0", "5.0"])
    ]
    catalog_actions.do_save_scope_policy(
        None, actor=admin, product=product, supported_previous_releases=2
    )
    catalog_actions.do_save_offering(
        None, actor=admin, kind="backport", name="Backport a fix", price=Decimal(2400)
    )
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=today - dt.timedelta(days=30),
        covered_products=[product],
        named_contacts=[cast.customer_admin, cast.contact],
        terms={"authorization_policy": AuthorizationPolicy.NAMED},
        actor=admin,
    )
    return {"product": product, "releases": releases, "contract": contract}


def choose_product_and_release(page: Any, version: str) -> None:
    page.get_by_label("Product").select_option(label="Ledgerline")
    expect(page.locator("#id_release")).to_contain_text(version)
    page.get_by_label("Release").select_option(label=version)


def test_a_contact_sees_the_decision_before_submitting_and_after(
    cast, desk, page, live_server, login
):
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    login("carl@acme.test", PASSWORD)
    page.get_by_role("link", name="Open a case").first.click()
    preview = page.locator("#decision-preview")
    expect(preview).to_contain_text("Choose a product")

    choose_product_and_release(page, "1.0")
    expect(preview).to_contain_text("Out of scope")
    expect(preview).to_contain_text("Backport a fix")
    expect(preview).to_contain_text("€2,400.00")

    page.get_by_label("Release").select_option(label="5.0")
    expect(preview).to_contain_text("Your request is covered by your support contract.")
    page.get_by_label("Subject").fill("Nightly posting stops")
    page.get_by_label("Description").fill("Error 42 since Tuesday.")
    page.get_by_role("button", name="Open the case").click()

    expect(page.get_by_role("heading", name="Coverage")).to_be_visible()
    expect(page.locator(".decision")).to_contain_text(
        "Your request is covered by your support contract."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nightly posting stops")
    assert not csp_errors


def test_an_unnamed_contact_sees_a_clear_refusal_and_the_offer(
    cast, desk, page, live_server, login
):
    login("uma@acme.test", PASSWORD)
    page.goto(f"{live_server.url}/portal/cases/new/")
    choose_product_and_release(page, "5.0")
    preview = page.locator("#decision-preview")
    expect(preview).to_contain_text("Not entitled")
    expect(preview).to_contain_text("You are not a named contact")
    expect(preview).to_contain_text("What you can do")


def test_a_contact_replies_with_a_file_and_rates_the_resolved_case(
    cast, desk, page, live_server, login
):
    case = case_actions.check_open_case(
        contact=cast.contact,
        product=desk["product"],
        release=desk["releases"][-1],
        subject="Export misses totals",
        description="The totals row is missing.",
        channel="web",
        actor=cast.contact.user,
    )
    login("carl@acme.test", PASSWORD)
    page.get_by_role("link", name="My cases").first.click()
    page.get_by_role("link", name=case.reference).click()

    page.get_by_label("Your reply").fill("Here is the export log.")
    page.get_by_label("Attach a file").set_input_files(
        {"name": "export.log", "mimeType": "text/plain", "buffer": b"totals: missing\n"}
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".conversation")).to_contain_text("Here is the export log.")
    expect(page.get_by_role("link", name="export.log")).to_be_visible()

    case_actions.do_add_message(case, author=cast.agent, body="Fixed in the report template.")
    case_actions.do_transition_case(
        case, CaseStatus.RESOLVED, actor=cast.agent, root_cause=RootCause.CONFIGURATION
    )
    page.reload()
    expect(page.locator(".conversation")).to_contain_text("Fixed in the report template.")
    page.get_by_label("Good").check()
    page.get_by_label("Anything you would like to add?").fill("Quick and clear.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(page.get_by_role("button", name="Close the case")).to_be_visible()


def test_my_support_shows_the_balance_going_down_after_a_consumption(
    cast, desk, page, live_server, login
):
    login("ada@acme.test", PASSWORD)
    page.get_by_role("link", name="My support").first.click()
    balance = page.locator(".balance-figure").first
    expect(balance).to_contain_text("10 incidents left")
    case_actions.check_open_case(
        contact=cast.contact,
        product=desk["product"],
        release=desk["releases"][-1],
        subject="Another question",
        description="How do I close a period?",
        channel="web",
        actor=cast.contact.user,
    )
    page.reload()
    expect(balance).to_contain_text("9 incidents left")
    expect(page.locator(".consumption")).to_contain_text("RT-")


def test_the_open_case_form_is_usable_at_phone_width(cast, desk, page, live_server, login):
    page.set_viewport_size({"width": 375, "height": 800})
    login("carl@acme.test", PASSWORD)
    page.goto(f"{live_server.url}/portal/cases/new/")
    choose_product_and_release(page, "5.0")
    expect(page.locator("#decision-preview")).to_contain_text("covered")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_label("Subject").fill("From my phone")
    page.get_by_label("Description").fill("Typed on a small screen.")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("From my phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
