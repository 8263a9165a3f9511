"""Every change to the catalog. Each action validates, saves and records an event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models, transaction

from retainer.accounts.models import User
from retainer.catalog.choices import CatalogEventType
from retainer.catalog.models import (
    CatalogEvent,
    Environment,
    Product,
    Release,
    ScopePolicy,
    ServiceOffering,
)
from retainer.lib.models import apply_changes, save_validated

PRODUCT_FIELDS = ("name", "code", "description", "list_price", "net_price", "currency", "is_active")
RELEASE_FIELDS = ("product", "version", "order", "ga_date", "end_of_support_date")
ENVIRONMENT_FIELDS = ("name", "version", "kind", "is_active")
POLICY_FIELDS = (
    "product",
    "supported_previous_releases",
    "honour_end_of_support_dates",
    "modified_source_supported",
    "third_party_supported",
    "notes",
)
OFFERING_FIELDS = (
    "kind",
    "name",
    "description",
    "product",
    "price",
    "currency",
    "unit",
    "is_active",
)

_EVENT_FOR = {
    Product: CatalogEventType.PRODUCT_SAVED,
    Release: CatalogEventType.RELEASE_SAVED,
    Environment: CatalogEventType.ENVIRONMENT_SAVED,
    ScopePolicy: CatalogEventType.SCOPE_POLICY_SAVED,
    ServiceOffering: CatalogEventType.OFFERING_SAVED,
}


def _save(
    instance: models.Model, fields: Iterable[str], values: dict[str, Any], actor: User | None
) -> Any:
    created = instance.pk is None
    diff = apply_changes(instance, values, allowed=fields)
    if diff or created:
        save_validated(instance)
        product = instance if isinstance(instance, Product) else getattr(instance, "product", None)
        CatalogEvent.objects.create(
            type=_EVENT_FOR[type(instance)],
            actor=actor,
            product=product,
            object_repr=str(instance)[:200],
            data={"created": created, "changes": diff},
        )
    return instance


@transaction.atomic
def do_save_product(product: Product | None, *, actor: User | None, **values: Any) -> Product:
    return _save(product or Product(), PRODUCT_FIELDS, values, actor)


@transaction.atomic
def do_save_release(release: Release | None, *, actor: User | None, **values: Any) -> Release:
    if release is None and "order" not in values and values.get("product") is not None:
        # New releases go on top unless placed explicitly.
        top = values["product"].releases.aggregate(top=models.Max("order"))["top"] or 0
        values["order"] = top + 1
    return _save(release or Release(), RELEASE_FIELDS, values, actor)


@transaction.atomic
def do_save_environment(
    environment: Environment | None, *, actor: User | None, **values: Any
) -> Environment:
    return _save(environment or Environment(), ENVIRONMENT_FIELDS, values, actor)


@transaction.atomic
def do_save_scope_policy(
    policy: ScopePolicy | None,
    *,
    actor: User | None,
    supported_environments: Iterable[Environment] | None = None,
    **values: Any,
) -> ScopePolicy:
    policy = _save(policy or ScopePolicy(), POLICY_FIELDS, values, actor)
    if supported_environments is not None:
        before = set(policy.supported_environments.values_list("pk", flat=True))
        after = {environment.pk for environment in supported_environments}
        if before != after:
            policy.supported_environments.set(list(supported_environments))
            CatalogEvent.objects.create(
                type=CatalogEventType.SCOPE_POLICY_SAVED,
                actor=actor,
                product=policy.product,
                object_repr=str(policy)[:200],
                data={
                    "changes": {
                        "supported_environments": {"old": sorted(before), "new": sorted(after)}
                    }
                },
            )
    return policy


@transaction.atomic
def do_save_offering(
    offering: ServiceOffering | None, *, actor: User | None, **values: Any
) -> ServiceOffering:
    return _save(offering or ServiceOffering(), OFFERING_FIELDS, values, actor)
