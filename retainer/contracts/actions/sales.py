"""Selling a contract: its terms snapshot, price, products and named contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import Contact, Organization, User
from retainer.catalog.models import Product
from retainer.contracts.actions.common import lock_contract
from retainer.contracts.actions.movements import grant_term
from retainer.contracts.actions.plans import checked_terms
from retainer.contracts.choices import PRESET_NAMES, AuthorizationPolicy, ContractStatus, Preset
from retainer.contracts.events import ContractCreated, ContractRenamed, NamedContactsChanged
from retainer.contracts.models import NAME_MAX_LENGTH, Contract, ContractEvent, SupportPlan
from retainer.contracts.pricing import (
    CurrencyMismatch,
    ProductPrice,
    contract_price,
)
from retainer.contracts.terms import PlanTerms, preset_terms
from retainer.lib.errors import InvalidInput
from retainer.lib.events import record
from retainer.lib.models import save_validated

# --- Contracts -----------------------------------------------------------------------------


def contract_name(
    organization_name: str, *, plan_name: str | None, preset: str, unit: str, start: dt.date
) -> str:
    """The name a contract gets when none is given: "<organization> — <plan name, or what
    the preset sells> <start year>", e.g. "Globex — Gold 2027" or "Acme — Hour bank 2026".

    Migration ``0004_contract_name`` names the contracts sold before names existed the
    same way."""
    label = plan_name or PRESET_NAMES.get((preset, unit)) or Preset(preset).label
    return f"{organization_name} — {label} {start.year}"[:NAME_MAX_LENGTH]


def clean_name(name: str) -> str:
    """A contract name as given, or a ``ValidationError`` when it is empty or too long."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "A contract needs a name."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"A name is at most {NAME_MAX_LENGTH} characters."})
    return name


def product_prices(products: Iterable[Product]) -> list[ProductPrice]:
    return [
        ProductPrice(
            product_id=p.pk, list_price=p.list_price, net_price=p.net_price, currency=p.currency
        )
        for p in products
    ]


def contract_terms(preset: str, plan: SupportPlan | None, overrides: dict[str, Any]) -> PlanTerms:
    """The terms a new contract is sold on: the plan's (or the preset's defaults) plus
    per-contract overrides."""
    if preset not in Preset.values:
        raise InvalidInput(
            "unknown_preset", f"There is no preset called {preset!r}.", field="preset"
        )
    clean = {key: value for key, value in overrides.items() if value is not None}
    if plan is not None and plan.preset != preset:
        raise InvalidInput(
            "preset_mismatch", f"Plan {plan} is a {plan.preset} plan, not {preset}.", field="plan"
        )
    try:
        terms = plan.plan_terms.replace(**clean) if plan else preset_terms(preset, **clean)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({"terms": str(exc)}) from None
    return checked_terms(terms)


@transaction.atomic
def do_create_contract(
    *,
    organization: Organization,
    preset: str,
    start_date: dt.date,
    plan: SupportPlan | None = None,
    covered_products: Iterable[Product] = (),
    named_contacts: Iterable[Contact] = (),
    purchase_date: dt.date | None = None,
    purchase_price: Decimal | None = None,
    end_date: dt.date | None = None,
    named_engineer: bool = False,
    extra_named_contacts: int = 0,
    reference: str = "",
    terms: dict[str, Any] | None = None,
    name: str = "",
    actor: User | None,
) -> Contract:
    """Sell a contract: snapshot the terms, price it, and grant the first term's allowance.

    Without a ``name`` the contract is named after its organization, plan (or preset) and
    start year (``contract_name``)."""
    snapshot = contract_terms(preset, plan, terms or {})
    products = list(covered_products) or (list(plan.products.all()) if plan else [])
    contacts = list(named_contacts)
    contract = _priced_contract(
        organization,
        snapshot,
        products=products,
        contacts=contacts,
        start_date=start_date,
        end_date=end_date,
        purchase_date=purchase_date,
        purchase_price=purchase_price,
        named_engineer=named_engineer,
        extra_named_contacts=extra_named_contacts,
    )
    contract.plan = plan
    contract.reference = reference
    contract.name = clean_name(name) if name.strip() else _generated_name(contract, plan)
    save_validated(contract)
    contract.covered_products.set(products)
    contract.named_contacts.set(contacts)
    created = ContractCreated(preset=preset, price=str(contract.price), currency=contract.currency)
    record(ContractEvent, created, contract=contract, plan=plan, actor=actor)
    if grant_term(lock_contract(contract.pk), actor=actor) is not None:
        contract.refresh_from_db()
    return contract


