"""Reads of the catalog, including the scope-of-support answer for a product."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from retainer.catalog.models import Environment, Product, Release, ScopePolicy, ServiceOffering
from retainer.catalog.scope import PolicyFacts, ReleaseFacts, ScopeVerdict, evaluate_scope
from retainer.lib.snapshots import Snapshot


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


@dataclass(frozen=True)
class CatalogCopy:
    """The whole catalog as one process keeps it (``catalog()``): rows by id, and each
    product's scope facts. The rows are shared: read them, never change them."""

    products: Mapping[int, Product]
    releases: Mapping[int, Release]
    environments: Mapping[int, Environment]
    scope: Mapping[int, tuple[PolicyFacts, list[ReleaseFacts]]]


def _load_catalog() -> CatalogCopy:
    products = {p.pk: p for p in Product.objects.all()}
    releases = {r.pk: r for r in Release.objects.all()}
    policies = {
        policy.product_id: policy_facts(policy)
        for policy in ScopePolicy.objects.prefetch_related("supported_environments")
    }
    by_product: dict[int, list[ReleaseFacts]] = defaultdict(list)
    for release in releases.values():
        by_product[release.product_id].append(release_facts(release))
    return CatalogCopy(
        products=products,
        releases=releases,
        environments={e.pk: e for e in Environment.objects.all()},
        scope={
            pk: (policies.get(pk) or default_policy_facts(pk), by_product[pk]) for pk in products
        },
    )


_CATALOG = Snapshot("catalog", _load_catalog)


def catalog() -> CatalogCopy:
    """The catalog, read once per process and again only after it changed."""
    return _CATALOG.get()


def scope_facts_for_product(product: Product) -> tuple[PolicyFacts, list[ReleaseFacts]]:
    facts = catalog().scope.get(product.pk)
    if facts is None:  # an unsaved product: nothing published for it
        return default_policy_facts(product.pk), []
    return facts


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


def _with_scope(products: QuerySet[Product]) -> QuerySet[Product]:
    return products.select_related("scope_policy").prefetch_related(
        Prefetch("releases", queryset=Release.objects.order_by("-order")),
        "scope_policy__supported_environments",
        Prefetch("offerings", queryset=ServiceOffering.objects.filter(is_active=True)),
    )


def products_with_scope() -> QuerySet[Product]:
    """Active products with releases and policy loaded, for the published scope page."""
    return _with_scope(Product.objects.filter(is_active=True))


def product_with_scope(*, pk: int) -> Product:
    """One product, active or not, loaded as for the published scope page (the console's
    product page shows what that page says about it)."""
    return _with_scope(Product.objects.filter(pk=pk)).get()


def products_for_console() -> QuerySet[Product]:
    """Every product with its release count, newest release and scope policy, for the
    console's list (a fixed number of queries however many products)."""
    newest = Release.objects.filter(product=OuterRef("pk")).order_by("-order")
    return (
        Product.objects.select_related("scope_policy")
        .annotate(
            release_count=Count("releases"),
            newest_version=Subquery(newest.values("version")[:1]),
        )
        .order_by("name")
    )


def offerings_for_console() -> QuerySet[ServiceOffering]:
    """Every service offering, active or not, with its product (general ones first)."""
    return ServiceOffering.objects.select_related("product").order_by(
        F("product__name").asc(nulls_first=True), "kind", "name"
    )


def general_offerings() -> QuerySet[ServiceOffering]:
    """Active offerings not tied to one product."""
    return ServiceOffering.objects.filter(is_active=True, product__isnull=True).order_by(
        "kind", "name"
    )


def releases_to_choose(*, product_id: int | None) -> QuerySet[Release]:
    """The releases a new case may name for a product, newest first; none for an inactive
    or unknown product."""
    if product_id is None:
        return Release.objects.none()
    return Release.objects.filter(product_id=product_id, product__is_active=True).order_by("-order")
