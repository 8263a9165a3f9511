"""The console case page's e-mail block: each e-mail sent for the case with its delivery
status (sent, queued with its last error, bounced) and its headers on demand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.cases import actions as case_actions
from retainer.mail.choices import OutboundKind
from retainer.mail.models import OutboundMessage
from retainer.mail.tests.conftest import case_of, deliver, feed, message

pytestmark = pytest.mark.django_db

DSN = (
    b"From: MAILER-DAEMON@mx.acme.test\r\nTo: support@vendor.test\r\nSubject: Undelivered\r\n"
    b"Message-ID: <dsn-9@mx.acme.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
    b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
    b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.test\r\n\r\n"
    b"Final-Recipient: rfc822; carl@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    b"--r--\r\n"
)


def _page(cast, case, user=None) -> str:
    client = cast.client_for(user or cast.agent)
    response = client.get(reverse("console:case_page", args=[case.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_shows_each_e_mail_with_status_and_headers(cast, mail_desk, smtp, settings):
    case = case_of(feed(mail_desk.mailbox, message()))
    deliver()  # the acknowledgement is sent
    settings.EMAIL_PORT = _unused_port()
    case_actions.check_reply(cast.agent, case, body="Try 5.0.1")
    deliver()  # the server does not answer: queued again, with the error
    reply = OutboundMessage.objects.get(kind=OutboundKind.AGENT_REPLY)
    page = _page(cast, case)
    assert 'id="case-mail-title"' in page
    assert "Case acknowledged" in page and "Agent reply" in page
    assert "Sent" in page and "Queued" in page
    assert reply.last_error and reply.last_error.split(":")[0] in page
    assert "<details><summary>Headers</summary>" in page
    assert f"&lt;{reply.message_id}&gt;" in page and "In-Reply-To" in page


def test_a_sent_e_mail_whose_address_bounced_shows_as_bounced(cast, mail_desk, smtp):
    case = case_of(feed(mail_desk.mailbox, message()))
    deliver()
    assert "Bounced" not in _page(cast, case)
    feed(mail_desk.mailbox, DSN)
    assert '<span class="badge bad">Bounced</span>' in _page(cast, case)


def test_the_block_runs_one_query_whatever_the_number_of_e_mails(
    cast, mail_desk, smtp, django_assert_max_num_queries
):
    case = case_of(feed(mail_desk.mailbox, message()))
    deliver()
    with django_assert_max_num_queries(60) as few:
        _page(cast, case)
    for n in range(5):
        case_actions.check_reply(cast.agent, case, body=f"More {n}")
    deliver()
    with django_assert_max_num_queries(len(few.captured_queries)):
        _page(cast, case)


def _unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
