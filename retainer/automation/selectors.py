"""Reads of automation shared by the console and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from retainer.automation import placeholders, rules
from retainer.automation.choices import DeliveryStatus
from retainer.automation.models import Macro, Rule, RuleFiring, WebhookDelivery, WebhookEndpoint
from retainer.cases.models import Case
from retainer.contracts.choices import AllowanceUnit, ContractStatus
from retainer.contracts.models import Contract

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


def contract_facts(contract: Contract, products: Iterable[int]) -> rules.ContractFacts:
    """What contract rule conditions read of ``contract`` (its plan loaded; ``products``:
    the ids of the products it covers)."""
    plan = contract.plan
    tier = plan.tier if plan is not None else contract.plan_terms.tier
    return rules.ContractFacts(
        organization=contract.organization_id, plan_tier=tier or "", products=tuple(products)
    )


def dry_run_contracts(
    *, conditions: rules.Conditions, today: dt.date, within_days: int | None = None
) -> tuple[int, list[Contract]]:
    """Which active contracts ending from ``today`` to ``within_days`` later
    (``RETAINER_CONTRACT_EXPIRING_DAYS``) a contract rule's conditions match, soonest
    first: how many were looked at (at most ``rules.DRY_RUN_MAX``), and the matching
    ones. Reads only; two queries, whatever their number."""
    days = settings.RETAINER_CONTRACT_EXPIRING_DAYS if within_days is None else within_days
    contracts = list(
        Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + dt.timedelta(days=days),
        )
        .select_related("organization", "plan")
        .prefetch_related("covered_products")
        .order_by("end_date", "pk")[: rules.DRY_RUN_MAX]
    )
    matched = [
        contract
        for contract in contracts
        if rules.matches_contract(
            conditions, contract_facts(contract, [p.pk for p in contract.covered_products.all()])
        )
    ]
    return len(contracts), matched


def rules_for_list(queryset: QuerySet[Rule]) -> QuerySet[Rule]:
    """Rules in the order they run, with how many times each fired."""
    return queryset.annotate(firing_count=Count("firings")).order_by("position", "id")


def firings_for_list(queryset: QuerySet[RuleFiring]) -> QuerySet[RuleFiring]:
    """Firings, newest first, with their rule and case (or contract)."""
    return queryset.select_related("rule", "case", "contract").order_by("-id")


def describe_rule(rule: Rule) -> tuple[list[str], list[str]]:
    """The rule's conditions and actions as sentences for its page, with the names of
    the organizations, products, contacts, releases, agents, teams and endpoints it
    names (one query per kind named). A definition the schema refuses is shown raw."""
    from retainer.accounts.models import Contact, Organization, Team, User
    from retainer.cases.choices import CaseStatus, Priority, Severity
    from retainer.catalog.models import Product, Release

    try:
        conditions = rules.parse_conditions(rule.conditions)
        planned = rules.parse_actions(rule.actions)
    except rules.RuleSchemaError:
        return [str(rule.conditions)], [str(rule.actions)]

    def names(model: Any, ids: Any, label: Any = str) -> str:
        found = {obj.pk: label(obj) for obj in model.objects.filter(pk__in=list(ids))}
        return ", ".join(found.get(pk, f"#{pk} (gone)") for pk in ids)

    def choices(enum: Any, values: Any) -> str:
        labels = dict(enum.choices)
        return ", ".join(
            str(labels.get(v, labels.get(int(v) if str(v).isdigit() else v, v))) for v in values
        )

    c = conditions
    on_contract = rule.trigger in rules.CONTRACT_TRIGGERS
    product_is = "the contract covers" if on_contract else "product is"
    described: list[tuple[Any, Any]] = [  # (the condition's values, how to say them)
        (c.organizations, lambda v: f"organization is {names(Organization, v)}"),
        (c.plan_tiers, lambda v: f"plan tier is {', '.join(v)}"),
        (c.products, lambda v: f"{product_is} {names(Product, v)}"),
        (c.contacts, lambda v: f"contact is {names(Contact, v, lambda x: x.full_name)}"),
        (c.releases, lambda v: f"release is {names(Release, v)}"),
        (c.channels, lambda v: f"channel is {', '.join(v)}"),
        (c.severities, lambda v: f"severity is {choices(Severity, v)}"),
        (c.priorities, lambda v: f"priority is {choices(Priority, v)}"),
        (c.statuses, lambda v: f"status is {choices(CaseStatus, v)}"),
        (c.tags, lambda v: f"tagged {', '.join(v)}"),
        (c.text, lambda v: f"subject or description contains “{v}”"),
    ]
    said = [say(values) for values, say in described if values]

    done = []
    for action in planned:
        kind = action.type
        if kind == "assign_agent":
            done.append(f"Assign to {names(User, [action.agent], lambda u: u.full_name)}")
        elif kind == "assign_team":
            how = action.strategy.replace("_", "-") or "round-robin"
            done.append(f"Assign to team {names(Team, [action.team])} ({how})")
        elif kind in ("set_priority", "set_severity", "set_status"):
            enum = {"set_priority": Priority, "set_severity": Severity}.get(kind, CaseStatus)
            done.append(f"Set {kind.removeprefix('set_')} to {choices(enum, [action.value])}")
        elif kind == "set_tags":
            parts = [f"add {', '.join(action.add)}"] if action.add else []
            parts += [f"remove {', '.join(action.remove)}"] if action.remove else []
            done.append("Tags: " + "; ".join(parts))
        elif kind == "add_note":
            done.append(f"Add the internal note “{action.text[:200]}”")
        elif kind == "send_reply":
            done.append(f"Reply to the customer: “{action.text[:200]}”")
        elif kind == "call_webhook":
            done.append(
                f"Call the webhook {names(WebhookEndpoint, [action.endpoint], lambda e: e.url)}"
            )
        elif kind == "notify":
            owner = "the contract organization's" if on_contract else "the organization's"
            who = (
                f"{owner} account owner"
                if action.recipient == "account_owner"
                else names(User, [action.agent], lambda u: u.full_name)
            )
            done.append(f"E-mail {who}")
        else:
            done.append(kind)
    return said, done