def _generated_name(contract: Contract, plan: SupportPlan | None) -> str:
    return contract_name(
        contract.organization.name,
        plan_name=plan.name if plan else None,
        preset=contract.preset,
        unit=contract.unit,
        start=contract.start_date,
    )


@transaction.atomic
def do_rename_contract(contract: Contract, *, name: str, actor: User | None) -> Contract:
    """Give the contract another name (recorded as ``contract.renamed``; the same name
    again changes nothing)."""
    new = clean_name(name)
    locked = lock_contract(contract.pk)  # only the name is written: never a stale balance
    old = locked.name
    if new == old:
        return locked
    locked.name = new
    save_validated(locked, update_fields=["name"])
    record(ContractEvent, ContractRenamed(old=old, new=new), contract=locked, actor=actor)
    return locked


def _priced_contract(
    organization: Organization,
    snapshot: PlanTerms,
    *,
    products: list[Product],
    contacts: list[Contact],
    start_date: dt.date,
    end_date: dt.date | None,
    purchase_date: dt.date | None,
    purchase_price: Decimal | None,
    named_engineer: bool,
    extra_named_contacts: int,
) -> Contract:
    """The unsaved contract sold on ``snapshot``: its term dates and price, after checking
    the products, the currency and the named contacts (nothing is written)."""
    if not products:
        raise ValidationError({"covered_products": "A contract covers at least one product."})
    if organization.currency != snapshot.currency and snapshot.price_basis != "included":
        raise InvalidInput(
            "currency_mismatch",
            f"The plan is priced in {snapshot.currency}, "
            f"the organization is invoiced in {organization.currency}.",
        )
    if snapshot.is_warranty:
        purchase_date = purchase_date or start_date
        start_date = purchase_date
    if end_date is None:
        end_date = snapshot.term_end(start_date)
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": "The term cannot end before it starts."})
    check_named_contacts(organization, snapshot, contacts, extra_named_contacts)
    try:
        price = contract_price(
            snapshot,
            product_prices(products),
            purchase_price=purchase_price,
            named_engineer=named_engineer,
            extra_named_contacts=extra_named_contacts,
        )
    except CurrencyMismatch as exc:
        raise InvalidInput("currency_mismatch", str(exc)) from None
    return Contract(
        organization=organization,
        preset=snapshot.preset,
        unit=snapshot.unit,
        terms=snapshot.to_json(),
        status=ContractStatus.ACTIVE,
        start_date=start_date,
        end_date=end_date,
        purchase_date=purchase_date,
        purchase_price=purchase_price,
        price=price,
        currency=snapshot.currency,
        named_engineer=named_engineer,
        extra_named_contacts=extra_named_contacts,
        low_balance_at=snapshot.low_balance_at(),
    )


def check_named_contacts(
    organization: Organization, terms: PlanTerms, contacts: list[Contact], extra: int
) -> None:
    if any(c.organization_id != organization.pk for c in contacts):
        raise ValidationError({"named_contacts": "Named contacts belong to the organization."})
    if (
        terms.authorization_policy == AuthorizationPolicy.NAMED
        and terms.max_named_contacts is not None
        and len(contacts) > terms.max_named_contacts + extra
    ):
        limit = terms.max_named_contacts + extra
        raise ValidationError(
            {"named_contacts": f"This contract allows at most {limit} named contacts."}
        )


@transaction.atomic
def do_set_named_contacts(
    contract: Contract, contacts: Iterable[Contact], *, actor: User | None
) -> Contract:
    contacts = list(contacts)
    check_named_contacts(
        contract.organization, contract.plan_terms, contacts, contract.extra_named_contacts
    )
    before = sorted(contract.named_contacts.values_list("pk", flat=True))
    contract.named_contacts.set(contacts)
    after = sorted(c.pk for c in contacts)
    if before != after:
        changed = NamedContactsChanged(old=before, new=after)
        record(ContractEvent, changed, contract=contract, actor=actor)
    return contract
