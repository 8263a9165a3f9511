"""Inbound mail: store first, then process once.

:func:`do_receive_mail` stores the raw bytes in their own transaction (so nothing is lost
when processing fails) under the unique ``(mailbox, message_id)``: a message delivered
again finds its row. :func:`process_inbound` then takes the row under its lock, decides
what it is (a bounce, an auto-reply, a new case, a reply, something for review, a
rejection) and stores the outcome with whatever it created, in one transaction: a
crash before the commit leaves the row ``received`` and it is processed again.

The sender is the ``From`` address, never ``Reply-To``. A reply reaches a case only when
the case is named by one of our signed Message-IDs or by its reference in the subject
*and* the sender may see that case in the portal (``cases.access.cases_visible_to``: the
requester, a customer admin, a colleague where the organization shares cases).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from retainer.accounts import actions as account_actions
from retainer.accounts.models import Contact, OrganizationDomain, User
from retainer.cases import actions as case_actions
from retainer.cases.access import cases_visible_to
from retainer.cases.models import Case, CaseMessage
from retainer.contracts.choices import Channel
from retainer.lib.errors import DomainError
from retainer.lib.events import record
from retainer.mail.choices import InboundOutcome, InboundStatus
from retainer.mail.events import AddressBounced, InboundProcessed, InboundReceived
from retainer.mail.models import BouncingAddress, InboundMessage, Mailbox, MailEvent
from retainer.mail.parsing import ParsedMail, message_ids, parse, strip_signature, trim_reply
from retainer.mail.references import case_from_ids, case_pk_from_subject

logger = logging.getLogger(__name__)

#: What a rejected sender is told, by reason (the reply names nothing else).
REJECTION_SENTENCES: dict[str, str] = {
    "unknown_sender": gettext_noop(
        "Your address is not registered with any customer account, so no case was opened. "
        "Ask your organization's support administrator to add you as a contact, or write "
        "from the address registered with us."
    ),
    "contact_inactive": gettext_noop(
        "Your contact is no longer active with us, so no case was opened. Ask your "
        "organization's support administrator to reactivate it."
    ),
    "too_large": gettext_noop(
        "Your message is larger than we accept ({limit}), so it was not processed. "
        "Please send it again with smaller attachments or a link to the files."
    ),
    "intake_refused": gettext_noop("We could not open a case from your message: {detail}"),
    "empty": gettext_noop("Your message had no text and no files, so nothing was added."),
}
#: Header bytes kept of a message over the size limit (enough to answer its sender).
TOO_LARGE_KEPT = 64 * 1024
#: Text of a case or reply whose message had none (only files).
NO_TEXT = "(The e-mail had no text.)"
TRANSIENT = (OperationalError, InterfaceError)


@dataclass
class Outcome:
    """What processing decided, before the row is saved."""

    status: str
    outcome: str = InboundOutcome.NONE
    reason: str = ""
    detail: str = ""
    case: Case | None = None
    message: CaseMessage | None = None
    answer: bool = False  # send the sender the rejection sentence of ``reason``


# --- Storing ---------------------------------------------------------------------------------


def _message_key(raw: bytes, digest: str) -> str:
    """The message's Message-ID, or ``sha256:<digest>`` when it has none (or a huge one)."""
    try:
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        ids = message_ids(str(headers.get("Message-ID", "")))
    except Exception:
        ids = []
    return ids[0] if ids and len(ids[0]) <= 250 else f"sha256:{digest}"


