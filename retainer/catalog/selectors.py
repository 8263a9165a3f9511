"""Reads of the catalog, including the scope-of-support answer for a product."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Prefetch, Q, QuerySet

from retainer.catalog.models import Environment, Product, Release, ScopePolicy, ServiceOffering
from retainer.catalog.scope import PolicyFacts, ReleaseFacts, ScopeVerdict, evaluate_scope


def release_facts(release: Release) -> ReleaseFacts:
    return ReleaseFacts(
        id=release.pk,
        product_id=release.product_id,
        version=release.version,
        order=release.order,
        ga_date=release.ga_date,
        end_of_support_date=release.end_of_support_date,
    )


def policy_facts(policy: ScopePolicy) -> PolicyFacts:
    return PolicyFacts(
        product_id=policy.product_id,
        supported_previous_releases=policy.supported_previous_releases,
        honour_end_of_support_dates=policy.honour_end_of_support_dates,
        supported_environment_ids=frozenset(e.pk for e in policy.supported_environments.all()),
        modified_source_supported=policy.modified_source_supported,
        third_party_supported=policy.third_party_supported,
    )


def default_policy_facts(product_id: int) -> PolicyFacts:
    """Without a published policy every release and environment is in scope."""
    return PolicyFacts(
        product_id=product_id,
        supported_previous_releases=None,
        honour_end_of_support_dates=True,
        modified_source_supported=True,
        third_party_supported=True,
    )


def scope_facts_for_product(product: Product) -> tuple[PolicyFacts, list[ReleaseFacts]]:
    try:
        policy = ScopePolicy.objects.prefetch_related("supported_environments").get(product=product)
        facts = policy_facts(policy)
    except ScopePolicy.DoesNotExist:
        facts = default_policy_facts(product.pk)
    releases = [release_facts(r) for r in Release.objects.filter(product=product)]
    return facts, releases


def scope_verdict(
    *,
    product: Product,
    release: Release | None,
    environment: Environment | None,
    on: dt.date,
    modified_source: bool = False,
    third_party: bool = False,
) -> ScopeVerdict:
    """Is this release / environment in scope for ``product`` on ``on``, and if not, why."""
    policy, releases = scope_facts_for_product(product)
    return evaluate_scope(
        policy=policy,
        releases=releases,
        release=release_facts(release) if release is not None else None,
        environment_id=environment.pk if environment is not None else None,
        on=on,
        modified_source=modified_source,
        third_party=third_party,
    )


def offerings_for_product(
    *, product: Product, kind: str | None = None
) -> QuerySet[ServiceOffering]:
    """Active offerings for the product (product-specific first, then general ones)."""
    offerings = ServiceOffering.objects.filter(is_active=True).filter(
        Q(product=product) | Q(product__isnull=True)
    )
    if kind is not None:
        offerings = offerings.filter(kind=kind)
    return offerings.order_by(F("product_id").asc(nulls_last=True), "price")


def products_with_scope() -> QuerySet[Product]:
    """Active products with releases and policy loaded, for the published scope page."""
    return (
        Product.objects.filter(is_active=True)
        .select_related("scope_policy")
        .prefetch_related(
            Prefetch("releases", queryset=Release.objects.order_by("-order")),
            "scope_policy__supported_environments",
            Prefetch("offerings", queryset=ServiceOffering.objects.filter(is_active=True)),
        )
    )


def general_offerings() -> QuerySet[ServiceOffering]:
    """Active offerings not tied to one product."""
    return ServiceOffering.objects.filter(is_active=True, product__isnull=True).order_by(
        "kind", "name"
    )
