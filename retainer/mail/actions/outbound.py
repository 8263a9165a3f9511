"""Outbound mail: the mail outbox and its sender.

An e-mail is a row of :class:`~retainer.mail.models.OutboundMessage`, written in the
transaction of what it tells (an event handler's, or inbound processing's) under a key
derived from its source, so a replayed event queues nothing twice. After commit a job
sends it through Django's e-mail backend (SMTP in production); a failure is retried with
back-off (1, 2, 4 … minutes, at most an hour apart) up to ``MAX_ATTEMPTS`` times, then the
row is ``failed`` and shown on the console's Mail page, which can queue it again.

Sending is at least once: a row is claimed (``sending``, with a lease) before the SMTP
conversation and marked ``sent`` after it; a worker killed in between leaves the lease to
expire and the e-mail is sent again. Its Message-ID stays the same, so mail clients
show a repeat as one message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from retainer.billing.models import Invoice
from retainer.cases.models import Case
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.jobs import enqueue_on_commit
from retainer.mail.actions.preferences import mail_language, unsubscribe_url, wants_mail
from retainer.mail.choices import OPTIONAL_KINDS, OutboundKind, OutboundStatus
from retainer.mail.events import OutboundFailed, OutboundQueued, OutboundRetried, OutboundSent
from retainer.mail.models import BouncingAddress, InboundMessage, MailEvent, OutboundMessage
from retainer.mail.references import new_message_id

logger = logging.getLogger(__name__)

#: Sending attempts before an e-mail is left ``failed``.
MAX_ATTEMPTS = 8
#: How long a worker may hold an e-mail it is sending before another one may take it.
LEASE = dt.timedelta(minutes=10)
#: References kept on a reply (the thread's first and latest ids).
MAX_REFERENCES = 10
#: Kinds whose body is a credential: blanked once sent or given up, never sent again.
SECRET_KINDS = frozenset({OutboundKind.SIGN_IN_LINK})
#: What a blanked body reads.
BLANKED = "(The body carried a sign-in link and was removed once the e-mail left.)"


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4 … minutes, at most an hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def thread_of(case: Case) -> list[str]:
    """The Message-IDs of a case's e-mail thread, oldest first: what customers sent and
    what we sent."""
    inbound = InboundMessage.objects.filter(case=case).exclude(message_id__startswith="sha256:")
    outbound = OutboundMessage.objects.filter(case=case)
    dated = [(r.received_at, r.message_id) for r in inbound.only("received_at", "message_id")]
    dated += [(r.created_at, r.message_id) for r in outbound.only("created_at", "message_id")]
    return [message_id for _at, message_id in sorted(dated)]


def _threading(case: Case | None, inbound: InboundMessage | None) -> dict[str, str]:
    ids = thread_of(case) if case is not None else []
    if inbound is not None and not inbound.message_id.startswith("sha256:"):
        ids.append(inbound.message_id)
    if not ids:
        return {}
    kept = ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return {
        "In-Reply-To": f"<{ids[-1]}>",
        "References": " ".join(f"<{message_id}>" for message_id in dict.fromkeys(kept)),
    }


@transaction.atomic
def queue_mail(
    *,
    key: str,
    kind: str,
    to: str,
    subject: str | Promise,
    template: str,
    context: dict[str, object],
    case: Case | None = None,
    inbound: InboundMessage | None = None,
    auto_submitted: bool = False,
    thread: bool = True,
    organization_id: int | None = None,
    invoice: Invoice | None = None,
) -> OutboundMessage | None:
    """Queue one e-mail (text and HTML from ``mail/email/<template>.txt|.html``) unless
    ``key`` was queued already, or the kind is optional and ``to`` turned it off (returns
    ``None`` then). An address known to bounce gets nothing: the row is kept as
    ``suppressed``. ``thread=False`` leaves the customer's thread headers off (staff
    notices about a case); ``invoice`` is attached as PDF when the e-mail is sent.

    An optional kind carries its unsubscribe link (``List-Unsubscribe`` with
    ``List-Unsubscribe-Post``, RFC 8058) in the headers and as ``unsubscribe_url`` in
    the templates' context.

    The subject and the templates are rendered in the recipient's language
    (:func:`~retainer.mail.actions.preferences.mail_language`): pass translatable text as
    lazy strings (``gettext_lazy``, ``format_lazy``) so it is translated here."""
    if OutboundMessage.objects.filter(key=key).exists() or not wants_mail(to, kind):
        return None
    headers = _threading(case, inbound) if thread else {}
    if auto_submitted:
        headers["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-reply to this one
    if kind in OPTIONAL_KINDS:
        context = {**context, "unsubscribe_url": unsubscribe_url(to, kind)}
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    bouncing = BouncingAddress.objects.filter(address=to.lower()).exists()
    with translation.override(mail_language(to)):
        subject = str(subject)
        text = render_to_string(f"mail/email/{template}.txt", context)
        html = render_to_string(f"mail/email/{template}.html", context)
    row = OutboundMessage.objects.create(
        key=key,
        kind=kind,
        to=to,
        subject=subject[:250],
        text=text,
        html=html,
        message_id=new_message_id(case.public_id if case is not None else None),
        headers=headers,
        status=OutboundStatus.SUPPRESSED if bouncing else OutboundStatus.QUEUED,
        case=case,
        organization_id=case.organization_id if case is not None else organization_id,
        inbound=inbound,
        invoice=invoice,
    )
    record(MailEvent, OutboundQueued(kind=kind, case=case.pk if case else None), outbound=row)
    if bouncing:
        record(MailEvent, OutboundFailed(status=row.status, error="address bouncing"), outbound=row)
    else:
        from retainer.mail.tasks import send_outbound_task

        enqueue_on_commit(send_outbound_task, row.pk)
    return row


def queue_rejection(inbound: InboundMessage, sentence: str | Promise) -> OutboundMessage | None:
    """Tell the sender of ``inbound`` why nothing was opened (``sentence``), in reply to it."""
    return queue_mail(
        key=f"rejection:{inbound.pk}",
        kind=OutboundKind.REJECTION,
        to=inbound.sender,
        subject=f"Re: {inbound.subject}" if inbound.subject else _("Your message to support"),
        template="rejection",
        context={"sentence": sentence, "subject": inbound.subject},
        inbound=inbound,
        auto_submitted=True,
    )


def queue_sign_in_link(*, to: str, link: str, minutes: int) -> None:
    """Queue the e-mail of a sign-in link (``accounts.do_send_magic_link`` calls it through
    ``settings.RETAINER_SIGN_IN_LINK_SENDER``, in its transaction). Transactional: no
    opt-out. Its body is blanked once it is sent or given up, so the stored row never
    holds a usable link for longer than the sending takes."""
    queue_mail(
        key=f"sign-in:{hashlib.sha256(link.encode()).hexdigest()}",
        kind=OutboundKind.SIGN_IN_LINK,
        to=to,
        subject=_("Your sign-in link"),
        template="sign_in_link",
        context={"link": link, "minutes": minutes},
        thread=False,
    )


def queue_success_survey(
    *, survey_id: int, to: str, name: str, organization_id: int, link: str, days: int
) -> None:
    """Queue the success-perception survey's e-mail to a contact (the success app calls it
    through ``settings.RETAINER_SURVEY_SENDER`` in the transaction that made the survey):
    its signed ``link``, answerable once within ``days``. Optional: the contact may turn
    these off."""
    queue_mail(
        key=f"{OutboundKind.SUCCESS_SURVEY}:{survey_id}",
        kind=OutboundKind.SUCCESS_SURVEY,
        to=to,
        subject=_("How are we doing?"),
        template="success_survey",
        context={"name": name, "link": link, "days": days},
        thread=False,
        organization_id=organization_id,
    )


def _blank(row: OutboundMessage) -> dict[str, str]:
    """The fields that forget a secret kind's body (none for the other kinds)."""
    return {"text": BLANKED, "html": ""} if row.kind in SECRET_KINDS else {}


