"""The agent console in a real browser: an agent picks up a customer's case, replies, logs
45 minutes with the timer and resolves it with a root cause; the customer then sees the
reply and the lower balance and rates the case. Keyboard shortcuts drive the same page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.cases import actions as case_actions
from retainer.cases.models import Case, RunningTimer, TimeEntry
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case(cast) -> Case:
    product = catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(50000),
        currency="EUR",
    )
    release = catalog_actions.do_save_release(
        None,
        actor=cast.admin,
        product=product,
        version="5.0",
        ga_date=timezone.localdate() - dt.timedelta(days=30),
    )
    contract_actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=timezone.localdate() - dt.timedelta(days=10),
        covered_products=[product], terms={"unit": "hours", "quantity": 10 * 60, "exhaustion_policy": "bill",
                                           "overage_rate": Decimal(150)},
        actor=cast.admin,
    )  # fmt: skip
    return case_actions.check_open_case(
        contact=cast.contact, product=product, release=release, subject="Posting job stops",
        description="Error 42 every night.", channel="web", actor=cast.contact.user,
    )  # fmt: skip


def test_an_agent_works_a_case_and_the_customer_sees_the_result(
    cast, case, page: Any, live_server, login, browser
):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/?view=unassigned")
    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Posting job stops")
    expect(page.locator(".decision")).to_contain_text("Covered")

    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_text("Assigned to Ann Agent.")).to_be_visible()
    page.get_by_label("Message").fill("Please apply the **hotfix** and retry.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".timeline")).to_contain_text("Please apply the hotfix and retry.")

    page.get_by_role("button", name="Start timer").click()
    expect(page.get_by_text("Timer running since")).to_be_visible()
    page.reload()  # the timer survives a reload
    expect(page.get_by_text("Timer running since")).to_be_visible()
    RunningTimer.objects.filter(agent=cast.agent).update(
        started_at=timezone.now() - dt.timedelta(minutes=45)
    )
    page.get_by_role("button", name="Stop and log").click()
    expect(page.get_by_text("Logged 45 minutes.")).to_be_visible()

    page.get_by_label("Minutes").fill("600")
    expect(page.locator("#time-preview")).to_contain_text(
        "0:45 overage"
    )  # 9:15 left before this entry

    page.locator("select[name=root_cause]").select_option("configuration")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".case-header")).to_contain_text("Resolved")
    assert TimeEntry.objects.get().minutes == 45
    assert Contract.objects.get().balance == 10 * 60 - 45

    customer = browser.new_page()
    customer.goto(f"{live_server.url}/login/")
    customer.get_by_label("E-mail").fill("carl@acme.test")
    customer.get_by_label("Password").fill(PASSWORD)
    customer.get_by_role("button", name="Sign in").click()
    customer.goto(f"{live_server.url}/portal/cases/{case.public_id}/")
    expect(customer.locator("body")).to_contain_text("Please apply the hotfix and retry.")
    customer.goto(f"{live_server.url}/portal/support/")
    expect(customer.locator("body")).to_contain_text("9:15")
    customer.goto(f"{live_server.url}/portal/cases/{case.public_id}/")
    customer.get_by_label("Good").check()
    customer.get_by_role("button", name="Send rating").click()
    expect(customer.get_by_text("Thank you for your feedback.")).to_be_visible()


def test_keyboard_shortcuts_drive_the_case_page(cast, case, page: Any, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/{case.public_id}/")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("button", name="Close").click()
    page.keyboard.press("a")
    expect(page.get_by_text("Assigned to Ann Agent.")).to_be_visible()
    page.keyboard.press("n")
    expect(page.get_by_label("Message")).to_be_focused()
    assert page.locator("#reply input[type=checkbox]").is_checked()
    page.evaluate("document.activeElement.blur()")  # shortcuts never fire while typing
    page.keyboard.press("t")
    expect(page.get_by_text("Timer running since")).to_be_visible()
    page.keyboard.press("t")
    expect(page.get_by_text("Logged 1 minute.")).to_be_visible()
    page.goto(f"{live_server.url}/console/cases/?view=active")
    page.keyboard.press("j")
    page.wait_for_url(f"**/console/cases/{case.public_id}/")


@pytest.mark.parametrize("path", ["queue", "case", "organization", "contracts"])
def test_console_pages_fit_a_phone_screen(cast, case, page: Any, live_server, login, path):
    page.set_viewport_size({"width": 375, "height": 800})
    login("agent@vendor.test", PASSWORD)
    url = {
        "queue": "/console/cases/?view=active",
        "case": f"/console/cases/{case.public_id}/",
        "organization": f"/console/organizations/{cast.acme.pk}/",
        "contracts": "/console/contracts/",
    }[path]
    page.goto(f"{live_server.url}{url}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
