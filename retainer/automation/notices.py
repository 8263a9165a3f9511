"""The e-mails of a rule's *Notify someone* action: a short notice to staff naming the
rule and the case, queued in the mail channel's outbox (``mail/actions/outbound.py``)
with the firing, so a firing notifies each person once. Never sent to customers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from retainer.accounts.models import User
from retainer.automation.models import RuleFiring
from retainer.cases.models import Case
from retainer.mail.actions.outbound import queue_mail
from retainer.mail.choices import OutboundKind


def notice_key(firing: RuleFiring, address: str) -> str:
    """One e-mail per firing and address (the address hashed to keep the key short)."""
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"{OutboundKind.RULE_NOTICE}:{firing.pk}:{digest}"


def queue_rule_notices(
    firing: RuleFiring, *, rule_name: str, case: Case, people: Iterable[User]
) -> int:
    """Queue the notice for each staff member in ``people`` (others are skipped);
    returns how many were queued."""
    path = reverse("console:case_page", args=[case.public_id])
    console_url = f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"
    queued = 0
    for person in people:
        if not (person.is_staff and person.is_active and person.email):
            continue
        row = queue_mail(
            key=notice_key(firing, person.email),
            kind=OutboundKind.RULE_NOTICE,
            to=person.email,
            subject=f'[{case.reference}] Rule "{rule_name}": {case.subject}',
            template="rule_notice",
            context={
                "name": person.full_name,
                "rule_name": rule_name,
                "case": case,
                "console_url": console_url,
            },
            case=case,
            thread=False,  # a staff notice, not part of the customer's conversation
        )
        queued += row is not None
    return queued
