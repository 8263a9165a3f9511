"""Support plans and their versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.accounts.models import User
from retainer.catalog.models import Product
from retainer.contracts.choices import TIER_RANK
from retainer.contracts.events import PlanCreated, PlanVersioned
from retainer.contracts.models import ContractEvent, SupportPlan
from retainer.contracts.terms import PlanTerms, validate_terms
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.models import save_validated

# --- Plans ---------------------------------------------------------------------------------


def checked_terms(terms: PlanTerms) -> PlanTerms:
    errors = validate_terms(terms)
    if errors:
        raise ValidationError(errors)
    return terms


def _plan_with_terms(terms: PlanTerms, **fields: Any) -> SupportPlan:
    """An unsaved plan version whose columns mirror ``terms``."""
    return SupportPlan(
        tier=terms.tier,
        tier_rank=TIER_RANK.get(terms.tier, 0),
        preset=terms.preset,
        unit=terms.unit,
        currency=terms.currency,
        terms=terms.to_json(),
        **fields,
    )


@transaction.atomic
def do_create_plan(
    *,
    code: str,
    name: str,
    terms: PlanTerms,
    products: Iterable[Product] = (),
    actor: User | None,
) -> SupportPlan:
    checked_terms(terms)
    plan = _plan_with_terms(terms, code=code, version=1, name=name.strip())
    save_validated(plan)
    plan.products.set(list(products))
    record(ContractEvent, PlanCreated(code=code, version=1), plan=plan, actor=actor)
    return plan


@transaction.atomic
def do_create_plan_version(
    plan: SupportPlan,
    *,
    actor: User | None,
    name: str | None = None,
    products: Iterable[Product] | None = None,
    **term_changes: Any,
) -> SupportPlan:
    """Create the next version of ``plan`` with ``term_changes``; contracts already sold
    keep their snapshot. Only the current version can be superseded."""
    current = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if not current.is_current:
        raise Conflict("plan_not_current", "Only the current version of a plan can change.")
    try:
        terms = checked_terms(current.plan_terms.replace(**term_changes))
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({"terms": str(exc)}) from None
    SupportPlan.objects.filter(pk=current.pk).update(is_current=False)
    new = _plan_with_terms(
        terms,
        code=current.code,
        version=current.version + 1,
        name=(name or current.name).strip(),
        previous=current,
    )
    save_validated(new)
    new.products.set(list(products) if products is not None else list(current.products.all()))
    changed = {
        key: {"old": old, "new": terms.to_json()[key]}
        for key, old in current.terms.items()
        if terms.to_json().get(key) != old
    }
    versioned = PlanVersioned(code=new.code, version=new.version, changes=changed)
    record(ContractEvent, versioned, plan=new, actor=actor)
    return new
