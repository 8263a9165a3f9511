"""Reads of plans, contracts, ledgers and decisions, and the facts the entitlement decision
needs (``actions.decide_for`` takes the decision)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from retainer.accounts.models import Contact
from retainer.contracts import entitlement
from retainer.contracts.choices import AuthorizationPolicy, ContractStatus, SourceType
from retainer.contracts.models import (
    Contract,
    ContractEvent,
    EntitlementDecision,
    LedgerEntry,
    SupportPlan,
    TrainingRecord,
)
from retainer.lib import compiled


def plans_current() -> QuerySet[SupportPlan]:
    return SupportPlan.objects.filter(is_current=True).prefetch_related("products")


def plan_for_edit(*, pk: int) -> SupportPlan:
    """The plan version ``pk`` with its products (404 when there is none)."""
    try:
        return SupportPlan.objects.prefetch_related("products").get(pk=pk)
    except SupportPlan.DoesNotExist:
        raise Http404 from None


def named_contacts_for_contract(*, contract: Contract) -> list[Contact]:
    return list(contract.named_contacts.order_by("full_name"))


def named_contacts_limit(*, contract: Contract) -> int | None:
    """How many contacts the contract may name (None: no limit, or not a named-contacts
    plan): the plan's maximum plus the contract's extra named contacts."""
    terms = contract.plan_terms
    if terms.authorization_policy != AuthorizationPolicy.NAMED or terms.max_named_contacts is None:
        return None
    return terms.max_named_contacts + contract.extra_named_contacts


def contracts_with_relations(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    return contracts.select_related("organization", "plan").prefetch_related(
        "covered_products", Prefetch("named_contacts", queryset=Contact.objects.only("pk"))
    )


def ledger_for_contract(*, contract: Contract) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(contract=contract).select_related("actor", "case")


def events_for_contract(*, contract: Contract) -> QuerySet[ContractEvent]:
    return ContractEvent.objects.filter(contract=contract).select_related("actor")


def case_public_ids(decisions: Iterable[EntitlementDecision]) -> dict[str, str]:
    """``{source_id: case public id}`` of the decisions taken for cases (one query).

    Cases sit above this app, so they are read by label, not imported."""
    ids = {
        int(d.source_id)
        for d in decisions
        if d.source_type == SourceType.CASE and d.source_id.isdigit()
    }
    if not ids:
        return {}
    cases = apps.get_model("cases", "Case").objects.filter(pk__in=ids)
    return {str(pk): public_id for pk, public_id in cases.values_list("pk", "public_id")}


def case_source_ids(public_id: str) -> list[str]:
    """The ``source_id`` decisions of the case with ``public_id`` carry (none if unknown)."""
    cases = apps.get_model("cases", "Case").objects.filter(public_id=public_id)
    return [str(pk) for pk in cases.values_list("pk", flat=True)]


def ledger_sum(*, contract: Contract) -> int:
    """The balance recomputed from the entries (the cached one must always equal it)."""
    total = LedgerEntry.objects.filter(contract=contract).aggregate(total=Sum("quantity"))
    return int(total["total"] or 0)


@dataclass(frozen=True)
class BalanceSummary:
    unit: str
    balance: int
    granted: int
    consumed: int
    overage: int
    low_balance_at: int | None
    low_balance_warned: bool


GRANTING_KINDS = ("grant", "top_up", "rollover")
CONSUMING_KINDS = ("consume", "reverse")


def balance_summary(*, contract: Contract) -> BalanceSummary:
    """One contract's balance and what was granted, consumed and billed as overage
    (incidents, or minutes). For many contracts use ``balance_summaries``."""
    return balance_summaries(contracts=[contract])[contract.pk]


def balance_summaries(*, contracts: Iterable[Contract]) -> dict[int, BalanceSummary]:
    """``{contract id: BalanceSummary}`` of every contract in ``contracts``, in one query
    whatever their number (a grouped sum over their ledgers). Who may see the contracts
    is the caller's question; the balance is the cached ``Contract.balance``."""
    contracts = list(contracts)
    totals = (
        {
            row["contract_id"]: row
            for row in LedgerEntry.objects.filter(contract__in=[c.pk for c in contracts])
            .values("contract_id")
            .annotate(
                granted=Sum("quantity", filter=Q(kind__in=GRANTING_KINDS, quantity__gt=0)),
                consumed=Sum("quantity", filter=Q(kind__in=CONSUMING_KINDS)),
                overage=Sum("overage_quantity"),
            )
            .order_by()
        }
        if contracts
        else {}
    )
    summaries = {}
    for contract in contracts:
        row = totals.get(contract.pk, {})
        summaries[contract.pk] = BalanceSummary(
            unit=contract.unit,
            balance=contract.balance,
            granted=int(row.get("granted") or 0),
            consumed=-int(row.get("consumed") or 0),
            overage=int(row.get("overage") or 0),
            low_balance_at=contract.low_balance_at,
            low_balance_warned=contract.low_balance_warned,
        )
    return summaries


