"""Outbound mail over a real SMTP conversation (aiosmtpd): who gets what, threading
headers, never an internal note, never another organization's data; retries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from retainer.cases import actions as case_actions
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message
from retainer.mail import actions, notifications
from retainer.mail.choices import OutboundKind, OutboundStatus
from retainer.mail.models import OutboundMessage
from retainer.mail.references import case_of_message_id
from retainer.mail.tests.conftest import case_of, deliver, feed, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed_case(cast, mail_desk, smtp):
    row = feed(mail_desk.mailbox, message())
    deliver()
    smtp.messages.clear()
    return case_of(row), row


def test_an_agent_reply_is_mailed_to_the_requester_in_the_thread(cast, emailed_case, smtp):
    case, inbound = emailed_case
    case_actions.check_reply(cast.agent, case, body="Please try **5.0.1**.")
    assert deliver() == 1
    (sent,) = smtp.parsed()
    assert smtp.messages[0]["to"] == ["carl@acme.test"]
    assert sent["Subject"] == f"Re: [{case.reference}] {case.subject}"
    ack = OutboundMessage.objects.get(kind=OutboundKind.ACKNOWLEDGEMENT)
    assert sent["References"].split() == [f"<{inbound.message_id}>", f"<{ack.message_id}>"]
    assert sent["In-Reply-To"].strip() == f"<{ack.message_id}>"
    assert case_of_message_id(sent["Message-ID"].strip().strip("<>")) == case.public_id
    assert "Please try **5.0.1**." in sent.get_body(("plain",)).get_content()
    assert "<strong>5.0.1</strong>" in sent.get_body(("html",)).get_content()
    assert "Auto-Submitted" not in sent


def test_an_internal_note_is_never_mailed(cast, emailed_case, smtp):
    case, _ = emailed_case
    case_actions.check_reply(cast.agent, case, body="Customer is difficult", internal=True)
    assert deliver() == 0
    assert smtp.messages == []
    assert not OutboundMessage.objects.filter(kind=OutboundKind.AGENT_REPLY).exists()


def test_a_customer_reply_is_not_mailed_back_to_them(cast, emailed_case, smtp):
    case, _ = emailed_case
    case_actions.check_reply(cast.contact.user, case, body="Any news?")
    assert deliver() == 0


def test_resolving_mails_the_survey_link(cast, emailed_case, smtp):
    case, _ = emailed_case
    case_actions.check_transition_case(
        cast.agent, case, status="resolved", root_cause="configuration"
    )
    assert deliver() == 1
    (sent,) = smtp.parsed()
    text = sent.get_body(("plain",)).get_content()
    assert sent["Subject"] == f"[{case.reference}] Resolved: {case.subject}"
    # The token is signed with a timestamp: the e-mail's link is this case's survey.
    token = re.search(r"https://support\.vendor\.test/csat/([^/\s]+)/", text)
    assert token is not None and case_actions.case_for_csat_token(token.group(1)) == case


def test_mail_names_no_other_organization(cast, mail_desk, smtp):
    feed(mail_desk.mailbox, message())
    feed(mail_desk.mailbox, message(sender="otto@globex.test", subject="Globex secret plan"))
    deliver()
    by_recipient = {m["to"][0]: m["data"].decode() for m in smtp.messages}
    assert set(by_recipient) == {"carl@acme.test", "otto@globex.test"}
    assert "Globex" not in by_recipient["carl@acme.test"]
    assert "otto" not in by_recipient["carl@acme.test"]
    assert "Printer" not in by_recipient["otto@globex.test"]


def test_a_cases_opened_on_the_portal_get_no_acknowledgement_by_mail(cast, mail_desk, smtp):
    case_actions.check_open_case(
        cast.contact.user,
        product=mail_desk.product,
        subject="Web",
        description="From the portal",
        channel="web",
    )
    assert deliver() == 0


def test_an_event_delivered_twice_queues_one_email(cast, emailed_case):
    case, _ = emailed_case
    case_actions.check_reply(cast.agent, case, body="Once.")
    row = OutboxMessage.objects.filter(topic="case.replied").latest("id")
    event = Message(row.pk, row.topic, row.payload, row.occurred_at)
    notifications.handle(event)
    notifications.handle(event)
    assert OutboundMessage.objects.filter(kind=OutboundKind.AGENT_REPLY).count() == 1


def test_a_failed_send_is_retried_with_back_off_then_given_up(cast, mail_desk, settings):
    feed(mail_desk.mailbox, message())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    assert deliver() == 0
    row = OutboundMessage.objects.get()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 1)
    assert row.last_error and row.next_attempt_at > timezone.now()
    now = timezone.now()
    for _attempt in range(2, actions.outbound.MAX_ATTEMPTS + 1):
        now += dt.timedelta(hours=1)
        actions.send_due_mail(now=now)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, actions.outbound.MAX_ATTEMPTS)
    actions.do_retry_outbound(row, actor=cast.admin)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 0)


def test_a_send_whose_worker_died_is_taken_again_after_its_lease(cast, mail_desk, smtp):
    feed(mail_desk.mailbox, message())
    from retainer.lib import outbox

    outbox.dispatch()
    row = OutboundMessage.objects.get()
    OutboundMessage.objects.filter(pk=row.pk).update(
        status=OutboundStatus.SENDING, next_attempt_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert actions.send_due_mail() == 1
    assert len(smtp.messages) == 1


def test_backoff_doubles_up_to_an_hour():
    from retainer.mail.actions.outbound import backoff

    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 8, 20)] == [1, 2, 4, 8, 60, 60]
