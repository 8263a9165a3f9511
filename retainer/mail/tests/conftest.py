"""Mail fixtures: a product Acme has a contract for, a mailbox opening cases on it, a real
SMTP server (aiosmtpd on a free loopback port) and helpers to feed and deliver mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import require_program
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.lib import outbox
from retainer.mail import actions
from retainer.mail.models import InboundMessage, Mailbox
from retainer.mail.testing import Imap, free_port

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class MailDesk:
    product: Product
    mailbox: Mailbox


@pytest.fixture
def mail_desk(cast, settings, tmp_path) -> MailDesk:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEFAULT_FROM_EMAIL = "Support <support@vendor.test>"
    settings.RETAINER_BASE_URL = "https://support.vendor.test"
    product = catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(1000),
        currency="EUR",
    )
    for org in (cast.acme, cast.globex):
        contract_actions.do_create_contract(
            organization=org,
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
    return MailDesk(product=product, mailbox=mailbox)


def message(
    *,
    sender: str = "Carl Contact <carl@acme.test>",
    subject: str = "Printer driver crashes",
    body: str = "The export crashes on start.\n\nCarl",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    """A plain text message as a mail client writes it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@vendor.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{abs(hash((sender, subject, body)))}@client.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def feed(mailbox: Mailbox, raw: bytes) -> InboundMessage:
    """Receive and process one message, as the pipe command does."""
    row, _created = actions.do_receive_mail(mailbox, raw)
    actions.process_inbound(row.pk)
    row.refresh_from_db()
    return row


def deliver() -> int:
    """Run the outbox (event subscribers) and send what is due; returns e-mails sent."""
    outbox.dispatch()
    return actions.send_due_mail(now=timezone.now() + dt.timedelta(seconds=1))


@dataclass
class Sink:
    """What the SMTP server received: one entry per SMTP transaction."""

    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)

    def parsed(self) -> list[EmailMessage]:
        return [message_from_bytes(m["data"], policy=policy.default) for m in self.messages]


def _free_port() -> int:
    return free_port()


@pytest.fixture
def smtp(settings) -> Iterator[Sink]:
    """A real SMTP server on a free loopback port; Django's SMTP backend talks to it."""
    from aiosmtpd.controller import Controller

    sink = Sink("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": envelope.original_content or envelope.content,
                }
            )
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


def case_of(row: InboundMessage) -> Case:
    """The case a processed message opened or reached (fails the test when none)."""
    assert row.case is not None, (row.status, row.reason)
    return row.case


def opened(mailbox: Mailbox, raw: bytes) -> Case:
    """Feed a message that must open (or reach) a case, and return the case."""
    return case_of(feed(mailbox, raw))


# --- A real IMAP server --------------------------------------------------------------------


@pytest.fixture
def dovecot() -> Iterator[Imap]:
    """Dovecot on a free loopback port (``retainer/mail/testing.py``); skipped when it is
    not installed, except under ``CI=true``, where a missing server fails."""
    from retainer.mail.testing import DovecotMissing, running_dovecot

    try:
        with running_dovecot() as imap:
            yield imap
    except DovecotMissing:
        # Skipped here, a failure under CI=true (.ci/run installs it).
        require_program("dovecot", "dovecot-imapd", "test IMAP polling")
        raise  # installed, but not where the starter looks
