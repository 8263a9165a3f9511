"""The typed events of the catalog (history: ``CatalogEvent``).

Every catalog change is a "saved" event of its kind: ``created`` says whether the save
made the object, ``changes`` holds ``{field: {"old": …, "new": …}}`` of what it set. The
row's ``product`` and ``object_repr`` columns say what it is about. The catalog is
published (the API and the "Scope of Support" page show it to every customer), so its
whole history is readable by customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retainer.catalog.choices import CatalogEventType
from retainer.lib.events import Event


@dataclass(frozen=True, kw_only=True)
class CatalogEventBase(Event):
    """A change to the catalog (a ``CatalogEvent`` row)."""

    history = "catalog.catalogevent"
    customer_fields = frozenset({"created", "changes"})

    created: bool = False
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ProductSaved(CatalogEventBase):
    """A product was created or changed."""

    name = "product.saved"
    type = CatalogEventType.PRODUCT_SAVED


@dataclass(frozen=True, kw_only=True)
class ReleaseSaved(CatalogEventBase):
    """A product release was created or changed."""

    name = "release.saved"
    type = CatalogEventType.RELEASE_SAVED


@dataclass(frozen=True, kw_only=True)
class EnvironmentSaved(CatalogEventBase):
    """A supported environment was created or changed."""

    name = "environment.saved"
    type = CatalogEventType.ENVIRONMENT_SAVED


@dataclass(frozen=True, kw_only=True)
class ScopePolicySaved(CatalogEventBase):
    """A product's scope policy was created or changed."""

    name = "scope_policy.saved"
    type = CatalogEventType.SCOPE_POLICY_SAVED


@dataclass(frozen=True, kw_only=True)
class OfferingSaved(CatalogEventBase):
    """A professional-service offering was created or changed."""

    name = "offering.saved"
    type = CatalogEventType.OFFERING_SAVED
