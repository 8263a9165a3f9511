"""Reads of automation shared by the console and the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from retainer.automation import placeholders, rules
from retainer.automation.choices import DeliveryStatus
from retainer.automation.models import Macro, Rule, RuleFiring, WebhookDelivery, WebhookEndpoint
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


# --- Rules ------------------------------------------------------------------------------------


def case_facts(case: Case) -> rules.CaseFacts:
    """What rule conditions read of ``case`` (its contract and plan loaded)."""
    contract = case.contract
    plan = contract.plan if contract is not None else None
    return rules.CaseFacts(
        organization=case.organization_id,
        plan_tier=plan.tier if plan is not None else "",
        product=case.product_id,
        contact=case.contact_id,
        release=case.release_id,
        channel=case.channel,
        severity=case.severity,
        priority=case.priority,
        status=case.status,
        tags=tuple(str(tag) for tag in case.tags or ()),
        text=f"{case.subject}\n{case.description}",
    )


def dry_run(*, conditions: rules.Conditions, last: int) -> tuple[int, list[Case]]:
    """Which of the ``last`` newest cases (at most ``rules.DRY_RUN_MAX``) meet the
    conditions: how many were looked at, and the matching ones, newest first. Reads only:
    no action runs, nothing is recorded. One query, whatever ``last``."""
    last = max(1, min(last, rules.DRY_RUN_MAX))
    cases = list(
        Case.objects.select_related(
            "organization", "contract__plan", "product", "assignee"
        ).order_by("-id")[:last]
    )
    return len(cases), [case for case in cases if rules.matches(conditions, case_facts(case))]


def rules_for_list(queryset: QuerySet[Rule]) -> QuerySet[Rule]:
    """Rules in the order they run, with how many times each fired."""
    return queryset.annotate(firing_count=Count("firings")).order_by("position", "id")


def firings_for_list(queryset: QuerySet[RuleFiring]) -> QuerySet[RuleFiring]:
    """Firings, newest first, with their rule and case."""
    return queryset.select_related("rule", "case").order_by("-id")
