"""Notification preferences and the unsubscribe link: one-click POST (RFC 8058) without
signing in, the preferences page for contacts and staff, transactional mail always sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.mail.actions.preferences import unsubscribe_token
from retainer.mail.choices import OutboundKind
from retainer.mail.models import MailEvent, MailOptOut
from retainer.mail.tests.conftest import deliver

pytestmark = pytest.mark.django_db


def _low_balance(cast, mail_desk) -> None:
    contract = contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        covered_products=[mail_desk.product],
        start_date=timezone.localdate() - dt.timedelta(days=10),
        actor=cast.admin,
    )
    contract_actions.do_consume(contract, quantity=8, key="t:1", source_type="t", actor=None)


def _link(address: str, kind: str = OutboundKind.LOW_BALANCE) -> str:
    return reverse("mail:unsubscribe", args=[unsubscribe_token(address, kind)])


def test_one_click_unsubscribe_needs_no_sign_in_and_stops_that_kind(cast, mail_desk, smtp):
    response = Client(enforce_csrf_checks=True).post(
        _link("Ada@acme.test"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert "no longer gets" in response.content.decode()
    assert MailOptOut.objects.filter(address="ada@acme.test", kind="low_balance").exists()
    event = MailEvent.objects.get(type="preferences_changed")
    assert event.data["off"] == ["low_balance"] and event.data["via"] == "link"
    _low_balance(cast, mail_desk)
    assert deliver() == 1
    assert [m["to"] for m in smtp.messages] == [["manager@vendor.test"]]


def test_following_the_link_asks_before_unsubscribing(cast):
    response = Client().get(_link("ada@acme.test"))
    assert response.status_code == 200
    assert 'name="List-Unsubscribe" value="One-Click"' in response.content.decode()
    assert not MailOptOut.objects.exists()


def test_a_forged_link_or_a_post_without_one_click_changes_nothing(cast):
    token = unsubscribe_token("ada@acme.test", OutboundKind.LOW_BALANCE)
    forged = reverse("mail:unsubscribe", args=[token[:-2] + "xx"])
    assert Client().post(forged, {"List-Unsubscribe": "One-Click"}).status_code == 400
    assert Client().post(_link("ada@acme.test"), {}).status_code == 400
    transactional = reverse("mail:unsubscribe", args=[unsubscribe_token("a@b.test", "invoice")])
    assert Client().get(transactional).status_code == 400
    assert not MailOptOut.objects.exists()


def test_a_contact_chooses_customer_kinds_on_the_preferences_page(cast):
    client = cast.client_for(cast.customer_admin)
    page = client.get(reverse("mail:preferences")).content.decode()
    assert "Fix released" in page and "SLA warning" not in page
    wanted = [
        "waiting_reminder",
        "fix_released",
        "allowance_exhausted",
        "renewal",
        "success_survey",
    ]
    response = client.post(reverse("mail:preferences"), {"wanted": wanted})
    assert response.status_code == 302
    assert list(MailOptOut.objects.values_list("address", "kind")) == [
        ("ada@acme.test", "low_balance")
    ]
    client.post(reverse("mail:preferences"), {"wanted": [*wanted, "low_balance"]})
    assert not MailOptOut.objects.exists()


def test_staff_choose_staff_kinds_and_cannot_turn_off_transactional_mail(cast):
    client = cast.client_for(cast.agent)
    assert "SLA breach" in client.get(reverse("mail:preferences")).content.decode()
    response = client.post(reverse("mail:preferences"), {"wanted": ["invoice_issued"]})
    assert response.status_code == 400
    assert not MailOptOut.objects.exists()
    client.post(reverse("mail:preferences"), {"wanted": ["sla_breach"]})
    assert set(MailOptOut.objects.values_list("kind", flat=True)) == {
        "sla_warning",
        "low_balance",
        "allowance_exhausted",
        "renewal",
    }
