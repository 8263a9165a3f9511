"""The Mail page's review queue in a real browser: an agent finds a message from a staff
address in review, is refused an unknown contact, opens the case for the right one; the
billing clerk reads the message but is offered no decision and is refused one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.mail import actions
from retainer.mail.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

SPOOF = (
    b"From: Ann Agent <agent@vendor.test>\r\nTo: support@vendor.test\r\n"
    b"Subject: Please send your password\r\nMessage-ID: <spoof-1@evil.test>\r\n"
    b"Content-Type: text/plain\r\n\r\nReply with your password.\r\n"
)


@pytest.fixture
def in_review(cast) -> InboundMessage:
    product = catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(1000),
        currency="EUR",
    )
    contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.SUBSCRIPTION,
        covered_products=[product],
        start_date=timezone.localdate() - dt.timedelta(days=30),
        actor=cast.admin,
    )
    mailbox = actions.do_save_mailbox(
        None,
        values={"name": "support", "address": "support@vendor.test", "product": product},
        actor=cast.admin,
    )
    row, _ = actions.do_receive_mail(mailbox, SPOOF)
    return actions.process_inbound(row.pk)


def test_an_agent_opens_a_case_from_the_review_queue(cast, in_review, page: Any, login):
    login("agent@vendor.test", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mail").click()
    page.get_by_role("link", name="Review queue (1)").click()
    page.get_by_role("link", name="Please send your password").click()
    expect(page.get_by_text("staff_address")).to_be_visible()
    page.get_by_label("Contact's e-mail address").fill("nobody@nowhere.test")
    page.get_by_role("button", name="Open a case").click()
    expect(page.get_by_text("No contact has this e-mail address.")).to_be_visible()
    page.get_by_label("Contact's e-mail address").fill("carl@acme.test")
    page.get_by_role("button", name="Open a case").click()
    expect(page.get_by_text("Case opened.")).to_be_visible()
    in_review.refresh_from_db()
    assert in_review.case is not None and in_review.case.contact == cast.contact
    expect(page.get_by_role("link", name=in_review.case.reference)).to_be_visible()


def test_billing_reads_a_message_but_may_not_decide(cast, in_review, page: Any, live_server, login):
    login("billing@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/mail/inbound/{in_review.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Please send your password")
    expect(page.get_by_role("button", name="Open a case")).to_have_count(0)
    response = page.request.post(
        f"{live_server.url}/console/mail/inbound/{in_review.pk}/reject/",
        form={"reason": "spam"},
        headers={
            "X-CSRFToken": next(
                c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"
            )
        },
    )
    assert response.status == 403