def do_receive_mail(
    mailbox: Mailbox, raw: bytes, *, size: int | None = None
) -> tuple[InboundMessage, bool]:
    """Store ``raw`` for ``mailbox`` before anything else; returns the row and whether it
    is new. A message over ``RETAINER_MAIL_MAX_BYTES`` keeps its first 64 KiB only (its
    headers, to answer the sender); ``size`` is the whole message's when ``raw`` is only
    its beginning (IMAP fetches no more of a message over the limit). Raises
    ``DatabaseError`` when the database cannot take it (the caller tells the MTA to
    retry)."""
    size = len(raw) if size is None else max(size, len(raw))
    digest = hashlib.sha256(raw).hexdigest()
    key = _message_key(raw, digest)
    kept = raw if size <= settings.RETAINER_MAIL_MAX_BYTES else raw[:TOO_LARGE_KEPT]
    try:
        with transaction.atomic():
            row = InboundMessage.objects.create(
                mailbox=mailbox, message_id=key, raw=kept, size=size, sha256=digest
            )
            record(MailEvent, InboundReceived(size=size), mailbox=mailbox, inbound=row)
        return row, True
    except IntegrityError:
        return InboundMessage.objects.get(mailbox=mailbox, message_id=key), False


def do_note_poll(mailbox: Mailbox, *, error: str) -> None:
    """Note when the mailbox was last polled and what stopped that poll (``""``: nothing).
    Operating state, like a heartbeat: no event."""
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=timezone.now(), last_poll_error=error[:500]
    )


# --- Processing ------------------------------------------------------------------------------


def process_inbound(inbound_id: int) -> InboundMessage:
    """Process a stored message once (a row no longer ``received`` is left alone).

    A transient database error propagates (the row stays ``received`` and is processed
    again by the next delivery or the periodic job); any other failure is kept: the row
    goes to review with the error, and the message is never lost.
    """
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().select_related("mailbox")
            inbound = row.get(pk=inbound_id)
            if inbound.status == InboundStatus.RECEIVED:
                _process(inbound)
            return inbound
    except TRANSIENT:
        raise
    except Exception as exc:
        logger.exception("Processing inbound message %s failed", inbound_id)
        return _flag_failure(inbound_id, exc)


def _flag_failure(inbound_id: int, exc: Exception) -> InboundMessage:
    with transaction.atomic():
        inbound = InboundMessage.objects.select_for_update().get(pk=inbound_id)
        if inbound.status == InboundStatus.RECEIVED:
            _save(
                inbound,
                Outcome(
                    InboundStatus.NEEDS_REVIEW,
                    reason="processing_failed",
                    detail=f"{type(exc).__name__}: {exc}"[:2000],
                ),
            )
        return inbound


def _process(inbound: InboundMessage) -> None:
    parsed = parse(bytes(inbound.raw))
    inbound.sender = parsed.sender
    inbound.sender_name = parsed.sender_name
    inbound.subject = parsed.subject
    inbound.problems = parsed.problems
    inbound.is_automatic = bool(parsed.automatic)
    outcome = _route(inbound, parsed)
    _save(inbound, outcome)
    if outcome.answer and not inbound.is_automatic and inbound.sender:
        from retainer.mail.actions.outbound import queue_rejection

        sentence = format_lazy(  # translated into the sender's language when rendered
            _(REJECTION_SENTENCES[outcome.reason]),
            limit=_megabytes(settings.RETAINER_MAIL_MAX_BYTES),
            detail=outcome.detail,
        )
        queue_rejection(inbound, sentence)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _save(inbound: InboundMessage, outcome: Outcome) -> None:
    inbound.status = outcome.status
    inbound.outcome = outcome.outcome
    inbound.reason = outcome.reason
    inbound.detail = outcome.detail
    inbound.case = outcome.case
    inbound.case_message = outcome.message
    inbound.processed_at = timezone.now()
    inbound.save()
    event = InboundProcessed(
        status=outcome.status,
        outcome=outcome.outcome,
        reason=outcome.reason,
        case=outcome.case.pk if outcome.case else None,
    )
    record(MailEvent, event, mailbox=inbound.mailbox, inbound=inbound)


