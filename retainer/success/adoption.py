"""How much of what a customer bought is used: adoption and the basic/advanced split.

Pure definitions, no ORM: the figures of a license's latest reported month go in, the
percentages come out, for one license or summed over many (an organization, a product,
every customer).

- adoption % = seats in use ÷ seats sold;
- advanced % = advanced users ÷ (basic + advanced users), basic % = the rest;
- over several licenses both are **seat-weighted**: the sums are divided, not the
  percentages averaged, so a 1,000-seat license counts a hundred times a 10-seat one;
- a license without any report has no adoption yet and is left out of the sums;
- an adoption below the threshold (``RETAINER_ADOPTION_THRESHOLD``, percent) is flagged.

Percentages are ``Decimal`` rounded half up to one decimal place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Figures:
    """One license's seats and the usage of its latest reported month (``None`` figures:
    nothing reported yet)."""

    seats: int
    seats_in_use: int | None = None
    basic_users: int = 0
    advanced_users: int = 0

    @property
    def reported(self) -> bool:
        return self.seats_in_use is not None


@dataclass(frozen=True)
class Adoption:
    """Summed figures and their percentages; ``None`` percentages mean nothing to divide."""

    seats: int
    seats_in_use: int
    basic_users: int
    advanced_users: int
    adoption_pct: Decimal | None
    basic_pct: Decimal | None
    advanced_pct: Decimal | None
    flagged: bool


def percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def adoption(figures: Iterable[Figures], *, threshold: int | Decimal) -> Adoption:
    """Seat-weighted adoption of the reported licenses among ``figures``; flagged when the
    adoption is below ``threshold`` percent (never when nothing is reported)."""
    reported = [f for f in figures if f.reported]
    seats = sum(f.seats for f in reported)
    in_use = sum(f.seats_in_use or 0 for f in reported)
    basic = sum(f.basic_users for f in reported)
    advanced = sum(f.advanced_users for f in reported)
    adoption_pct = percent(in_use, seats)
    advanced_pct = percent(advanced, basic + advanced)
    basic_pct = None if advanced_pct is None else HUNDRED - advanced_pct
    return Adoption(
        seats=seats,
        seats_in_use=in_use,
        basic_users=basic,
        advanced_users=advanced,
        adoption_pct=adoption_pct,
        basic_pct=basic_pct,
        advanced_pct=advanced_pct,
        flagged=adoption_pct is not None and adoption_pct < Decimal(threshold),
    )
