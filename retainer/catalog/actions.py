"""Every change to the catalog. Each action validates everything it was given before it
writes anything, runs in one transaction and records one typed event
(``catalog/events.py``). Who may call which action is decided in ``catalog/checks.py``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction

from retainer.accounts.models import User
from retainer.catalog import events
from retainer.catalog.models import (
    CatalogEvent,
    Environment,
    Product,
    Release,
    ScopePolicy,
    ServiceOffering,
)
from retainer.lib.events import record
from retainer.lib.models import apply_changes

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


def _save(
    instance: Any,
    values: Mapping[str, Any],
    *,
    fields: Iterable[str],
    event: type[events.CatalogEventBase],
    actor: User | None,
    related: Mapping[str, Iterable[models.Model]] | None = None,
) -> Any:
    """Set ``values`` (and the many-to-many ``related`` sets), validate the result, and
    save and record it when something changed. A refused value writes nothing."""
    created = instance.pk is None
    diff = apply_changes(instance, values, allowed=fields)
    related_rows = {name: list(rows) for name, rows in (related or {}).items()}
    for name, rows in related_rows.items():
        before = sorted(getattr(instance, name).values_list("pk", flat=True)) if not created else []
        after = sorted(row.pk for row in rows)
        if before != after:
            diff[name] = {"old": before, "new": after}
    if not (diff or created):
        return instance
    instance.full_clean()
    instance.save()
    for name, rows in related_rows.items():
        if name in diff:
            getattr(instance, name).set(rows)
    product_id = (
        instance.pk if isinstance(instance, Product) else getattr(instance, "product_id", None)
    )
    record(
        CatalogEvent,
        event(created=created, changes=diff),
        actor=actor,
        product_id=product_id,
        object_repr=str(instance)[:200],
    )
    return instance


@transaction.atomic
def do_save_product(product: Product | None, *, actor: User | None, **values: Any) -> Product:
    """Create (``product`` is None) or change a product."""
    return _save(
        product or Product(), values, fields=PRODUCT_FIELDS, event=events.ProductSaved, actor=actor
    )


@transaction.atomic
def do_save_release(release: Release | None, *, actor: User | None, **values: Any) -> Release:
    """Create or change a release; a new one without an ``order`` goes on top."""
    if release is None and "order" not in values and values.get("product") is not None:
        top = values["product"].releases.aggregate(top=models.Max("order"))["top"] or 0
        values["order"] = top + 1
    return _save(
        release or Release(), values, fields=RELEASE_FIELDS, event=events.ReleaseSaved, actor=actor
    )


@transaction.atomic
def do_save_environment(
    environment: Environment | None, *, actor: User | None, **values: Any
) -> Environment:
    return _save(
        environment or Environment(),
        values,
        fields=ENVIRONMENT_FIELDS,
        event=events.EnvironmentSaved,
        actor=actor,
    )


@transaction.atomic
def do_save_scope_policy(
    policy: ScopePolicy | None,
    *,
    actor: User | None,
    supported_environments: Iterable[Environment] | None = None,
    **values: Any,
) -> ScopePolicy:
    """Create or change a product's scope policy; ``supported_environments``, when given,
    replaces the supported set (empty: every environment)."""
    related = (
        {} if supported_environments is None else {"supported_environments": supported_environments}
    )
    return _save(
        policy or ScopePolicy(),
        values,
        fields=POLICY_FIELDS,
        event=events.ScopePolicySaved,
        actor=actor,
        related=related,
    )


@transaction.atomic
def do_save_offering(
    offering: ServiceOffering | None, *, actor: User | None, **values: Any
) -> ServiceOffering:
    return _save(
        offering or ServiceOffering(),
        values,
        fields=OFFERING_FIELDS,
        event=events.OfferingSaved,
        actor=actor,
    )