def _route(inbound: InboundMessage, parsed: ParsedMail) -> Outcome:
    """Decide what a message is, in the order that keeps loops and strangers out."""
    rejected, review = InboundStatus.REJECTED, InboundStatus.NEEDS_REVIEW
    if inbound.size > settings.RETAINER_MAIL_MAX_BYTES:
        return Outcome(rejected, reason="too_large", answer=True)
    if parsed.is_report or parsed.bounced:
        return _record_bounces(inbound, parsed)
    if not parsed.sender:
        return Outcome(review, reason="no_sender", detail="The sender could not be told.")
    if _is_own_address(parsed.sender):
        return Outcome(rejected, reason="own_address", detail="Sent by one of our addresses.")
    if parsed.auto_reply or parsed.automatic == "machine_sender":
        return Outcome(rejected, reason="auto_reply", detail=parsed.automatic)
    if _over_rate(inbound):
        return Outcome(
            rejected,
            reason="rate_limited",
            detail=f"More than {settings.RETAINER_MAIL_RATE_PER_HOUR} messages an hour.",
        )
    if User.objects.filter(email__iexact=parsed.sender, is_staff=True).exists():
        return Outcome(
            review,
            reason="staff_address",
            detail="Sent from a staff address: agents reply in the console.",
        )
    contact = _contact_for(parsed)
    if contact is None:
        return Outcome(rejected, reason="unknown_sender", answer=True)
    if not (contact.is_active and contact.organization.is_active):
        return Outcome(rejected, reason="contact_inactive", answer=True)
    return _route_contact(inbound, parsed, _login_of(contact))


def _is_own_address(address: str) -> bool:
    ours = {parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1].lower()}
    ours.update(a.lower() for a in Mailbox.objects.values_list("address", flat=True))
    return address in ours


def _over_rate(inbound: InboundMessage) -> bool:
    since = timezone.now() - dt.timedelta(hours=1)
    earlier = InboundMessage.objects.filter(
        sender=inbound.sender,
        received_at__gte=since,
        status__in=[InboundStatus.PROCESSED, InboundStatus.NEEDS_REVIEW],
    ).exclude(pk=inbound.pk)
    return earlier.count() >= settings.RETAINER_MAIL_RATE_PER_HOUR


def _record_bounces(inbound: InboundMessage, parsed: ParsedMail) -> Outcome:
    now = timezone.now()
    for address in sorted(set(parsed.bounced)):
        row, created = BouncingAddress.objects.get_or_create(
            address=address, defaults={"last_notice": inbound}
        )
        if not created:
            row.bounces += 1
            row.last_bounced_at = now
            row.last_notice = inbound
            row.save(update_fields=["bounces", "last_bounced_at", "last_notice"])
        record(MailEvent, AddressBounced(address=address), inbound=inbound)
    detail = ", ".join(sorted(set(parsed.bounced))) or "no failed recipient named"
    return Outcome(
        InboundStatus.PROCESSED, outcome=InboundOutcome.BOUNCE, reason="bounce", detail=detail
    )


def _contact_for(parsed: ParsedMail) -> Contact | None:
    """The contact with the sender's address; else a new contact of the organization that
    owns the sender's domain; else none."""
    contact = (
        Contact.objects.select_related("organization", "user")
        .filter(email__iexact=parsed.sender)
        .first()
    )
    if contact is not None:
        return contact
    domain = parsed.sender.rsplit("@", 1)[-1]
    owner = (
        OrganizationDomain.objects.select_related("organization")
        .filter(domain__iexact=domain)
        .first()
    )
    if owner is None or not owner.organization.is_active:
        return None
    name = parsed.sender_name or parsed.sender.split("@")[0]
    try:
        with transaction.atomic():
            return account_actions.do_create_contact(
                organization=owner.organization,
                full_name=name[:200],
                email=parsed.sender,
                portal_password="",
                actor=None,
            )
    except (ValidationError, DomainError):
        return None


