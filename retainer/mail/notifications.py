"""The e-mails the channel sends when a case changes: the outbox's subscriber.

``handle`` is declared in ``retainer/subscriptions.py`` for ``case.decision_recorded``,
``case.replied`` and ``case.status_changed``. It runs in the dispatcher's transaction
with the delivery mark, and each e-mail's key is ``<kind>:<outbox message id>``, so a
message delivered twice queues one e-mail. Customers get:

- *case acknowledged* for a case opened by e-mail (not for one whose e-mail was
  machine-made), with the entitlement decision's customer sentence;
- *agent reply* for a public reply by staff — never an internal note: the message row
  is read again and skipped unless it is public and written by staff;
- *resolved*, with the satisfaction survey's signed link;
- *fix released* when the defect linked to the case is fixed in a release (to the
  requester and the contacts watching the case);
- *waiting-on-customer reminder*, queued by the periodic :func:`queue_waiting_reminders`
  once per stint in that status.

Staff get *SLA warning* and *SLA breach* (the assignee; nobody assigned: the members of
the case's team), outside the customer's thread. ``handle_account`` does the same for the
organization's events: *low balance* and *allowance exhausted* and *renewal coming up*
(the customer admins and the account owner), *invoice issued* with its PDF (the customer
admins). Each e-mail names the recipient's own organization and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from retainer.accounts.choices import ContactRole
from retainer.accounts.models import Contact, Organization, User
from retainer.billing.choices import InvoiceStatus, ServiceQuoteStatus
from retainer.billing.models import Invoice, RenewalQuote, ServiceQuote
from retainer.cases.actions import csat_token
from retainer.cases.choices import CaseEventType, CaseStatus, ClockKind
from retainer.cases.models import Case, CaseEvent, CaseMessage
from retainer.contracts.choices import Channel
from retainer.contracts.models import Contract
from retainer.lib.outbox import Message
from retainer.lib.sanitize import render_markdown
from retainer.mail.actions.outbound import queue_mail
from retainer.mail.choices import OutboundKind
from retainer.mail.models import InboundMessage

TOPICS = (
    "case.decision_recorded",
    "case.replied",
    "case.status_changed",
    "case.sla_warning",
    "case.sla_breached",
    "case.fix_available",
)
ACCOUNT_TOPICS = (
    "contract.balance_low",
    "contract.balance_exhausted",
    "contract.balance_negative",
    "renewal_quote.created",
    "service_quote.sent",
    "invoice.issued",
)
#: The balance events: each may call for a low-balance or an allowance-exhausted e-mail.
BALANCE_TOPICS = ("contract.balance_low", "contract.balance_exhausted", "contract.balance_negative")
#: The SLA targets' names, at the start of a subject line and inside a sentence.
CLOCK_NAMES: dict[str, Promise] = {
    ClockKind.FIRST_RESPONSE: _("First response"),
    ClockKind.NEXT_RESPONSE: _("Next response"),
    ClockKind.RESOLUTION: _("Resolution"),
}
CLOCK_NAMES_IN_TEXT: dict[str, Promise] = {
    ClockKind.FIRST_RESPONSE: _("first response"),
    ClockKind.NEXT_RESPONSE: _("next response"),
    ClockKind.RESOLUTION: _("resolution"),
}
#: How long a case waits on the customer before they are reminded (once per stint).
WAITING_REMINDER_AFTER = dt.timedelta(days=3)


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str
    staff: bool


def _key(kind: str, source: object, address: str) -> str:
    # One e-mail per recipient and source; the address is hashed to keep the key short.
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"{kind}:{source}:{digest}"


def _case(message: Message) -> Case | None:
    pk = message.refs.get("case")
    if not isinstance(pk, int):
        return None
    return Case.objects.select_related("contact", "organization").filter(pk=pk).first()


def _link(path: str) -> str:
    return f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"


def decision_sentence(sentence: object) -> str | Promise:
    """The entitlement decision's sentence for the customer, translated when the e-mail is
    rendered: the decision stores it in English, and each of its sentences is a message
    of the translation catalogue (``contracts.entitlement``); one with a course name in it
    stays in English."""
    return _(sentence) if isinstance(sentence, str) and sentence else ""


def _named(case: Case) -> dict[str, str]:
    """A case's reference and subject, for a subject line's placeholders."""
    return {"reference": case.reference, "subject": case.subject}


def _context(case: Case, **extra: object) -> dict[str, object]:
    return {
        "case": case,
        "contact": case.contact,
        "portal_url": _link(reverse("portal:case_detail", args=[case.public_id])),
        **extra,
    }


def wants(topic: str, payload: Mapping[str, Any]) -> bool:
    """Whether an event may call for an e-mail (``Subscriber.wants``): a decision only on
    a case opened by e-mail, a status change only to resolved, every other topic (the
    handler reads a reply's message to tell a public staff reply)."""
    if topic == "case.decision_recorded":  # written before it carried the channel: ask
        return payload.get("channel", Channel.EMAIL) == Channel.EMAIL
    if topic == "case.status_changed":
        return payload.get("new") == CaseStatus.RESOLVED
    return True


def handle(message: Message) -> None:
    """Queue the e-mail an event calls for (idempotent: keyed on the outbox message)."""
    case = _case(message)
    if case is None or not case.contact.email:
        return
    if message.topic == "case.decision_recorded":
        _acknowledge(message, case)
    elif message.topic == "case.replied":
        _agent_reply(message, case)
    elif (
        message.topic == "case.status_changed" and message.payload.get("new") == CaseStatus.RESOLVED
    ):
        _resolved(message, case)
    elif message.topic in ("case.sla_warning", "case.sla_breached"):
        _sla(message, case)
    elif message.topic == "case.fix_available":
        _fix_released(message, case)


def _acknowledge(message: Message, case: Case) -> None:
    if case.channel != Channel.EMAIL:
        return  # the portal and the API show the decision on the spot
    if InboundMessage.objects.filter(case=case, is_automatic=True).exists():
        return  # never answer a machine: loops start that way
    queue_mail(
        key=f"{OutboundKind.ACKNOWLEDGEMENT}:{message.id}",
        kind=OutboundKind.ACKNOWLEDGEMENT,
        to=case.contact.email,
        subject=f"[{case.reference}] {case.subject}",
        template="acknowledgement",
        context=_context(case, sentence=decision_sentence(message.payload.get("sentence"))),
        case=case,
        auto_submitted=True,
    )


def _agent_reply(message: Message, case: Case) -> None:
    reply = (
        CaseMessage.objects.select_related("author")
        .filter(pk=int(message.payload.get("message") or 0), case=case)
        .first()
    )
    if reply is None or reply.is_internal or reply.by_customer or not reply.author.is_staff:
        return
    queue_mail(
        key=f"{OutboundKind.AGENT_REPLY}:{message.id}",
        kind=OutboundKind.AGENT_REPLY,
        to=case.contact.email,
        subject=f"Re: [{case.reference}] {case.subject}",
        template="agent_reply",
        context=_context(case, reply=reply, body_html=render_markdown(reply.body)),
        case=case,
    )


def _resolved(message: Message, case: Case) -> None:
    survey = _link(reverse("portal:csat", args=[csat_token(case)]))
    queue_mail(
        key=f"{OutboundKind.RESOLVED}:{message.id}",
        kind=OutboundKind.RESOLVED,
        to=case.contact.email,
        subject=format_lazy(_("[{reference}] Resolved: {subject}"), **_named(case)),
        template="resolved",
        context=_context(case, survey_url=survey),
        case=case,
    )


# --- Staff: SLA warning and breach -----------------------------------------------------------


def _sla_recipients(case: Case) -> list[Recipient]:
    """The assignee (nobody assigned: the members of the case's team), and the lead of
    the case's team when it has one; each person once."""
    if case.assignee_id is not None:
        people: list[User] = list(User.objects.filter(pk=case.assignee_id))
    elif case.queue_id is not None:
        people = list(User.objects.filter(teams=case.queue_id).order_by("full_name", "pk"))
    else:
        people = []
    if case.queue_id is not None:
        people += User.objects.filter(led_teams=case.queue_id)
    unique = {user.pk: user for user in people}
    return [
        Recipient(user.email, user.full_name, staff=True)
        for user in unique.values()
        if user.is_active and user.is_staff and user.email
    ]


def _sla(message: Message, case: Case) -> None:
    breached = message.topic == "case.sla_breached"
    kind = OutboundKind.SLA_BREACH if breached else OutboundKind.SLA_WARNING
    clock = str(message.payload.get("clock", ""))
    label = CLOCK_NAMES.get(clock, clock)
    due_at = parse_datetime(str(message.payload.get("due_at") or ""))
    subject = format_lazy(
        _("[{reference}] {clock} target breached: {subject}")
        if breached
        else _("[{reference}] {clock} target is about to breach: {subject}"),
        clock=label,
        **_named(case),
    )
    console_url = _link(reverse("console:case_page", args=[case.public_id]))
    for person in _sla_recipients(case):
        queue_mail(
            key=_key(kind, message.id, person.address),
            kind=kind,
            to=person.address,
            subject=subject,
            template="sla",
            context={
                "case": case,
                "name": person.name,
                "clock": CLOCK_NAMES_IN_TEXT.get(clock, clock),
                "breached": breached,
                "due_at": due_at,
                "console_url": console_url,
            },
            case=case,
            thread=False,  # a staff notice, not part of the customer's conversation
        )


# --- Customers: fix released, waiting on you ----------------------------------------------------


def _case_contacts(case: Case) -> list[Contact]:
    watchers = [c for c in case.watchers.all() if c.organization_id == case.organization_id]
    people = {c.pk: c for c in [case.contact, *watchers] if c.is_active and c.email}
    return list(people.values())


def _fix_released(message: Message, case: Case) -> None:
    release = str(message.payload.get("release", ""))
    for contact in _case_contacts(case):
        queue_mail(
            key=_key(OutboundKind.FIX_RELEASED, message.id, contact.email),
            kind=OutboundKind.FIX_RELEASED,
            to=contact.email,
            subject=format_lazy(
                _("[{reference}] Fixed in release {release}: {subject}"),
                release=release,
                **_named(case),
            ),
            template="fix_released",
            context={**_context(case), "contact": contact, "release": release},
            case=case,
        )


def queue_waiting_reminders(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Remind the requester of every case waiting on them for ``WAITING_REMINDER_AFTER``:
    once per stint (the key is the status change that started it). Run by the periodic
    job; returns how many reminders were queued."""
    now = now or timezone.now()
    started = CaseEvent.objects.filter(
        case=OuterRef("pk"), type=CaseEventType.STATUS_CHANGED
    ).order_by("-created_at", "-id")
    cases = (
        Case.objects.filter(status=CaseStatus.WAITING_ON_CUSTOMER)
        .annotate(
            stint=Subquery(started.values("pk")[:1]),
            since=Subquery(started.values("created_at")[:1]),
        )
        .filter(since__lte=now - WAITING_REMINDER_AFTER)
        .select_related("contact", "organization")
        .order_by("since")[:limit]
    )
    queued = 0
    for case in cases:
        if not (case.contact.is_active and case.contact.email):
            continue
        row = queue_mail(
            key=f"{OutboundKind.WAITING_REMINDER}:{case.stint}",
            kind=OutboundKind.WAITING_REMINDER,
            to=case.contact.email,
            subject=f"Re: [{case.reference}] {case.subject}",
            template="waiting_reminder",
            context=_context(case, since=case.since),
            case=case,
        )
        queued += row is not None
    return queued


# --- The organization's events: balance, renewal, invoice ----------------------------------


def _org_recipients(organization: Organization, *, owner: bool) -> list[Recipient]:
    admins = Contact.objects.filter(
        organization=organization, role=ContactRole.ADMIN, is_active=True
    ).exclude(email="")
    people = [Recipient(c.email, c.full_name, staff=False) for c in admins]
    account_owner = organization.account_owner
    if owner and account_owner is not None and account_owner.is_active and account_owner.email:
        people.append(Recipient(account_owner.email, account_owner.full_name, staff=True))
    return people


def wants_account(topic: str, payload: Mapping[str, Any]) -> bool:
    """Every balance, renewal-quote and issued-invoice event may call for e-mails
    (``Subscriber.wants``)."""
    return topic in ACCOUNT_TOPICS


def handle_account(message: Message) -> None:
    """Queue the e-mails an organization's event calls for (idempotent: keyed on the
    outbox message, or on the ledger entry for an exhausted allowance)."""
    if message.topic in BALANCE_TOPICS:
        _balance(message)
    elif message.topic == "renewal_quote.created":
        _renewal(message)
    elif message.topic == "service_quote.sent":
        _service_quote(message)
    elif message.topic == "invoice.issued":
        _invoice(message)


def _recipient_link(person: Recipient, staff_path: str) -> str:
    return _link(staff_path if person.staff else reverse("portal:support"))


def _balance(message: Message) -> None:
    contract = (
        Contract.objects.select_related("organization__account_owner")
        .filter(pk=message.refs.get("contract") or 0)
        .first()
    )
    if contract is None:
        return
    balance = int(message.payload.get("balance", 0))
    exhausted = message.topic != "contract.balance_low" or balance <= 0
    kind = OutboundKind.ALLOWANCE_EXHAUSTED if exhausted else OutboundKind.LOW_BALANCE
    # The events of one ledger entry (low, used up, below zero) make one "exhausted" e-mail.
    source = f"entry{message.payload.get('entry')}" if exhausted else message.id
    subject = format_lazy(
        _("Allowance used up: {contract}") if exhausted else _("Balance low: {contract}"),
        contract=contract.name,
    )
    staff_path = reverse("contracts:contract_detail", args=[contract.pk])
    for person in _org_recipients(contract.organization, owner=True):
        queue_mail(
            key=_key(kind, source, person.address),
            kind=kind,
            to=person.address,
            subject=subject,
            template="balance",
            context={
                "name": person.name,
                "contract": contract,
                "balance": balance,
                "threshold": message.payload.get("threshold"),
                "exhausted": exhausted,
                "link": _recipient_link(person, staff_path),
            },
            organization_id=contract.organization_id,
        )


def _renewal(message: Message) -> None:
    quote = (
        RenewalQuote.objects.select_related("contract", "organization__account_owner")
        .filter(pk=message.refs.get("quote") or 0)
        .first()
    )
    if quote is None:
        return
    for person in _org_recipients(quote.organization, owner=True):
        queue_mail(
            key=_key(OutboundKind.RENEWAL, message.id, person.address),
            kind=OutboundKind.RENEWAL,
            to=person.address,
            subject=format_lazy(_("Renewal coming up: {contract}"), contract=quote.contract.name),
            template="renewal",
            context={
                "name": person.name,
                "quote": quote,
                "contract": quote.contract,
                "link": _recipient_link(person, reverse("billing:quote_list")),
            },
            organization_id=quote.organization_id,
        )


def _service_quote(message: Message) -> None:
    """A sent services quote: to the customer admins and the contact whose case it is for
    (those who may accept it), with the link to it in the portal."""
    quote = (
        ServiceQuote.objects.select_related("organization", "case__contact")
        .filter(pk=message.refs.get("service_quote") or 0, status=ServiceQuoteStatus.SENT)
        .first()
    )
    if quote is None:
        return
    people = _org_recipients(quote.organization, owner=False)
    requester = quote.case.contact if quote.case is not None else None
    if requester is not None and requester.is_active and requester.email:
        people.append(Recipient(requester.email, requester.full_name, staff=False))
    link = _link(reverse("billing:portal_service_quote_detail", args=[quote.pk]))
    for person in {p.address.lower(): p for p in people}.values():
        queue_mail(
            key=_key(OutboundKind.SERVICE_QUOTE, message.id, person.address),
            kind=OutboundKind.SERVICE_QUOTE,
            to=person.address,
            subject=format_lazy(
                _("Quote {number}: {title}"), number=quote.number, title=quote.title
            ),
            template="service_quote",
            context={"name": person.name, "quote": quote, "link": link},
            case=quote.case,
            organization_id=quote.organization_id,
        )


def _invoice(message: Message) -> None:
    invoice = (
        Invoice.objects.select_related("organization")
        .filter(pk=message.refs.get("invoice") or 0)
        .exclude(status=InvoiceStatus.DRAFT)
        .first()
    )
    if invoice is None or not invoice.number:
        return
    for person in _org_recipients(invoice.organization, owner=False):
        queue_mail(
            key=_key(OutboundKind.INVOICE_ISSUED, message.id, person.address),
            kind=OutboundKind.INVOICE_ISSUED,
            to=person.address,
            subject=format_lazy(_("Invoice {number}"), number=invoice.number),
            template="invoice_issued",
            context={"name": person.name, "invoice": invoice},
            organization_id=invoice.organization_id,
            invoice=invoice,
        )
