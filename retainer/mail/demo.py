"""The e-mail channel's step of the demo: a spool mailbox (no mail server needed) and a
few realistic messages put through the real pipeline — a new case by e-mail, a reply
threading onto it, an out-of-office reply that gets no acknowledgement, and a message
from a staff address waiting in the review queue; one contact who reads German. The acknowledgement and the rest go out
when the worker runs, into ``var/mail/sent`` unless ``EMAIL_HOST`` names an SMTP server."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.utils import timezone

from retainer.lib.demo import DemoContext
from retainer.mail import actions
from retainer.mail.actions.preferences import do_set_preferences
from retainer.mail.models import Mailbox


def _mail(sender: str, subject: str, body: str, n: int, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@northwind.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = f"<demo-{n}@mail.demo.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def _feed(mailbox: Mailbox, raw: bytes) -> None:
    row, _created = actions.do_receive_mail(mailbox, raw)
    actions.process_inbound(row.pk)


def build(ctx: DemoContext) -> None:
    admin = ctx.objects["admin"]
    product = ctx.objects["products"]["ledgerline"][0]
    # Bob reads his e-mails in German: the notifications the worker sends him show it.
    bob = ctx.objects["bob"]
    do_set_preferences(bob.email, off=set(), offered=(), actor=None, via="page", language="de")
    spool = settings.RETAINER_MAIL_SPOOL_DIR
    spool.mkdir(parents=True, exist_ok=True)
    mailbox = actions.do_save_mailbox(
        None,
        values={
            "name": "support",
            "address": "support@northwind.example",
            "kind": "spool",
            "spool_dir": str(spool),
            "product": product,
        },
        actor=admin,
    )
    _feed(
        mailbox,
        _mail(
            "Ada Admin <ada@acme.example>",
            "Month-end close stops at the VAT step",
            "Hello,\n\nsince this morning the month-end close stops at the VAT step with "
            '"period locked". We need to close today.\n\nThanks,\nAda\n-- \nAda, Acme Finance',
            1,
        ),
    )
    case = mailbox.inbound.get(message_id="demo-1@mail.demo.example").case
    reference = case.reference if case is not None else "RT-0"
    _feed(
        mailbox,
        _mail(
            "Ada Admin <ada@acme.example>",
            f"Re: [{reference}] Month-end close stops at the VAT step",
            "It also happens for the February period.\n\nOn Monday, Support wrote:\n> We received "
            "your request",
            2,
            In_Reply_To="<demo-1@mail.demo.example>",
        ),
    )
    _feed(
        mailbox,
        _mail(
            "Bob <bob@acme.example>",
            "Automatic reply: your case",
            "I am out of the office until Monday.",
            3,
            Auto_Submitted="auto-replied",
        ),
    )
    _feed(
        mailbox,
        _mail(
            "Agent <agent@northwind.example>",
            f"Re: [{reference}] please send your password",
            "Reply with your password so we can test.",
            4,
        ),
    )
