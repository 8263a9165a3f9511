"""What staff do on the Mail page: mailboxes, and the messages waiting for a person."""

from __future__ import annotations

import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.contracts.choices import Channel
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.models import save_validated
from retainer.mail.choices import InboundOutcome, InboundStatus
from retainer.mail.events import InboundReviewed, MailboxSaved
from retainer.mail.models import InboundMessage, Mailbox, MailEvent
from retainer.mail.parsing import parse

#: The fields of a mailbox staff may set (never a password: ``password_env`` names it).
MAILBOX_FIELDS = (
    "name", "address", "kind", "product", "is_active", "spool_dir", "imap_host", "imap_port",
    "imap_tls", "imap_folder", "imap_user", "password_env",
)  # fmt: skip
#: The statuses staff may still decide about.
REVIEWABLE = (InboundStatus.NEEDS_REVIEW, InboundStatus.REJECTED)


@transaction.atomic
def do_save_mailbox(
    mailbox: Mailbox | None, *, values: dict[str, Any], actor: User | None
) -> Mailbox:
    """Create or change a mailbox (validated); records which fields changed."""
    created = mailbox is None
    mailbox = mailbox or Mailbox()
    changes = {}
    for name in MAILBOX_FIELDS:
        if name in values and getattr(mailbox, name) != values[name]:
            old = getattr(mailbox, name)
            setattr(mailbox, name, values[name])
            changes[name] = {
                "old": getattr(old, "pk", old),
                "new": getattr(values[name], "pk", values[name]),
            }
    save_validated(mailbox)
    record(MailEvent, MailboxSaved(created=created, changes=changes), mailbox=mailbox, actor=actor)
    return mailbox


def _lock_reviewable(inbound: InboundMessage) -> InboundMessage:
    inbound = (
        InboundMessage.objects.select_for_update().select_related("mailbox").get(pk=inbound.pk)
    )
    if inbound.status not in REVIEWABLE:
        raise Conflict("already_decided", "This message was dealt with already.")
    return inbound


def _decided(
    inbound: InboundMessage,
    *,
    actor: User,
    status: str,
    outcome: str,
    case: Case | None,
    reason: str = "",
) -> InboundMessage:
    inbound.status = status
    inbound.outcome = outcome
    inbound.case = case
    inbound.reviewed_by = actor
    inbound.processed_at = timezone.now()
    if reason:
        inbound.reason, inbound.detail = "rejected_by_staff", reason
    inbound.save()
    event = InboundReviewed(
        decision=outcome or status, case=case.pk if case else None, reason=reason
    )
    record(MailEvent, event, inbound=inbound, mailbox=inbound.mailbox, actor=actor)
    return inbound


@transaction.atomic
def do_review_open_case(inbound: InboundMessage, *, contact: Contact, actor: User) -> Case:
    """Open a case from a message for ``contact`` (staff decided who wrote it), with the
    message's files; the intake decision is taken as on every door."""
    inbound = _lock_reviewable(inbound)
    parsed = parse(bytes(inbound.raw))
    product = inbound.mailbox.product
    case = case_actions.check_open_case(
        actor,
        contact=contact,
        product=product,
        channel=Channel.EMAIL,
        subject=parsed.subject or "(no subject)",
        description=parsed.text or "(The e-mail had no text.)",
    )
    for attachment in parsed.attachments:
        try:
            with transaction.atomic():
                case_actions.do_add_attachment(
                    case,
                    upload=io.BytesIO(attachment.data),
                    name=attachment.name,
                    uploaded_by=actor,
                )
        except Exception:  # noqa: S112 - a refused file leaves the others
            continue
    _decided(
        inbound,
        actor=actor,
        status=InboundStatus.PROCESSED,
        outcome=InboundOutcome.NEW_CASE,
        case=case,
    )
    return case


@transaction.atomic
def do_review_attach(inbound: InboundMessage, *, case: Case, actor: User) -> InboundMessage:
    """Put a message on a case as an internal note by ``actor``: staff vouch for it, and
    the customer is told nothing (an agent answers from the case)."""
    inbound = _lock_reviewable(inbound)
    parsed = parse(bytes(inbound.raw))
    sender = f"{parsed.sender_name} <{parsed.sender}>" if parsed.sender_name else parsed.sender
    body = (
        f"E-mail from {sender or 'an unknown sender'}, subject “{parsed.subject}”:\n\n{parsed.text}"
    )
    case_actions.check_reply(actor, case, body=body, internal=True)
    return _decided(
        inbound,
        actor=actor,
        status=InboundStatus.PROCESSED,
        outcome=InboundOutcome.ATTACHED,
        case=case,
    )


@transaction.atomic
def do_review_reject(inbound: InboundMessage, *, reason: str, actor: User) -> InboundMessage:
    """Reject a message in review (kept, with the reason; nobody is written to)."""
    inbound = _lock_reviewable(inbound)
    if inbound.status != InboundStatus.NEEDS_REVIEW:
        raise Conflict("already_rejected", "This message is rejected already.")
    return _decided(
        inbound,
        actor=actor,
        status=InboundStatus.REJECTED,
        outcome=InboundOutcome.NONE,
        case=None,
        reason=reason,
    )
