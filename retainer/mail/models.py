"""The e-mail channel's data: mailboxes, every message received (raw, stored before it is
processed), every message to send (the mail outbox), addresses that bounce, and the
channel's history."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from retainer.accounts.models import Organization, User
from retainer.lib.limits import EMAIL_MAX_LENGTH
from retainer.mail.choices import (
    InboundOutcome,
    InboundStatus,
    MailboxKind,
    MailEventType,
    OutboundKind,
    OutboundStatus,
)

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")


def validate_env_name(value: str) -> None:
    if value and not _ENV_NAME.fullmatch(value):
        raise ValidationError(
            "Name an environment variable (capitals, digits and underscores), "
            "not the password itself."
        )


class Mailbox(models.Model):
    """An address customers write to, and how its messages reach Retainer.

    ``pipe``: the MTA runs ``manage.py receive_mail --mailbox NAME``; ``spool``: files
    dropped in ``spool_dir`` are taken by the periodic job; ``imap``: polled (host, port,
    TLS, folder, user). The IMAP password is never stored: ``password_env`` names the
    environment variable that holds it. New cases are opened on ``product``.
    """

    name = models.SlugField(max_length=50, unique=True)
    address = models.EmailField(max_length=EMAIL_MAX_LENGTH)
    kind = models.CharField(max_length=10, choices=MailboxKind.choices, default=MailboxKind.PIPE)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    spool_dir = models.CharField(max_length=500, blank=True)
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_tls = models.BooleanField(default=True)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    imap_user = models.CharField(max_length=254, blank=True)
    password_env = models.CharField(max_length=100, blank=True, validators=[validate_env_name])
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # What the last poll of a spool or IMAP mailbox met (shown in the console).
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_poll_error = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def clean(self) -> None:
        if self.kind == MailboxKind.SPOOL and not self.spool_dir:
            raise ValidationError({"spool_dir": "A spool mailbox needs its folder."})
        if self.kind == MailboxKind.IMAP and not (self.imap_host and self.imap_user):
            raise ValidationError({"imap_host": "An IMAP mailbox needs a host and a user."})


class InboundMessage(models.Model):
    """One message as it arrived (``raw``, stored before processing) and what became of it.

    ``(mailbox, message_id)`` is unique: a message delivered again (an MTA retry, a poll
    after a crash) finds its row and is not processed twice. A message without a
    Message-ID is keyed by the SHA-256 of its bytes.
    """

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="inbound")
    message_id = models.CharField(max_length=255)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    sender = models.CharField(max_length=EMAIL_MAX_LENGTH, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=15, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    outcome = models.CharField(
        max_length=10, choices=InboundOutcome.choices, default=InboundOutcome.NONE, blank=True
    )
    reason = models.CharField(max_length=40, blank=True)
    detail = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True)
    is_automatic = models.BooleanField(default=False)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_message = models.ForeignKey(
        "cases.CaseMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id"], name="mail_inbound_once_per_mailbox"
            )
        ]
        indexes = [
            models.Index(fields=["sender", "received_at"]),
            models.Index(fields=["status", "received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class OutboundMessage(models.Model):
    """One e-mail to send (the mail outbox): written in the transaction of what it tells,
    sent after commit by a job, retried with back-off, then ``failed`` for an operator.

    ``key`` is unique and derived from its source (``<kind>:<outbox message id>``), so
    an event delivered twice queues one e-mail.
    """

    key = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    to = models.CharField(max_length=EMAIL_MAX_LENGTH)
    subject = models.CharField(max_length=250)
    text = models.TextField()
    html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inbound = models.ForeignKey(
        InboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )
    # The invoice whose PDF is attached: rendered when the e-mail is sent, not queued, so
    # a billing run's dispatch stays cheap.
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["case", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class BouncingAddress(models.Model):
    """An address a delivery-status notification said we cannot reach: no more mail goes
    to it (``suppressed``) until staff remove the row."""

    address = models.CharField(max_length=EMAIL_MAX_LENGTH, unique=True)
    bounces = models.PositiveIntegerField(default=1)
    first_bounced_at = models.DateTimeField(default=timezone.now)
    last_bounced_at = models.DateTimeField(default=timezone.now)
    last_notice = models.ForeignKey(
        InboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address


class MailOptOut(models.Model):
    """A kind of optional e-mail an address does not want (``choices.OPTIONAL_KINDS``):
    set on the preferences page or by an unsubscribe link, removed when turned on again.
    Keyed by the address, so it holds for a contact and a staff member alike."""

    address = models.CharField(max_length=EMAIL_MAX_LENGTH)
    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["address", "kind"], name="mail_opt_out_once")
        ]

    def __str__(self) -> str:
        return f"{self.address}: no {self.kind}"


class MailLanguage(models.Model):
    """The language an address gets its e-mails in (one of ``settings.LANGUAGES``), chosen
    on the preferences page; an address without a row gets ``RETAINER_MAIL_LANGUAGE``.
    Keyed by the address, like the opt-outs."""

    address = models.CharField(max_length=EMAIL_MAX_LENGTH, unique=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]

    def __str__(self) -> str:
        return f"{self.address}: {self.language}"


class MailEvent(models.Model):
    """Append-only history of the e-mail channel (typed events in ``mail/events.py``)."""

    type = models.CharField(max_length=40, choices=MailEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inbound = models.ForeignKey(
        InboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    outbound = models.ForeignKey(
        OutboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"
