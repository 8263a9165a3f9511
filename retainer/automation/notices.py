"""The e-mails of a rule's *Notify someone* action: a short notice to staff naming the
rule and the case (or, for a *Contract expiring* rule, the contract, its organization
and its end date), queued in the mail channel's outbox (``mail/actions/outbound.py``)
with the firing, so a firing notifies each person once. Never sent to customers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from retainer.accounts.models import User
from retainer.automation.models import RuleFiring
from retainer.cases.models import Case
from retainer.contracts.models import Contract
from retainer.mail.actions.outbound import queue_mail
from retainer.mail.choices import OutboundKind


def notice_key(firing: RuleFiring, address: str) -> str:
    """One e-mail per firing and address (the address hashed to keep the key short)."""
    digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
    return f"{OutboundKind.RULE_NOTICE}:{firing.pk}:{digest}"


def _staff(people: Iterable[User]) -> list[User]:
    """Only active staff with an address get a notice (others are skipped)."""
    return [p for p in people if p.is_staff and p.is_active and p.email]


def _queue_notices(
    firing: RuleFiring,
    people: Iterable[User],
    *,
    path: str,
    subject: str | Promise,
    template: str,
    context: dict[str, object],
    **where: object,
) -> int:
    """Queue one notice per staff member in ``people`` (others are skipped), outside the
    customer's thread, linking to the console page at ``path``; returns how many."""
    console_url = f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"
    queued = 0
    for person in _staff(people):
        row = queue_mail(
            key=notice_key(firing, person.email),
            kind=OutboundKind.RULE_NOTICE,
            to=person.email,
            subject=subject,
            template=template,
            context={**context, "name": person.full_name, "console_url": console_url},
            thread=False,  # a staff notice, not part of the customer's conversation
            **where,  # type: ignore[arg-type]
        )
        queued += row is not None
    return queued


def queue_rule_notices(
    firing: RuleFiring, *, rule_name: str, case: Case, people: Iterable[User]
) -> int:
    """Queue the notice for each staff member in ``people`` (others are skipped);
    returns how many were queued."""
    return _queue_notices(
        firing,
        people,
        path=reverse("console:case_page", args=[case.public_id]),
        subject=format_lazy(
            _('[{reference}] Rule "{rule}": {subject}'),
            reference=case.reference,
            rule=rule_name,
            subject=case.subject,
        ),
        template="rule_notice",
        context={"rule_name": rule_name, "case": case},
        case=case,
    )


def queue_contract_rule_notices(
    firing: RuleFiring, *, rule_name: str, contract: Contract, people: Iterable[User]
) -> int:
    """Queue the notice of a contract rule (the contract, its organization and its end
    date, with a link to its console page) for each staff member in ``people``; returns
    how many were queued."""
    organization = contract.organization
    ends = f"{contract.end_date:%Y-%m-%d}" if contract.end_date else _("no end date")
    return _queue_notices(
        firing,
        people,
        path=reverse("contracts:contract_detail", args=[contract.pk]),
        subject=format_lazy(
            _('Rule "{rule}": {contract} ({organization}) ends {end}'),
            rule=rule_name,
            contract=contract.name,
            organization=organization.name,
            end=ends,
        ),
        template="rule_contract_notice",
        context={
            "rule_name": rule_name,
            "contract": contract,
            "organization": organization,
            "end_date": ends,
        },
        organization_id=organization.pk,
    )
