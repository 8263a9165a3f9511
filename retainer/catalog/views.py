"""The public "Scope of Support" page, generated from the scope policies."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from retainer.catalog import selectors
from retainer.catalog.scope import supported_releases


@require_safe
def scope_of_support(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    products = []
    for product in selectors.products_with_scope():
        policy = getattr(product, "scope_policy", None)
        releases = list(product.releases.all())
        if policy is not None:
            facts = selectors.policy_facts(policy)
            _, supported = supported_releases(
                [selectors.release_facts(r) for r in releases], facts, today
            )
            supported_ids = {r.id for r in supported}
        else:
            supported_ids = {r.pk for r in releases if r.ga_date <= today}
        products.append(
            {
                "product": product,
                "policy": policy,
                "releases": [(r, r.pk in supported_ids) for r in releases],
                "offerings": list(product.offerings.all()),
            }
        )
    general_offerings = selectors.general_offerings()
    return render(
        request,
        "catalog/scope_of_support.html",
        {"products": products, "today": today, "general_offerings": general_offerings},
    )
