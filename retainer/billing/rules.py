"""Pure billing rules: periods, line amounts, pro-rating, tax. No ORM import.

Rounding rule: every invoice line is rounded once, to the currency's minor unit, half
away from zero (``retainer.lib.money.round_amount``), from the exact quantity (minutes
for hours, never the displayed hours). The tax is rounded once, on the invoice subtotal
(the sum of the rounded lines). The total is subtotal plus tax.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from retainer.contracts.terms import PlanTerms, add_months
from retainer.lib.money import round_amount

HUNDRED = Decimal(100)
SIXTY = Decimal(60)
QUANTITY_PLACES = Decimal("0.0001")
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    """A calendar month: ``start`` is its first day, ``end`` its last (inclusive)."""

    start: dt.date

    @property
    def end(self) -> dt.date:
        return add_months(self.start, 1) - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    def utc_bounds(self, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
        """The period as a half-open UTC interval in the organization's time zone."""
        zone = ZoneInfo(time_zone)
        begin = dt.datetime.combine(self.start, dt.time.min, tzinfo=zone)
        after = dt.datetime.combine(add_months(self.start, 1), dt.time.min, tzinfo=zone)
        return begin.astimezone(dt.UTC), after.astimezone(dt.UTC)


def parse_period(text: str) -> Period:
    """``"2026-10"`` → the period of October 2026; anything else raises ``PeriodError``."""
    match = PERIOD_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise PeriodError(f"A period is written YYYY-MM, got {text!r}.")
    return Period(dt.date(int(match[1]), int(match[2]), 1))


def period_of(day: dt.date) -> Period:
    return Period(day.replace(day=1))


def hours_amount(rate_per_hour: Decimal, minutes: int, currency: str) -> Decimal:
    """The rounded amount of ``minutes`` at an hourly rate (rounded once)."""
    return round_amount(rate_per_hour * Decimal(minutes) / SIXTY, currency)


def minutes_as_hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / SIXTY).quantize(QUANTITY_PLACES)


def line_amount(unit_price: Decimal, quantity: Decimal | int, currency: str) -> Decimal:
    return round_amount(unit_price * Decimal(quantity), currency)


def tax_amount(subtotal: Decimal, rate_percent: Decimal, currency: str) -> Decimal:
    return round_amount(subtotal * rate_percent / HUNDRED, currency)


def prorate_factor(terms: PlanTerms, start: dt.date, end: dt.date | None) -> Decimal:
    """How much of a full term's fee a term from ``start`` to ``end`` owes.

    Only when the plan asks for it (``terms.extra["prorate"]``) and the term starts
    mid-month: the full term is the one that would have started on the first of that
    month; the factor is the term's days over the full term's days (at most 1). A term
    that starts on the first of a month, or a plan without pro-rating, owes the full fee.
    """
    if not terms.extra.get("prorate") or start.day == 1 or end is None:
        return Decimal(1)
    first = start.replace(day=1)
    full_end = terms.term_end(first)
    if full_end is None:
        return Decimal(1)
    full_days = (full_end - first).days + 1
    days = (min(end, full_end) - start).days + 1
    if days <= 0:
        return Decimal(0)
    return min(Decimal(1), Decimal(days) / Decimal(full_days))


@dataclass(frozen=True)
class FeeSplit:
    """A term's price split into the base fee and the add-ons it already includes."""

    base: Decimal
    named_engineer: Decimal
    extra_contacts: Decimal


def split_fee(
    price: Decimal, terms: PlanTerms, *, named_engineer: bool, extra_named_contacts: int
) -> FeeSplit:
    """``Contract.price`` already includes the add-ons (``contracts.pricing``): show them on
    their own lines and the rest as the base fee, so nothing is counted twice. A renewal
    price carries the uplift on the whole price, so the uplift stays in the base fee."""
    engineer = terms.named_engineer_price if named_engineer else Decimal(0)
    contacts = terms.extra_contact_price * extra_named_contacts
    if engineer + contacts > price:  # a negotiated price below its add-ons: one line
        return FeeSplit(price, Decimal(0), Decimal(0))
    return FeeSplit(price - engineer - contacts, engineer, contacts)
