"""Who may change plans, contracts, ledgers, decisions and training records, and how raw
input becomes an action's arguments: one rule per operation, whatever the door (the
console, the API, the admin).

``check_<verb>_<noun>(actor, …)`` refuses an actor without the operation's permission
(``NotPermitted``, which every interface answers with 403), turns what the door received
into the action's arguments (a quantity stated in hours becomes ledger minutes here, not
in a view) and calls the ``do_*`` action, which validates the rest before it writes. The
rule is the permission the API asks for; ``authorize_*`` states it alone for a door that
must refuse before it parses its input, so a refused actor is never told about the body.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import Contact, User
from retainer.catalog.models import Product
from retainer.contracts import actions
from retainer.contracts.choices import AllowanceUnit, QuantityUnit, SourceType
from retainer.contracts.models import Contract, EntitlementDecision, SupportPlan, TrainingRecord
from retainer.contracts.terms import preset_terms
from retainer.lib.errors import Conflict, InvalidInput, NotPermitted


def require_staff_permission(actor: Any, *perms: str) -> None:
    """Refuse unless ``actor`` is active vendor staff holding every one of ``perms``."""
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def ledger_quantity(contract: Contract, quantity: Decimal | int, unit: str | None) -> int:
    """``quantity`` stated in ``unit`` as the ledger counts it: incidents, or whole minutes
    for an hour contract.

    ``unit`` is what the door's input counts in (``QuantityUnit``); ``None`` means the
    ledger's own unit. Hours are accepted for hour contracts only (1.5 hours is 90
    minutes), incidents for incident contracts only.
    """
    # What one unit of the input is in the ledger, per (contract unit, input unit).
    factors: dict[tuple[str, str | None], int] = {
        (AllowanceUnit.HOURS, QuantityUnit.HOURS): 60,
        (AllowanceUnit.HOURS, QuantityUnit.MINUTES): 1,
        (AllowanceUnit.INCIDENTS, QuantityUnit.INCIDENTS): 1,
    }
    if unit in (None, AllowanceUnit.NONE) or contract.unit == AllowanceUnit.NONE:
        minutes_per_unit = 1  # the ledger's own unit; dates-only contracts refuse later
    elif (contract.unit, unit) in factors:
        minutes_per_unit = factors[(contract.unit, unit)]
    else:
        raise InvalidInput(
            "unit_mismatch",
            f"This contract counts {contract.get_unit_display().lower()}, not {unit}.",
            field="unit",
        )
    try:
        exact = Decimal(quantity) * minutes_per_unit
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"quantity": "The quantity must be a number."}) from None
    if exact != exact.to_integral_value():
        whole = "minutes" if contract.unit == AllowanceUnit.HOURS else "incidents"
        raise ValidationError({"quantity": f"The quantity must be a whole number of {whole}."})
    return int(exact)


# --- Plans ---------------------------------------------------------------------------------


def authorize_change_plans(actor: Any) -> None:
    """Plans and their versions: ``contracts.add_supportplan``."""
    require_staff_permission(actor, "contracts.add_supportplan")


# The terms a door may state in the plan's own unit (incidents, or hours for hour plans).
PLAN_QUANTITIES = ("quantity", "rollover_cap")


def plan_quantities(terms: dict[str, Any], unit: str) -> dict[str, Any]:
    """``terms`` with its quantities (``PLAN_QUANTITIES``) stated in the plan's unit as
    people count it turned into the unit the terms store: whole minutes for an hour plan
    (2.5 hours is 150 minutes), whole incidents otherwise. The low-balance threshold is
    already stated in the bank's unit and is left as it is."""
    out = dict(terms)
    for name in PLAN_QUANTITIES:
        value = terms.get(name)
        if value is None:
            continue
        try:
            exact = Decimal(value) * (60 if unit == AllowanceUnit.HOURS else 1)
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError({name: "Enter a number."}) from None
        if exact != exact.to_integral_value():
            whole = "minute" if unit == AllowanceUnit.HOURS else "incident"
            raise ValidationError({name: f"Give a whole number of {whole}s."})
        out[name] = int(exact)
    return out


