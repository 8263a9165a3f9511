"""The e-mails the channel sends when a case changes: the outbox's subscriber.

``handle`` is declared in ``retainer/subscriptions.py`` for ``case.decision_recorded``,
``case.replied`` and ``case.status_changed``. It runs in the dispatcher's transaction
with the delivery mark, and each e-mail's key is ``<kind>:<outbox message id>``, so a
message delivered twice queues one e-mail. Customers get:

- *case acknowledged* for a case opened by e-mail (not for one whose e-mail was
  machine-made), with the entitlement decision's customer sentence;
- *agent reply* for a public reply by staff — never an internal note: the message row
  is read again and skipped unless it is public and written by staff;
- *resolved*, with the satisfaction survey's signed link.

Every e-mail goes to the case's requester only, and names nothing but that case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse

from retainer.cases.actions import csat_token
from retainer.cases.choices import CaseStatus
from retainer.cases.models import Case, CaseMessage
from retainer.contracts.choices import Channel
from retainer.lib.outbox import Message
from retainer.lib.sanitize import render_markdown
from retainer.mail.actions.outbound import queue_mail
from retainer.mail.choices import OutboundKind
from retainer.mail.models import InboundMessage

TOPICS = ("case.decision_recorded", "case.replied", "case.status_changed")


def _case(message: Message) -> Case | None:
    pk = message.refs.get("case")
    if not isinstance(pk, int):
        return None
    return Case.objects.select_related("contact", "organization").filter(pk=pk).first()


def _link(path: str) -> str:
    return f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"


def _context(case: Case, **extra: object) -> dict[str, object]:
    return {
        "case": case,
        "contact": case.contact,
        "portal_url": _link(reverse("portal:case_detail", args=[case.public_id])),
        **extra,
    }


def wants(topic: str, payload: Mapping[str, Any]) -> bool:
    """Whether an event may call for an e-mail (``Subscriber.wants``): a decision only on
    a case opened by e-mail, a status change only to resolved, every reply (the handler
    reads the message to tell a public staff reply)."""
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
        context=_context(case, sentence=message.payload.get("sentence", "")),
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
        subject=f"[{case.reference}] Resolved: {case.subject}",
        template="resolved",
        context=_context(case, survey_url=survey),
        case=case,
    )
