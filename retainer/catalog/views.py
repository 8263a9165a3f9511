"""The public "Scope of Support" page, generated from the scope policies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from retainer.catalog import selectors
from retainer.catalog.choices import OfferingKind, ScopeReason
from retainer.catalog.models import Product, ServiceOffering
from retainer.catalog.scope import OFFERING_FOR_REASON, supported_releases

# What falls outside standard support, in the words of the published page.
OUT_OF_SCOPE = [
    (ScopeReason.RELEASE_TOO_OLD, "Releases older than the supported ones"),
    (ScopeReason.RELEASE_END_OF_SUPPORT, "Releases past their end-of-support date"),
    (ScopeReason.ENVIRONMENT_UNSUPPORTED, "Environments not listed as supported"),
    (ScopeReason.MODIFIED_SOURCE, "Modified source code (where not supported)"),
    (ScopeReason.THIRD_PARTY, "Third-party integrations (where not supported)"),
]


@require_safe
def scope_of_support(request: HttpRequest) -> HttpResponse:
    """Per product: the rules, releases with their dates and status, environments, and the
    services offered instead of support for what is out of scope."""
    today = timezone.localdate()
    general = list(selectors.general_offerings())
    products = [
        _product_entry(product, today, general) for product in selectors.products_with_scope()
    ]
    return render(
        request,
        "catalog/scope_of_support.html",
        {"products": products, "today": today, "general_offerings": general},
    )


def _product_entry(
    product: Product, today: dt.date, general: list[ServiceOffering]
) -> dict[str, Any]:
    policy = getattr(product, "scope_policy", None)
    releases = list(product.releases.all())
    if policy is not None:
        facts = selectors.policy_facts(policy)
        _, supported = supported_releases(
            [selectors.release_facts(r) for r in releases],
            facts,
            today,
        )
        supported_ids = {r.id for r in supported}
    else:
        supported_ids = {r.pk for r in releases if r.ga_date <= today}
    offerings = list(product.offerings.all())
    by_kind: dict[str, ServiceOffering] = {}
    for offering in [*offerings, *general]:  # the product's own offering first
        by_kind.setdefault(offering.kind, offering)
    instead = []
    for reason, text in OUT_OF_SCOPE:
        if policy is None and reason in (ScopeReason.MODIFIED_SOURCE, ScopeReason.THIRD_PARTY):
            continue
        if reason == ScopeReason.MODIFIED_SOURCE and policy and policy.modified_source_supported:
            continue
        if reason == ScopeReason.THIRD_PARTY and policy and policy.third_party_supported:
            continue
        kind = OFFERING_FOR_REASON[reason]
        instead.append((text, OfferingKind(kind).label, by_kind.get(kind)))
    return {
        "product": product,
        "policy": policy,
        "environments": list(policy.supported_environments.all()) if policy else [],
        "releases": [(r, r.pk in supported_ids) for r in releases],
        "offerings": offerings,
        "instead": instead,
    }