# --- Sending ---------------------------------------------------------------------------------


def _claim(outbound_id: int, now: dt.datetime) -> bool:
    # One UPDATE decides which worker sends: the others see no row to claim.
    claimed = OutboundMessage.objects.filter(
        pk=outbound_id, status=OutboundStatus.QUEUED, next_attempt_at__lte=now
    ).update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    return claimed == 1


def _email(row: OutboundMessage) -> EmailMultiAlternatives:
    headers = {"Message-ID": f"<{row.message_id}>", **row.headers}
    email = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers=headers,
    )
    if row.html:
        email.attach_alternative(row.html, "text/html")
    if row.invoice_id is not None:
        from retainer.billing.pdf import render_invoice_pdf  # WeasyPrint: loaded when needed

        invoice = Invoice.objects.get(pk=row.invoice_id)
        email.attach(
            f"invoice-{invoice.number}.pdf", render_invoice_pdf(invoice), "application/pdf"
        )
    return email


def do_send_outbound(outbound_id: int, *, now: dt.datetime | None = None) -> bool:
    """Send one queued e-mail that is due; returns True when the server accepted it. A
    row not queued, not due, or claimed by another worker is left alone."""
    now = now or timezone.now()
    if not _claim(outbound_id, now):
        return False
    row = OutboundMessage.objects.get(pk=outbound_id)
    try:
        _email(row).send()
    except Exception as exc:
        logger.warning("Sending e-mail %s failed: %s", outbound_id, exc)
        _failed(row, f"{type(exc).__name__}: {exc}"[:2000], now)
        return False
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=row.pk).update(
            status=OutboundStatus.SENT, sent_at=timezone.now(), last_error="", **_blank(row)
        )
        record(MailEvent, OutboundSent(attempts=row.attempts), outbound=row)
    return True