def _login_of(contact: Contact) -> User:
    """The contact's portal login (created without a password when they have none: what
    they write by e-mail needs an author; they sign in with a sign-in link)."""
    if contact.user is not None:
        return contact.user
    return account_actions.do_grant_portal_access(contact, password=None, actor=None)


def _route_contact(inbound: InboundMessage, parsed: ParsedMail, user: User) -> Outcome:
    public_id = case_from_ids([*parsed.in_reply_to, *parsed.references])
    if public_id is not None:
        case = Case.objects.filter(public_id=public_id).first()
        if case is not None and _may_write(user, case):
            return _reply(inbound, parsed, user, case)
        if case is not None:
            return Outcome(
                InboundStatus.NEEDS_REVIEW,
                reason="not_a_participant",
                detail=f"Answers {case.reference}, which the sender may not see.",
            )
    pk = case_pk_from_subject(parsed.subject)
    if pk is not None:
        case = Case.objects.filter(pk=pk).first()
        if case is not None and _may_write(user, case):
            return _reply(inbound, parsed, user, case)
    return _new_case(inbound, parsed, user)


def _may_write(user: User, case: Case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def _reply(inbound: InboundMessage, parsed: ParsedMail, user: User, case: Case) -> Outcome:
    body = trim_reply(parsed.text) if parsed.text else ""
    if not body and not parsed.attachments:
        return Outcome(InboundStatus.REJECTED, reason="empty", answer=True)
    try:
        with transaction.atomic():
            reply = case_actions.check_reply(user, case, body=body or NO_TEXT)
            notes = _store_files(case, parsed, user, reply.message)
    except DomainError as exc:
        if exc.code == "case_finished":
            return _new_case(inbound, parsed, user)
        raise
    return Outcome(
        InboundStatus.PROCESSED,
        outcome=InboundOutcome.REPLY,
        case=case,
        message=reply.message,
        detail=notes,
    )


def _new_case(inbound: InboundMessage, parsed: ParsedMail, user: User) -> Outcome:
    product = inbound.mailbox.product
    if product is None:
        return Outcome(
            InboundStatus.NEEDS_REVIEW,
            reason="no_product",
            detail="The mailbox names no product to open cases on.",
        )
    text = strip_signature(parsed.text) if parsed.text else ""
    try:
        with transaction.atomic():
            case = case_actions.check_open_case(
                user,
                product=product,
                channel=Channel.EMAIL,
                subject=parsed.subject or "(no subject)",
                description=text or NO_TEXT,
            )
            notes = _store_files(case, parsed, user, None)
    except (DomainError, ValidationError) as exc:
        detail = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        return Outcome(InboundStatus.REJECTED, reason="intake_refused", detail=detail, answer=True)
    return Outcome(
        InboundStatus.PROCESSED, outcome=InboundOutcome.NEW_CASE, case=case, detail=notes
    )


def _store_files(case: Case, parsed: ParsedMail, user: User, message: CaseMessage | None) -> str:
    """The message's files on the case, through the upload storage and its limits; returns
    a line about those refused (too large, a type not allowed, too many)."""
    refused = []
    for attachment in parsed.attachments:
        try:
            with transaction.atomic():
                case_actions.do_add_attachment(
                    case,
                    upload=io.BytesIO(attachment.data),
                    name=attachment.name,
                    uploaded_by=user,
                    message=message,
                )
        except (DomainError, ValidationError) as exc:
            refused.append(f"{attachment.name}: {getattr(exc, 'detail', exc)}")
    return ("Files not stored: " + "; ".join(refused)) if refused else ""


def process_pending(*, limit: int = 500) -> int:
    """Process rows still ``received`` (a crash or a transient error stopped them);
    returns how many were processed. Safe to run in several workers."""
    pending = list(
        InboundMessage.objects.filter(status=InboundStatus.RECEIVED)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in pending:
        try:
            process_inbound(pk)
            done += 1
        except DatabaseError:
            logger.warning("Inbound message %s stays received (database busy)", pk)
    return done
