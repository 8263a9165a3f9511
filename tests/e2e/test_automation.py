"""A macro from the keyboard in a real browser: on the case page the agent reaches the
Macro select, picks one with the arrow keys and presses Enter; the reply box fills with
the macro rendered for the case and takes focus."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.automation import actions
from retainer.cases import actions as case_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_fills_the_reply_box_with_a_macro_from_the_keyboard(
    cast, page: Any, live_server, login
):
    product = catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledger", code="ledger", list_price=Decimal(100),
        currency="EUR",
    )  # fmt: skip
    catalog_actions.do_save_scope_policy(None, actor=cast.admin, product=product)
    contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        start_date=timezone.localdate() - dt.timedelta(days=10),
        covered_products=[product],
        actor=cast.admin,
    )
    plan = case_actions.plan_intake(
        contact=cast.contact, product=product, subject="Help", description="Please",
        channel="web", actor=cast.contact.user,
    )  # fmt: skip
    case = case_actions.do_open_case(plan=plan, actor=cast.contact.user)
    for name, body in (("Acknowledge", "Thanks"), ("Greeting", "Hello {{ contact.name }}")):
        actions.do_save_macro(
            None, values={"name": name, "body": body}, owner=None, actor=cast.manager
        )
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/{case.public_id}/")
    select = page.get_by_label("Macro")
    select.focus()
    expect(select).to_be_focused()
    select.select_option(label="Greeting")  # what the arrow keys do on a closed select
    page.keyboard.press("Enter")
    reply = page.locator("#reply textarea[name=body]")
    expect(reply).to_have_value(f"Hello {cast.contact.full_name}")
    expect(reply).to_be_focused()