def _failed(row: OutboundMessage, error: str, now: dt.datetime) -> None:
    final = row.attempts >= MAX_ATTEMPTS
    status = OutboundStatus.FAILED if final else OutboundStatus.QUEUED
    with transaction.atomic():
        OutboundMessage.objects.filter(pk=row.pk).update(
            status=status,
            last_error=error,
            next_attempt_at=now + backoff(row.attempts),
            **(_blank(row) if final else {}),
        )
        if final:
            record(MailEvent, OutboundFailed(status=status, error=error), outbound=row)


def send_due_mail(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Send every queued e-mail that is due (and take back those whose sender's lease ran
    out); returns how many were sent. Run every minute and safe in several workers."""
    now = now or timezone.now()
    OutboundMessage.objects.filter(status=OutboundStatus.SENDING, next_attempt_at__lt=now).update(
        status=OutboundStatus.QUEUED
    )
    due = OutboundMessage.objects.filter(status=OutboundStatus.QUEUED, next_attempt_at__lte=now)
    ids = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    return sum(do_send_outbound(pk, now=now) for pk in ids)


@transaction.atomic
def do_retry_outbound(row: OutboundMessage, *, actor: object) -> OutboundMessage:
    """Queue a failed (or suppressed) e-mail again, with fresh attempts."""
    row = OutboundMessage.objects.select_for_update().get(pk=row.pk)
    if row.status not in (OutboundStatus.FAILED, OutboundStatus.SUPPRESSED):
        raise Conflict("not_failed", "Only a failed or withheld e-mail can be sent again.")
    if row.kind in SECRET_KINDS:
        raise Conflict(
            "not_resendable",
            "A sign-in link is not sent again (it has expired by now): the person asks for "
            "a new one on the sign-in page.",
        )
    row.status = OutboundStatus.QUEUED
    row.attempts = 0
    row.next_attempt_at = timezone.now()
    row.save(update_fields=["status", "attempts", "next_attempt_at"])
    record(MailEvent, OutboundRetried(), outbound=row, actor=actor)
    from retainer.mail.tasks import send_outbound_task

    enqueue_on_commit(send_outbound_task, row.pk)
    return row
