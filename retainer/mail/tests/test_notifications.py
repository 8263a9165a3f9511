"""The notification kinds over a real SMTP conversation (aiosmtpd): who gets each one, its
subject, threading headers where it belongs to a case's thread, the unsubscribe headers
of optional kinds, and never another organization's data or an internal note."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.billing import actions as billing_actions
from retainer.billing import services
from retainer.billing.rules import parse_period
from retainer.cases import actions as case_actions
from retainer.cases.choices import SlaAction
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.mail import notifications
from retainer.mail.choices import OutboundKind
from retainer.mail.models import OutboundMessage
from retainer.mail.tests.conftest import case_of, deliver, feed, message

pytestmark = pytest.mark.django_db


def _recipients(smtp) -> list[str]:
    return sorted(r for m in smtp.messages for r in m["to"])


def _text(sent) -> str:
    return sent.get_body(("plain",)).get_content()


@pytest.fixture
def emailed_case(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message())
    deliver()
    smtp.messages.clear()
    return case_of(row)


def _bank(cast, mail_desk, **terms):
    return contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.BANK,
        covered_products=[mail_desk.product],
        start_date=timezone.localdate() - dt.timedelta(days=10),
        terms=terms or None,
        name="Acme incident bank",
        actor=cast.admin,
    )


def _consume(contract, quantity: int, key: str, cast) -> None:
    contract_actions.do_consume(
        contract, quantity=quantity, key=key, source_type="test", actor=cast.admin
    )


# --- Low balance and allowance exhausted --------------------------------------------------------


def test_low_balance_goes_to_the_customer_admins_and_the_account_owner_once_per_crossing(
    cast, mail_desk, smtp
):
    contract = _bank(cast, mail_desk)  # 10 incidents, warned at 2
    _consume(contract, 8, "t:1", cast)
    assert deliver() == 2
    assert _recipients(smtp) == ["ada@acme.test", "manager@vendor.test"]
    for sent in smtp.parsed():
        assert sent["Subject"] == "Balance low: Acme incident bank"
        assert "2 incidents" in _text(sent)
        assert sent["List-Unsubscribe"].strip().startswith("<https://support.vendor.test/mail/")
        assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Globex" not in _text(sent) and "In-Reply-To" not in sent
    smtp.messages.clear()
    _consume(contract, 1, "t:2", cast)  # still low: no second crossing
    assert deliver() == 0


def test_an_exhausted_allowance_sends_one_e_mail_per_person_for_the_entry(cast, mail_desk, smtp):
    contract = _bank(cast, mail_desk, exhaustion_policy="allow")
    _consume(contract, 11, "t:1", cast)  # crosses the threshold and zero at once
    assert deliver() == 2
    assert _recipients(smtp) == ["ada@acme.test", "manager@vendor.test"]
    assert {m["Subject"] for m in smtp.parsed()} == {"Allowance used up: Acme incident bank"}
    assert OutboundMessage.objects.filter(kind=OutboundKind.ALLOWANCE_EXHAUSTED).count() == 2
    assert not OutboundMessage.objects.filter(kind=OutboundKind.LOW_BALANCE).exists()


# --- SLA warning and breach -----------------------------------------------------------------


def test_sla_warning_and_breach_go_to_the_assignee_outside_the_customer_thread(
    cast, mail_desk, smtp
):
    calendar = case_actions.do_save_calendar(None, name="24x7", always_open=True, actor=cast.admin)
    for severity in (1, 2, 3, 4):
        case_actions.do_save_sla_target(
            None, severity=severity, calendar=calendar, first_response_minutes=60,
            resolution_minutes=6000, warning_action=SlaAction.NONE, actor=cast.admin,
        )  # fmt: skip
    opened = timezone.now()
    case = case_of(feed(mail_desk.mailbox, message()))
    case_actions.do_update_case(case, assignee=cast.agent, actor=cast.manager)
    case_actions.check_reply(cast.agent, case, body="Secret internal remark", internal=True)
    deliver()
    smtp.messages.clear()
    case_actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=55))
    assert deliver() == 1
    (warning,) = smtp.parsed()
    assert _recipients(smtp) == ["agent@vendor.test"]
    assert warning["Subject"] == (
        f"[{case.reference}] First response target is about to breach: {case.subject}"
    )
    assert "In-Reply-To" not in warning and "References" not in warning
    assert "Secret internal remark" not in smtp.messages[0]["data"].decode()
    assert f"/console/cases/{case.public_id}/" in _text(warning)
    smtp.messages.clear()
    case_actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=61))
    assert deliver() == 1
    (breach,) = smtp.parsed()
    assert breach["Subject"].startswith(f"[{case.reference}] First response target breached")
    assert OutboundMessage.objects.get(kind=OutboundKind.SLA_BREACH).case == case


def _sla_targets(cast) -> None:
    calendar = case_actions.do_save_calendar(None, name="24x7", always_open=True, actor=cast.admin)
    for severity in (1, 2, 3, 4):
        case_actions.do_save_sla_target(
            None, severity=severity, calendar=calendar, first_response_minutes=60,
            resolution_minutes=6000, warning_action=SlaAction.NONE, actor=cast.admin,
        )  # fmt: skip


def test_sla_warning_and_breach_go_to_the_assignee_and_the_lead_of_the_cases_team(
    cast, mail_desk, smtp
):
    _sla_targets(cast)
    team = account_actions.do_save_team(
        None, name="Night shift", members=[cast.agent, cast.billing], lead=cast.manager,
        actor=cast.admin,
    )  # fmt: skip
    opened = timezone.now()
    case = case_of(feed(mail_desk.mailbox, message()))
    case_actions.do_update_case(case, assignee=cast.agent, queue=team, actor=cast.manager)
    deliver()
    smtp.messages.clear()
    case_actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=55))
    assert deliver() == 2
    assert _recipients(smtp) == ["agent@vendor.test", "manager@vendor.test"]
    smtp.messages.clear()
    case_actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=61))
    assert deliver() == 2
    assert _recipients(smtp) == ["agent@vendor.test", "manager@vendor.test"]
    assert {m["Subject"].split(": ")[0] for m in smtp.parsed()} == {
        f"[{case.reference}] First response target breached"
    }
    assert OutboundMessage.objects.filter(kind=OutboundKind.SLA_BREACH).count() == 2


def test_an_unassigned_case_warns_the_team_and_its_lead_once_each(cast, mail_desk, smtp):
    _sla_targets(cast)
    team = account_actions.do_save_team(
        None, name="Night shift", members=[cast.agent, cast.manager], lead=cast.manager,
        actor=cast.admin,
    )  # fmt: skip
    opened = timezone.now()
    case = case_of(feed(mail_desk.mailbox, message()))
    case_actions.do_update_case(case, queue=team, actor=cast.manager)
    deliver()
    smtp.messages.clear()
    case_actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=55))
    assert deliver() == 2  # the lead is also a member: one e-mail, not two
    assert _recipients(smtp) == ["agent@vendor.test", "manager@vendor.test"]


# --- Fix released, waiting on you ---------------------------------------------------------------


def test_a_fix_release_mails_the_requester_in_the_case_thread(cast, mail_desk, emailed_case, smtp):
    case = emailed_case
    release = catalog_actions.do_save_release(
        None,
        product=mail_desk.product,
        version="5.1",
        ga_date=timezone.localdate(),
        actor=cast.admin,
    )
    defect = case_actions.do_create_defect(
        product=mail_desk.product, title="Export crash", actor=cast.agent
    )
    case_actions.do_link_defect(case, defect, actor=cast.agent)
    case_actions.do_set_defect_fix_release(defect, release, actor=cast.agent)
    assert deliver() == 1
    (sent,) = smtp.parsed()
    assert _recipients(smtp) == ["carl@acme.test"]
    assert sent["Subject"] == f"[{case.reference}] Fixed in release 5.1: {case.subject}"
    ack = OutboundMessage.objects.get(kind=OutboundKind.ACKNOWLEDGEMENT)
    assert f"<{ack.message_id}>" in sent["References"]
    assert "List-Unsubscribe" in sent


def test_a_case_waiting_on_the_customer_is_reminded_once_per_stint(cast, emailed_case, smtp):
    case = emailed_case
    case_actions.check_transition_case(cast.agent, case, status="waiting_on_customer")
    deliver()
    smtp.messages.clear()
    later = timezone.now() + notifications.WAITING_REMINDER_AFTER + dt.timedelta(hours=1)
    assert notifications.queue_waiting_reminders(now=timezone.now()) == 0  # not yet
    assert notifications.queue_waiting_reminders(now=later) == 1
    assert notifications.queue_waiting_reminders(now=later) == 0  # once per stint
    assert deliver() == 1
    (sent,) = smtp.parsed()
    assert _recipients(smtp) == ["carl@acme.test"]
    assert sent["Subject"] == f"Re: [{case.reference}] {case.subject}"
    assert "waiting for your answer" in _text(sent)
    assert sent["In-Reply-To"]


# --- Renewal, invoice -----------------------------------------------------------------------


def test_a_renewal_quote_tells_the_customer_admins_and_the_account_owner(cast, mail_desk, smtp):
    today = timezone.localdate()
    contract_actions.do_create_contract(
        organization=cast.acme,
        preset=Preset.MAINTENANCE,
        covered_products=[mail_desk.product],
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=30),
        name="Acme maintenance",
        actor=cast.admin,
    )
    billing_actions.do_generate_renewal_quotes(actor=cast.billing)
    assert deliver() >= 2
    mine = [m for m in smtp.parsed() if m["Subject"] == "Renewal coming up: Acme maintenance"]
    assert sorted(str(m["To"]) for m in mine) == ["ada@acme.test", "manager@vendor.test"]
    assert all("Globex" not in _text(m) for m in mine)


def test_a_sent_quote_tells_who_may_accept_it_with_the_link_to_it(cast, emailed_case, smtp):
    offering = catalog_actions.do_save_offering(
        None, actor=cast.admin, kind="backport", name="Backport", price=Decimal(2400),
        description="A fix ported to your release.",
    )  # fmt: skip
    draft = services.check_create_service_quote(
        cast.billing, offering=offering, case=emailed_case.public_id
    )
    assert deliver() == 0  # a draft tells nobody
    quote = services.do_send_service_quote(draft, actor=cast.billing)
    assert deliver() == 2
    # The customer admin and the contact whose case it is: those who may accept it.
    assert _recipients(smtp) == sorted(["ada@acme.test", emailed_case.contact.email])
    sent = smtp.parsed()[0]
    assert sent["Subject"] == f"Quote {quote.number}: Backport"
    text = _text(sent)
    assert f"/portal/quotes/{quote.pk}/" in text and emailed_case.reference in text
    assert "2,400.00" in text or "2400.00" in text
    assert sent["In-Reply-To"]  # in the case's thread
    assert "Globex" not in text


def test_an_issued_invoice_is_mailed_with_its_pdf_to_the_customer_admins(cast, mail_desk, smtp):
    invoice = billing_actions.do_create_invoice(
        organization=cast.acme, period=parse_period("2026-10"), actor=cast.billing
    )
    billing_actions.do_add_line(
        invoice, description="Consulting", quantity=Decimal(2), unit_price=Decimal(150),
        currency="EUR", actor=cast.billing,
    )  # fmt: skip
    issued = billing_actions.do_issue_invoice(invoice, actor=cast.billing)
    assert deliver() == 1
    (sent,) = smtp.parsed()
    assert _recipients(smtp) == ["ada@acme.test"]
    assert sent["Subject"] == f"Invoice {issued.number}"
    assert "List-Unsubscribe" not in sent  # transactional
    (pdf,) = list(sent.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == f"invoice-{issued.number}.pdf"
    assert pdf.get_content().startswith(b"%PDF")


def test_a_success_survey_mails_each_admin_its_own_link_once(cast, mail_desk, smtp, client):
    from retainer.success import actions as success_actions

    surveys = success_actions.do_send_survey(cast.acme, actor=cast.manager)
    assert deliver() == len(surveys) == 1
    assert _recipients(smtp) == ["ada@acme.test"]
    (sent,) = smtp.parsed()
    assert sent["Subject"] == "How are we doing?" and "In-Reply-To" not in sent
    assert sent["List-Unsubscribe"]  # optional: a contact may turn surveys off
    text = _text(sent)
    token = re.search(r"https://support\.vendor\.test/success-survey/([^/\s]+)/", text)
    assert token is not None and success_actions.survey_for_token(token.group(1)) == surveys[0]
    assert "within 30 days" in text and "Globex" not in text
    assert client.get(token.group(0).removeprefix("https://support.vendor.test")).status_code == 200
    assert deliver() == 0  # queued once, whatever the dispatch