def check_create_plan(
    actor: User,
    *,
    code: str,
    name: str,
    preset: str,
    terms: dict[str, Any] | None = None,
    products: Iterable[Product] = (),
    in_plan_unit: bool = False,
) -> SupportPlan:
    """A new plan on ``preset``'s default terms with ``terms`` applied.

    ``in_plan_unit``: the door states ``quantity`` and ``rollover_cap`` in the plan's unit
    (hours for an hour plan, see ``plan_quantities``); otherwise in the stored unit
    (minutes for hours), as the API does."""
    authorize_change_plans(actor)
    terms = dict(terms or {})
    if SupportPlan.objects.filter(code=code).exists():
        raise ValidationError({"code": "A plan with this code exists: change it by a new version."})
    try:
        if in_plan_unit:
            unit = terms.get("unit") or preset_terms(preset).unit
            terms = plan_quantities(terms, unit)
        plan_terms = preset_terms(preset, **terms)
    except KeyError:
        raise InvalidInput(
            "unknown_preset", f"There is no preset called {preset!r}.", field="preset"
        ) from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({"terms": str(exc)}) from None
    return actions.do_create_plan(
        code=code, name=name, terms=plan_terms, products=products, actor=actor
    )


def check_create_plan_version(
    actor: User,
    plan: SupportPlan,
    *,
    name: str | None = None,
    products: Iterable[Product] | None = None,
    terms: dict[str, Any] | None = None,
    in_plan_unit: bool = False,
) -> SupportPlan:
    """The next version of ``plan`` with ``terms`` changed (``in_plan_unit`` as for
    ``check_create_plan``)."""
    authorize_change_plans(actor)
    terms = dict(terms or {})
    if in_plan_unit:
        terms = plan_quantities(terms, terms.get("unit") or plan.unit)
    return actions.do_create_plan_version(plan, actor=actor, name=name, products=products, **terms)


# --- Contracts -----------------------------------------------------------------------------


def authorize_create_contract(actor: Any) -> None:
    require_staff_permission(actor, "contracts.add_contract")


def authorize_renew_contract(actor: Any) -> None:
    """A renewal changes the old term and creates the next one."""
    require_staff_permission(actor, "contracts.change_contract", "contracts.add_contract")


def authorize_change_contract(actor: Any) -> None:
    """Cancelling, and changing the named contacts: ``contracts.change_contract``."""
    require_staff_permission(actor, "contracts.change_contract")


def check_create_contract(actor: User, **values: Any) -> Contract:
    authorize_create_contract(actor)
    return actions.do_create_contract(actor=actor, **values)


def check_renew_contract(actor: User, contract: Contract, *, name: str = "") -> Contract:
    """Renew; the new term is named like a new contract unless ``name`` is given."""
    authorize_renew_contract(actor)
    return actions.do_renew_contract(contract, actor=actor, name=name)


def check_rename_contract(actor: User, contract: Contract, *, name: str) -> Contract:
    authorize_change_contract(actor)
    return actions.do_rename_contract(contract, name=name, actor=actor)


def check_cancel_contract(actor: User, contract: Contract, *, reason: str) -> Contract:
    """Cancel with a reason (it is the cancellation event's record of why)."""
    authorize_change_contract(actor)
    if not reason.strip():
        raise ValidationError({"reason": "A cancellation needs a reason."})
    return actions.do_cancel_contract(contract, reason=reason.strip(), actor=actor)


def check_set_named_contacts(
    actor: User, contract: Contract, contacts: Iterable[Contact]
) -> Contract:
    """Name exactly ``contacts`` (of the contract's organization, at most the plan's limit
    plus ``extra_named_contacts``: ``actions.check_named_contacts``)."""
    authorize_change_contract(actor)
    return actions.do_set_named_contacts(contract, contacts, actor=actor)


def check_add_named_contact(actor: User, contract: Contract, contact: Contact) -> Contract:
    """Name one more contact on the contract (an active contact of its organization)."""
    authorize_change_contract(actor)
    if not contact.is_active:
        raise ValidationError({"contact": "An inactive contact cannot be named."})
    named = list(contract.named_contacts.all())
    if contact in named:
        return contract
    return check_set_named_contacts(actor, contract, [*named, contact])


def check_remove_named_contact(actor: User, contract: Contract, contact: Contact) -> Contract:
    authorize_change_contract(actor)
    remaining = [c for c in contract.named_contacts.all() if c.pk != contact.pk]
    return check_set_named_contacts(actor, contract, remaining)


