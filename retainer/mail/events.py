"""The typed events of the e-mail channel (history: ``MailEvent``).

The row's ``mailbox``, ``inbound`` or ``outbound`` column says what the event is about.
Payloads carry codes and ids, never a message's text: the raw message stays on its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.lib.events import Event
from retainer.mail.choices import MailEventType


@dataclass(frozen=True, kw_only=True)
class MailEventBase(Event):
    """An event of the e-mail channel (a ``MailEvent`` row)."""

    history = "mail.mailevent"


@dataclass(frozen=True, kw_only=True)
class MailboxSaved(MailEventBase):
    """A mailbox was created or changed (the password is never part of it)."""

    name = "mailbox.saved"
    type = MailEventType.MAILBOX_SAVED

    created: bool
    changes: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class InboundReceived(MailEventBase):
    """A message was stored as it arrived, before anything was done with it."""

    name = "inbound_mail.received"
    type = MailEventType.INBOUND_RECEIVED

    size: int


@dataclass(frozen=True, kw_only=True)
class InboundProcessed(MailEventBase):
    """A message was processed: ``status`` and ``outcome`` say what became of it."""

    name = "inbound_mail.processed"
    type = MailEventType.INBOUND_PROCESSED

    status: str
    outcome: str
    reason: str
    case: int | None


@dataclass(frozen=True, kw_only=True)
class InboundReviewed(MailEventBase):
    """Staff decided about a message in review: a case, attached to a case, or rejected."""

    name = "inbound_mail.reviewed"
    type = MailEventType.INBOUND_REVIEWED

    decision: str
    case: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class AddressBounced(MailEventBase):
    """A delivery-status notification said an address cannot be reached."""

    name = "mail_address.bounced"
    type = MailEventType.ADDRESS_BOUNCED

    address: str


@dataclass(frozen=True, kw_only=True)
class OutboundQueued(MailEventBase):
    """An e-mail was queued for sending (after commit)."""

    name = "outbound_mail.queued"
    type = MailEventType.OUTBOUND_QUEUED

    kind: str
    case: int | None


@dataclass(frozen=True, kw_only=True)
class OutboundSent(MailEventBase):
    """The SMTP server accepted an e-mail."""

    name = "outbound_mail.sent"
    type = MailEventType.OUTBOUND_SENT

    attempts: int


@dataclass(frozen=True, kw_only=True)
class OutboundFailed(MailEventBase):
    """An e-mail was given up after its last attempt, or not sent to a bouncing address."""

    name = "outbound_mail.failed"
    type = MailEventType.OUTBOUND_FAILED

    status: str
    error: str


@dataclass(frozen=True, kw_only=True)
class OutboundRetried(MailEventBase):
    """Staff queued a failed e-mail again."""

    name = "outbound_mail.retried"
    type = MailEventType.OUTBOUND_RETRIED


@dataclass(frozen=True, kw_only=True)
class PreferencesChanged(MailEventBase):
    """Someone turned notification kinds on or off for their address, or chose the
    language of its e-mails (on the preferences page, or with an unsubscribe link:
    ``via``)."""

    name = "mail_preferences.changed"
    type = MailEventType.PREFERENCES_CHANGED

    address: str
    off: list[str]
    on: list[str]
    via: str
    #: The language chosen for the address's e-mails, when it changed ("" otherwise).
    language: str = ""
