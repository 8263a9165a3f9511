"""The terms of a support plan as a plain value, and the presets that fill them in.

A contract stores a snapshot of these terms (``Contract.terms``) when it is sold, so a
later version of the plan never changes a contract already sold. Presets are only
default terms: warranty, maintenance, subscription, fixed fee with cap, bank and
pay-as-you-go all run through the same ledger and the same decision.

No ORM import here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from retainer.contracts.choices import (
    AllowanceUnit,
    AuthorizationPolicy,
    Channel,
    DecrementPoint,
    ExhaustionPolicy,
    Preset,
    PriceBasis,
    ThresholdKind,
)

ALL_CHANNELS: tuple[str, ...] = tuple(Channel.values)


@dataclass(frozen=True)
class PlanTerms:
    """Everything a contract needs to know about what was sold.

    Quantities are integers in the allowance unit: incidents, or minutes for hours
    (except ``low_balance_threshold``, stated in incidents or whole hours).
    ``term_months`` is the term length; ``term_days`` replaces it for warranties
    (N days starting on the purchase date). ``quantity == 0`` with a unit and the
    ``bill`` policy is pay-as-you-go: everything consumed is billable overage.
    """

    preset: str
    unit: str = AllowanceUnit.NONE
    quantity: int = 0
    term_months: int | None = 12
    term_days: int | None = None
    decrement_point: str = DecrementPoint.NONE
    exhaustion_policy: str = ExhaustionPolicy.BLOCK
    overage_rate: Decimal = Decimal(0)  # per hour or per incident
    low_balance_kind: str = ThresholdKind.ABSOLUTE
    low_balance_threshold: int = 0  # incidents or hours (not minutes), or a percent
    rollover_cap: int | None = None  # None: unused allowance expires at term end
    allowance_expires: bool = True
    channels: tuple[str, ...] = ALL_CHANNELS
    authorization_policy: str = AuthorizationPolicy.ANY_CONTACT
    max_named_contacts: int | None = None
    required_course: str = ""
    price_basis: str = PriceBasis.FIXED
    price_amount: Decimal = Decimal(0)
    price_percent: Decimal = Decimal(0)
    named_engineer_price: Decimal = Decimal(0)
    extra_contact_price: Decimal = Decimal(0)
    uplift_percent: Decimal = Decimal(0)
    currency: str = "EUR"
    includes_updates: bool = False
    tier: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_warranty(self) -> bool:
        return self.preset == Preset.WARRANTY

    @property
    def has_allowance(self) -> bool:
        return self.unit != AllowanceUnit.NONE

    @property
    def is_pay_as_you_go(self) -> bool:
        return (
            self.has_allowance
            and self.quantity == 0
            and self.exhaustion_policy == ExhaustionPolicy.BILL
        )

    def low_balance_at(self) -> int | None:
        """The balance, in the ledger's unit (incidents, or minutes), at or below which the
        low-balance warning fires (None: never).

        An absolute threshold is stated in the bank's unit as people count it: incidents,
        or hours for an hour bank (a threshold of 2 on a 40-hour bank warns at 2 hours
        left, not 2 minutes).
        """
        if not self.has_allowance or self.low_balance_threshold <= 0:
            return None
        if self.low_balance_kind == ThresholdKind.PERCENT:
            return self.quantity * self.low_balance_threshold // 100
        if self.unit == AllowanceUnit.HOURS:
            return self.low_balance_threshold * 60
        return self.low_balance_threshold

    def term_end(self, start: dt.date) -> dt.date | None:
        """The last day covered (inclusive) of a term starting on ``start``."""
        if self.term_days is not None:
            return start + dt.timedelta(days=self.term_days - 1)
        if self.term_months is None:
            return None
        return add_months(start, self.term_months) - dt.timedelta(days=1)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name, value in data.items():
            if isinstance(value, Decimal):
                data[name] = str(value)
            elif isinstance(value, tuple):
                data[name] = list(value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanTerms:
        known = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name in _DECIMAL_FIELDS:
                value = Decimal(value)
            elif name == "channels":
                value = tuple(value)
            values[name] = value
        return cls(**values)

    def replace(self, **changes: Any) -> PlanTerms:
        return dataclasses.replace(self, **coerce(changes))


_DECIMAL_FIELDS = {f.name for f in dataclasses.fields(PlanTerms) if f.type in ("Decimal", Decimal)}


def coerce(values: dict[str, Any]) -> dict[str, Any]:
    """Turn JSON-ish values (strings for amounts, lists for channels) into term values."""
    known = {f.name for f in dataclasses.fields(PlanTerms)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"Unknown term(s): {', '.join(sorted(unknown))}.")
    out = dict(values)
    for name, value in values.items():
        if name in _DECIMAL_FIELDS and not isinstance(value, Decimal):
            out[name] = Decimal(str(value))
        elif name == "channels":
            out[name] = tuple(value)
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months``, clamped to the end of shorter months."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


# The defaults each preset starts from; a plan or a contract may override any of them.
PRESET_DEFAULTS: dict[str, dict[str, Any]] = {
    Preset.WARRANTY: {
        "unit": AllowanceUnit.NONE,
        "term_months": None,
        "term_days": 90,
        "price_basis": PriceBasis.FIXED,
        "price_amount": Decimal(0),
    },
    Preset.MAINTENANCE: {
        "unit": AllowanceUnit.NONE,
        "term_months": 12,
        "price_basis": PriceBasis.PERCENT_OF_LIST,
        "price_percent": Decimal(18),
        "uplift_percent": Decimal(3),
        "includes_updates": True,
    },
    Preset.SUBSCRIPTION: {
        "unit": AllowanceUnit.NONE,
        "term_months": 12,
        "price_basis": PriceBasis.INCLUDED,
        "includes_updates": True,
    },
    Preset.FIXED_FEE: {
        "unit": AllowanceUnit.HOURS,
        "quantity": 100 * 60,
        "term_months": 12,
        "decrement_point": DecrementPoint.TIME_ENTRY,
        "exhaustion_policy": ExhaustionPolicy.BILL,
        "overage_rate": Decimal(150),
        "low_balance_kind": ThresholdKind.PERCENT,
        "low_balance_threshold": 10,
    },
    Preset.BANK: {
        "unit": AllowanceUnit.INCIDENTS,
        "quantity": 10,
        "term_months": 12,
        "decrement_point": DecrementPoint.CASE_CREATION,
        "exhaustion_policy": ExhaustionPolicy.BLOCK,
        "low_balance_threshold": 2,
    },
    Preset.PAY_AS_YOU_GO: {
        "unit": AllowanceUnit.HOURS,
        "quantity": 0,
        "term_months": 12,
        "decrement_point": DecrementPoint.TIME_ENTRY,
        "exhaustion_policy": ExhaustionPolicy.BILL,
        "overage_rate": Decimal(180),
    },
}


def preset_terms(preset: str, **overrides: Any) -> PlanTerms:
    """Terms of ``preset`` with ``overrides`` applied. Raises ``KeyError`` for an unknown preset."""
    base = dict(PRESET_DEFAULTS[preset])
    given = coerce({key: value for key, value in overrides.items() if value is not None})
    base.update(given)
    if "decrement_point" not in given:
        # The decrement point follows the unit unless it was chosen: an hour bank draws per
        # time entry even though the bank preset's default unit is incidents.
        base["decrement_point"] = DEFAULT_DECREMENT.get(
            base.get("unit", AllowanceUnit.NONE), base.get("decrement_point", DecrementPoint.NONE)
        )
    return PlanTerms(preset=preset, **base)


DEFAULT_DECREMENT: dict[str, str] = {
    AllowanceUnit.INCIDENTS: DecrementPoint.CASE_CREATION,
    AllowanceUnit.HOURS: DecrementPoint.TIME_ENTRY,
    AllowanceUnit.NONE: DecrementPoint.NONE,
}
ALLOWED_DECREMENTS: dict[str, set[str]] = {
    AllowanceUnit.INCIDENTS: {DecrementPoint.CASE_CREATION, DecrementPoint.CASE_RESOLUTION},
    AllowanceUnit.HOURS: {DecrementPoint.TIME_ENTRY},
    AllowanceUnit.NONE: {DecrementPoint.NONE},
}


def validate_terms(terms: PlanTerms) -> dict[str, str]:
    """Field → message for every inconsistency; empty when the terms make sense."""
    errors: dict[str, str] = {}
    if terms.preset not in Preset.values:
        errors["preset"] = f"Unknown preset {terms.preset!r}."
    if terms.unit not in AllowanceUnit.values:
        errors["unit"] = f"Unknown allowance unit {terms.unit!r}."
    if terms.quantity < 0:
        errors["quantity"] = "The quantity per term cannot be negative."
    if (
        terms.unit in ALLOWED_DECREMENTS
        and terms.decrement_point not in ALLOWED_DECREMENTS[terms.unit]
    ):
        errors["decrement_point"] = (
            "Incidents decrement on case creation or resolution, hours per billable time "
            "entry, and a plan without allowance never."
        )
    if terms.unit == AllowanceUnit.NONE and terms.quantity:
        errors["quantity"] = "A plan without an allowance unit has no quantity."
    if terms.term_months is not None and terms.term_months <= 0:
        errors["term_months"] = "The term must be at least one month."
    if terms.term_days is not None and terms.term_days <= 0:
        errors["term_days"] = "The term must be at least one day."
    if terms.exhaustion_policy not in ExhaustionPolicy.values:
        errors["exhaustion_policy"] = f"Unknown exhaustion policy {terms.exhaustion_policy!r}."
    for name in (
        "overage_rate",
        "price_amount",
        "price_percent",
        "named_engineer_price",
        "extra_contact_price",
        "uplift_percent",
    ):
        if getattr(terms, name) < 0:
            errors[name] = "This amount cannot be negative."
    if (
        terms.exhaustion_policy == ExhaustionPolicy.BILL
        and terms.has_allowance
        and terms.overage_rate <= 0
    ):
        errors["overage_rate"] = "Billing overage needs a positive overage rate."
    if terms.low_balance_threshold < 0:
        errors["low_balance_threshold"] = "The threshold cannot be negative."
    if terms.low_balance_kind == ThresholdKind.PERCENT and terms.low_balance_threshold > 100:
        errors["low_balance_threshold"] = "A percentage threshold is at most 100."
    if terms.rollover_cap is not None and terms.rollover_cap < 0:
        errors["rollover_cap"] = "The rollover cap cannot be negative."
    unknown_channels = set(terms.channels) - set(Channel.values)
    if unknown_channels or not terms.channels:
        errors["channels"] = "Choose one or more of: " + ", ".join(Channel.values) + "."
    if terms.authorization_policy not in AuthorizationPolicy.values:
        errors["authorization_policy"] = "Unknown authorization policy."
    if terms.authorization_policy == AuthorizationPolicy.TRAINED and not terms.required_course:
        errors["required_course"] = "A trained-contacts-only plan names the required course."
    if terms.max_named_contacts is not None and terms.max_named_contacts < 1:
        errors["max_named_contacts"] = "The maximum of named contacts is at least 1."
    if terms.price_basis not in PriceBasis.values:
        errors["price_basis"] = "Unknown price basis."
    return errors