# --- The ledger ----------------------------------------------------------------------------


def authorize_ledger_entry(actor: Any) -> None:
    """Top-ups, consumptions, reversals and adjustments: ``contracts.add_ledgerentry``."""
    require_staff_permission(actor, "contracts.add_ledgerentry")


def _required_key(key: str | None) -> str:
    if not key:
        raise InvalidInput(
            "key_required", "Give a key, or send an Idempotency-Key header.", field="key"
        )
    return key


def check_top_up(
    actor: User,
    contract: Contract,
    *,
    quantity: Decimal | int,
    unit: str | None = None,
    price: Decimal | None = None,
    currency: str | None = None,
    key: str | None,
) -> actions.Movement:
    """Top up ``quantity`` stated in ``unit`` (see ``ledger_quantity``), once per ``key``."""
    authorize_ledger_entry(actor)
    return actions.do_top_up(
        contract,
        quantity=ledger_quantity(contract, quantity, unit),
        key=_required_key(key),
        price=price,
        currency=currency,
        actor=actor,
    )


def check_consume(
    actor: User,
    contract: Contract,
    *,
    quantity: Decimal | int,
    unit: str | None = None,
    source_type: str,
    source_id: str = "",
    key: str | None = None,
) -> actions.Movement:
    """Consume once per ``key``; without one the key derives from the source."""
    authorize_ledger_entry(actor)
    key = key or (f"{source_type}:{source_id}" if source_id else "")
    return actions.do_consume(
        contract,
        quantity=ledger_quantity(contract, quantity, unit),
        key=_required_key(key),
        source_type=source_type,
        source_id=source_id,
        actor=actor,
    )


def check_reverse_entry(
    actor: User, contract: Contract, *, reverses_key: str, reason: str = ""
) -> actions.Movement:
    authorize_ledger_entry(actor)
    return actions.do_reverse_entry(contract, reverses_key=reverses_key, reason=reason, actor=actor)


def check_adjust_balance(
    actor: User,
    contract: Contract,
    *,
    quantity: Decimal | int,
    unit: str | None = None,
    key: str | None,
    reason: str,
) -> actions.Movement:
    """A signed correction stated in ``unit`` (see ``ledger_quantity``), with a reason."""
    authorize_ledger_entry(actor)
    sign = -1 if Decimal(quantity) < 0 else 1
    minutes = sign * ledger_quantity(contract, abs(Decimal(quantity)), unit)
    return actions.do_adjust_balance(
        contract, quantity=minutes, key=_required_key(key), reason=reason, actor=actor
    )


# --- Decisions and training ----------------------------------------------------------------


def authorize_override_decision(actor: Any) -> None:
    require_staff_permission(actor, "contracts.override_entitlementdecision")


def check_override_decision(
    actor: User,
    decision: EntitlementDecision,
    *,
    new_outcome: str,
    contract: Contract | None,
    reason: str,
) -> EntitlementDecision:
    """The rule for overriding a decision that belongs to no case (the decisions API).

    A case's decision is overridden on the case (console or ``POST
    /api/v1/cases/<ref>/override-decision/``), which also moves the case's contract and
    incident; overriding it here would change the decision and leave the case behind.
    """
    authorize_override_decision(actor)
    # ``case`` is the reverse side of the case's one-to-one link (no import of cases).
    belongs_to_case = EntitlementDecision.objects.filter(pk=decision.pk, case__isnull=False)
    if decision.source_type == SourceType.CASE and belongs_to_case.exists():
        raise Conflict(
            "decision_of_a_case",
            "This decision belongs to a case: override it on the case "
            "(POST /api/v1/cases/<reference>/override-decision/).",
        )
    return actions.do_override_decision(
        decision, new_outcome=new_outcome, contract=contract, reason=reason, actor=actor
    )


def authorize_record_training(actor: Any) -> None:
    require_staff_permission(actor, "contracts.add_trainingrecord")


def check_record_training(
    actor: User, *, contact: Contact, course: str, completed_on: dt.date
) -> TrainingRecord:
    authorize_record_training(actor)
    return actions.do_record_training(
        contact=contact, course=course, completed_on=completed_on, actor=actor
    )