def current_training_records(*, on: dt.date) -> QuerySet[TrainingRecord]:
    """The training records that count on ``on``: never expiring, or expiring after it."""
    return TrainingRecord.objects.filter(Q(expires_on__isnull=True) | Q(expires_on__gt=on))


def contact_facts(
    contact: Contact, *, with_courses: bool = True, on: dt.date | None = None
) -> entitlement.ContactFacts:
    """The contact's facts on ``on`` (default today); ``with_courses=False`` skips reading
    training records when no candidate contract asks for them. Only records current on
    ``on`` count as completed courses: an expired certificate is no training."""
    courses: frozenset[str] = frozenset()
    if with_courses:
        day = on if on is not None else timezone.localdate()
        courses = frozenset(
            course.lower()
            for course in current_training_records(on=day)
            .filter(contact=contact)
            .values_list("course", flat=True)
        )
    return entitlement.ContactFacts(
        id=contact.pk,
        organization_id=contact.organization_id,
        is_active=contact.is_active,
        completed_courses=courses,
    )


def contract_facts(
    contract: Contract, *, product_ids: frozenset[int], named_contact_ids: frozenset[int]
) -> entitlement.ContractFacts:
    terms = contract.plan_terms
    return entitlement.ContractFacts(
        id=contract.pk,
        organization_id=contract.organization_id,
        status=contract.status,
        start=contract.start_date,
        end=contract.end_date,
        unit=contract.unit,
        balance=contract.balance,
        quantity=terms.quantity,
        exhaustion_policy=terms.exhaustion_policy,
        is_warranty=terms.is_warranty,
        product_ids=product_ids,
        channels=frozenset(terms.channels),
        authorization_policy=terms.authorization_policy,
        named_contact_ids=named_contact_ids,
        required_course=terms.required_course,
        overage_rate=terms.overage_rate,
        currency=contract.currency,
    )


@dataclass(frozen=True)
class Candidate:
    """A contract the decision considers: the row, and its facts."""

    contract: Contract
    facts: entitlement.ContractFacts


# Read on every intake: compiled once (``lib/compiled.py``).
_CANDIDATES = compiled.Select[Contract](
    lambda organization_id: (
        Contract.objects.filter(organization_id=organization_id)
        .exclude(status=ContractStatus.RENEWED)
        .order_by("id")
    )
)
_COVERED_PRODUCTS = compiled.Select[tuple[int, int]](
    lambda organization_id: (
        Contract.covered_products.through.objects.filter(contract__organization_id=organization_id)
        .exclude(contract__status=ContractStatus.RENEWED)
        .values_list("contract_id", "product_id")
    )
)


def candidate_contracts(*, organization_id: int) -> list[Candidate]:
    """Every contract of the organization except terms already superseded by a renewal.

    Runs on every intake, so it reads the link tables directly, and the named contacts
    only when a contract limits who may open cases.
    """
    contracts = _CANDIDATES.all(organization_id)
    if not contracts:
        return []
    ids = [c.pk for c in contracts]
    products: dict[int, set[int]] = defaultdict(set)
    for contract_id, product_id in _COVERED_PRODUCTS.all(organization_id):
        products[contract_id].add(product_id)
    named: dict[int, set[int]] = defaultdict(set)
    if any(c.plan_terms.authorization_policy == AuthorizationPolicy.NAMED for c in contracts):
        for contract_id, contact_id in Contract.named_contacts.through.objects.filter(
            contract_id__in=ids
        ).values_list("contract_id", "contact_id"):
            named[contract_id].add(contact_id)
    return [
        Candidate(
            c,
            contract_facts(
                c,
                product_ids=frozenset(products[c.pk]),
                named_contact_ids=frozenset(named[c.pk]),
            ),
        )
        for c in contracts
    ]
