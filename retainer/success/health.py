"""The health score of an organization (0–100), explained line by line.

Pure definitions, no ORM: ``HealthInputs`` go in, a ``Health`` comes out with one
``Line`` per component — the input value, the points it earns (0–100), its weight and
why. The score is the weighted mean of the points of the components that have data:

==============  ======  ====================================================================
component       weight  points
==============  ======  ====================================================================
adoption        25      the adoption % of the licenses (seat-weighted, latest month)
realization     25      the success plan's realization % (completed weight ÷ total weight)
CSAT            20      % of *good* answers among the case surveys of the last 12 months
support demand  15      cases a month over the last 3 months against the organization's own
                        monthly average over the last 12: 100 at or below the average, 0 at
                        twice it or more, straight in between; no case in 12 months: no data
renewal         15      days until the earliest end of an active contract: 100 at 90 days or
                        more (or no end date), 0 on the day, straight in between
==============  ======  ====================================================================

A component without data (no license reported, no milestone, no survey answered, no
case in 12 months, no active contract) is shown as such and left out: the weights of the others are
renormalized. No data at all is no score. The score is rounded half up to a whole
number; below ``THRESHOLD`` it is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
THRESHOLD = 60
RENEWAL_HORIZON_DAYS = 90
RECENT_MONTHS = 3
YEAR_MONTHS = 12

WEIGHTS = {"adoption": 25, "realization": 25, "csat": 20, "demand": 15, "renewal": 15}


@dataclass(frozen=True)
class HealthInputs:
    """What the score reads. Counts are whole numbers; ``None`` means no data."""

    adoption_pct: Decimal | None = None
    realization_pct: Decimal | None = None
    csat_good: int = 0
    csat_answered: int = 0
    #: Cases opened in the last 3 months and in the last 12 months (which include them).
    cases_recent: int = 0
    cases_year: int = 0
    #: Days until the earliest end of an active contract; ``None``: no active contract;
    #: ``has_open_ended``: an active contract without an end date.
    days_to_renewal: int | None = None
    has_open_ended: bool = False


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    value: str
    points: Decimal | None
    weight: int
    why: str


@dataclass(frozen=True)
class Health:
    score: int | None
    lines: tuple[Line, ...]
    flagged: bool


def _clamp(value: Decimal) -> Decimal:
    return min(HUNDRED, max(Decimal(0), value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _pct_line(key: str, label: str, pct: Decimal | None, why: str, missing: str) -> Line:
    if pct is None:
        return Line(key, label, "no data", None, WEIGHTS[key], missing)
    return Line(key, label, f"{pct} %", _clamp(pct), WEIGHTS[key], why)


def _csat_line(good: int, answered: int) -> Line:
    weight = WEIGHTS["csat"]
    if answered <= 0:
        return Line(
            "csat", "CSAT", "no data", None, weight, "No case survey answered in 12 months."
        )
    pct = _clamp(Decimal(good) * HUNDRED / Decimal(answered))
    why = f"{good} of {answered} case surveys of the last 12 months rated good."
    return Line("csat", "CSAT", f"{pct} % good", pct, weight, why)


def _demand_line(recent: int, year: int) -> Line:
    weight = WEIGHTS["demand"]
    if year <= 0:
        return Line("demand", "Support demand", "no data", None, weight, "No case in 12 months.")
    per_month = Decimal(recent) / RECENT_MONTHS
    average = Decimal(year) / YEAR_MONTHS
    ratio = per_month / average
    points = _clamp(HUNDRED * (2 - ratio))
    value = f"{per_month.quantize(TENTH)} a month vs {average.quantize(TENTH)}"
    why = (
        f"{recent} cases in the last 3 months against {year} in 12: "
        f"{ratio.quantize(Decimal('0.01'))} × the usual monthly demand "
        "(at or below it: 100; twice or more: 0)."
    )
    return Line("demand", "Support demand", value, points, weight, why)


def _renewal_line(days: int | None, open_ended: bool) -> Line:
    weight = WEIGHTS["renewal"]
    label = "Time to renewal"
    if days is None:
        if open_ended:
            return Line("renewal", label, "no end date", HUNDRED, weight, "No contract ends.")
        return Line("renewal", label, "no data", None, weight, "No active contract.")
    points = _clamp(Decimal(max(days, 0)) * HUNDRED / RENEWAL_HORIZON_DAYS)
    why = f"The earliest active contract ends in {days} days (90 or more: 100; today: 0)."
    return Line("renewal", label, f"{days} days", points, weight, why)


def health(inputs: HealthInputs, *, threshold: int = THRESHOLD) -> Health:
    """The weighted score of ``inputs`` and its lines, in the order of ``WEIGHTS``."""
    lines = (
        _pct_line(
            "adoption",
            "Adoption",
            inputs.adoption_pct,
            "Seats in use ÷ seats sold, latest month of each license.",
            "No license usage reported.",
        ),
        _pct_line(
            "realization",
            "Success realization",
            inputs.realization_pct,
            "Completed milestone weight ÷ total weight of the success plan.",
            "No milestone in a success plan.",
        ),
        _csat_line(inputs.csat_good, inputs.csat_answered),
        _demand_line(inputs.cases_recent, inputs.cases_year),
        _renewal_line(inputs.days_to_renewal, inputs.has_open_ended),
    )
    counted = [line for line in lines if line.points is not None]
    weights = sum(line.weight for line in counted)
    if not weights:
        return Health(score=None, lines=lines, flagged=False)
    total = sum(((line.points or Decimal(0)) * line.weight for line in counted), Decimal(0))
    score = int((total / weights).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return Health(score=score, lines=lines, flagged=score < threshold)
