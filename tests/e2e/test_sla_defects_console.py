"""SLA settings and defects in a real browser: a manager sets up a calendar (after a bad
hours value is refused beside its weekday) and a target; an agent may read the settings
but not change them; an agent records a defect, links a case and marks it fixed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.cases import actions as case_actions
from retainer.cases.models import BusinessCalendar, SlaTarget
from retainer.catalog import actions as catalog_actions

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_sets_up_a_calendar_and_a_target(cast, page: Any, live_server, login):
    login("manager@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/")
    page.get_by_role("link", name="SLA", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SLA settings")

    page.get_by_role("link", name="New calendar").click()
    page.get_by_label("Name").fill("Berlin office")
    page.get_by_label("Time zone", exact=True).fill("Europe/Berlin")
    page.get_by_label("Monday").fill("18:00-09:00")
    page.get_by_label("Tuesday").fill("09:00-18:00")
    page.get_by_label("Holidays").fill("2026-12-25")
    page.get_by_role("button", name="Save the calendar").click()
    expect(page.locator(".error")).to_contain_text("ends before it starts")
    assert not BusinessCalendar.objects.exists()

    page.get_by_label("Monday").fill("09:00-12:30, 13:30-18:00")
    page.get_by_role("button", name="Save the calendar").click()
    expect(page.get_by_text("Saved Berlin office.")).to_be_visible()
    expect(page.locator("table.list").first).to_contain_text("Monday 09:00-12:30, 13:30-18:00")

    page.get_by_role("link", name="New target").click()
    page.get_by_label("Severity").select_option("1")
    page.get_by_label("Calendar").select_option(label="Berlin office")
    page.get_by_label("First response").fill("0:30")
    page.get_by_label("Resolution").fill("8:00")
    page.get_by_label("On breach").select_option("raise_priority")
    page.get_by_role("button", name="Save the target").click()
    expect(page.get_by_text("Saved Default · severity 1.")).to_be_visible()
    row = page.locator("table.list").nth(1).locator("tbody tr").first
    expect(row).to_contain_text("0:30")
    expect(row).to_contain_text("Raise the priority one step")
    assert SlaTarget.objects.get().first_response_minutes == 30


def test_an_agent_reads_the_sla_settings_but_may_not_change_them(
    cast, page: Any, live_server, login
):
    case_actions.do_save_calendar(None, name="Office", always_open=True, actor=cast.admin)
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/sla/")
    expect(page.get_by_role("cell", name="Office")).to_be_visible()
    expect(page.get_by_role("link", name="New calendar")).to_have_count(0)
    response = page.goto(f"{live_server.url}/console/sla/calendars/new/")
    assert response is not None and response.status == 403


def test_an_agent_records_a_defect_links_a_case_and_marks_it_fixed(
    cast, page: Any, live_server, login
):
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline",
        list_price=Decimal(100), currency="EUR",
    )  # fmt: skip
    for version in ("5.0", "5.1"):
        catalog_actions.do_save_release(
            None, actor=cast.admin, product=product, version=version,
            ga_date=timezone.localdate() - dt.timedelta(days=30),
        )  # fmt: skip
    case = case_actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=product, subject="Posting stops",
        description="Error 42.", channel="web",
    )  # fmt: skip
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/")
    page.get_by_role("link", name="Defects").click()
    page.get_by_role("link", name="New defect").click()
    page.get_by_label("Product").select_option(label="Ledgerline")
    page.get_by_label("Title").fill("Posting job stops at midnight")
    page.get_by_role("button", name="Record the defect").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posting job stops at midnight")

    page.get_by_label("Case reference").fill(case.reference)
    page.get_by_role("button", name="Link").click()
    expect(page.get_by_text(f"{case.reference} linked.")).to_be_visible()
    page.get_by_label("Fixed in release").select_option(label="5.1")
    page.get_by_role("button", name="Mark fixed").click()
    expect(page.get_by_text("Fixed in 5.1: 1 requester(s) of open cases to tell.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fixed")

    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_text("fixed in 5.1")).to_be_visible()
