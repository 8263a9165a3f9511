"""Reads of automation shared by the console and the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from retainer.automation import placeholders
from retainer.automation.choices import DeliveryStatus
from retainer.automation.models import Macro, WebhookDelivery, WebhookEndpoint
from retainer.cases.models import Case
from retainer.contracts.choices import AllowanceUnit

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def endpoints_for_list(endpoints: QuerySet[WebhookEndpoint]) -> QuerySet[WebhookEndpoint]:
    """Endpoints with the number of deliveries waiting and given up, in one query."""
    return endpoints.annotate(
        waiting=Count(
            "deliveries",
            filter=Q(deliveries__status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)),
        ),
        given_up=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.GIVEN_UP)),
    )


def deliveries_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload").order_by("-id")


def balance_text(case: Case) -> str:
    contract = case.contract
    if contract is None:
        return "no contract"
    if contract.unit == AllowanceUnit.HOURS:
        return f"{Decimal(contract.balance) / 60:.1f} hours"
    if contract.unit == AllowanceUnit.NONE:
        return "covered by dates (no allowance)"
    return "1 incident" if contract.balance == 1 else f"{contract.balance} incidents"


def macro_values(case: Case) -> dict[str, Any]:
    """The placeholder values of ``case`` (its contact, contract and decision loaded)."""
    decision = case.decision
    return {
        "contact.name": case.contact.full_name,
        "case.reference": case.reference,
        "balance": balance_text(case),
        "decision": decision.sentence if decision is not None else "",
    }


def article_url(slug: str) -> str:
    base = settings.RETAINER_BASE_URL.rstrip("/")
    return base + reverse("kb:help_article", kwargs={"slug": slug})


def render_macro(macro: Macro, case: Case) -> str:
    return placeholders.render(macro.body, macro_values(case), article_url)
