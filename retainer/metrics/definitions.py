"""One definition per metric: pure functions over plain values, no ORM.

``queries.py`` gathers the plain values from the database for a period and filters and
calls these; ``docs/metrics.md`` states each formula with a worked example, and the
tests reproduce the examples from here and through the API.

Money is ``Decimal`` in one currency. A contract's monthly recurring revenue is rounded
to the currency's minor unit once, per contract (like an invoice line), so every sum
below is exact to the cent and the movements of a period always add up:
``start + new + expansion + reactivation − contraction − churn = end``.
Rates are percentages, ``Decimal`` rounded half up to one decimal place, or ``None``
when the denominator is zero ("no data" is not 0 %).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from retainer.lib.business_hours import Calendar, Pause, business_time_between
from retainer.lib.money import round_amount

ZERO = Decimal(0)
ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """``part ÷ whole × 100``, rounded half up to 0.1; ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


# --- Recurring revenue ---------------------------------------------------------------------


class Movement:
    """The kinds of MRR movement in a month (ChartMogul's definitions)."""

    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"
    REACTIVATION = "reactivation"
    ALL = (NEW, EXPANSION, REACTIVATION, CONTRACTION, CHURN)
    LABELS = {
        NEW: "New",
        EXPANSION: "Expansion",
        REACTIVATION: "Reactivation",
        CONTRACTION: "Contraction",
        CHURN: "Churn",
    }


@dataclass(frozen=True)
class RecurringContract:
    """A contract's recurring value: ``mrr`` per month (rounded), counted on every day
    from ``start`` to ``last_day`` inclusive (``None``: open-ended)."""

    contract_id: int
    customer_id: int
    mrr: Decimal
    start: dt.date
    last_day: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.last_day is None or day <= self.last_day)


def contract_mrr(price: Decimal, term_months: int, currency: str) -> Decimal:
    """The price of a term normalized to one month, rounded once to the currency's minor
    unit (half away from zero): 1,000.00 for 12 months is 83.33 a month."""
    return round_amount(Decimal(price) / term_months, currency)


def mrr_by_customer(contracts: Iterable[RecurringContract], on: dt.date) -> dict[int, Decimal]:
    """Each customer's MRR on a day: the sum of its contracts active that day (customers
    with none are left out)."""
    found: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for contract in contracts:
        if contract.mrr and contract.active_on(on):
            found[contract.customer_id] += contract.mrr
    return dict(found)


def classify(before: Decimal, after: Decimal, *, paid_before: bool) -> tuple[str, Decimal] | None:
    """One customer's movement between two month ends (``after − before``):

    - **new**: from 0 to more, and the customer never paid before;
    - **reactivation**: from 0 to more, having paid before;
    - **expansion** / **contraction**: more / less, above 0 at both ends;
    - **churn**: from more to 0.

    ``None`` when nothing changed."""
    if before == after:
        return None
    if not before:
        return (Movement.REACTIVATION if paid_before else Movement.NEW, after)
    if not after:
        return (Movement.CHURN, -before)
    return (Movement.EXPANSION if after > before else Movement.CONTRACTION, after - before)


@dataclass(frozen=True)
class CustomerMovement:
    customer_id: int
    month: dt.date  # the first day of the month
    kind: str
    amount: Decimal  # signed: churn and contraction are negative
    before: Decimal
    after: Decimal


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def mrr_movements(
    contracts: Sequence[RecurringContract], months: Sequence[dt.date], *, as_of: dt.date
) -> list[CustomerMovement]:
    """Every customer's movement in each month: its MRR on the last day of the previous
    month against the last day of the month (or ``as_of``, for the month in progress)."""
    first_paid: dict[int, dt.date] = {}
    for contract in contracts:
        if contract.mrr and (contract.last_day is None or contract.last_day >= contract.start):
            known = first_paid.get(contract.customer_id)
            if known is None or contract.start < known:
                first_paid[contract.customer_id] = contract.start
    found: list[CustomerMovement] = []
    for month in months:
        before = mrr_by_customer(contracts, month - dt.timedelta(days=1))
        after = mrr_by_customer(contracts, min(month_end(month), as_of))
        for customer in sorted(set(before) | set(after)):
            old, new = before.get(customer, ZERO), after.get(customer, ZERO)
            paid = first_paid.get(customer, month) < month
            moved = classify(old, new, paid_before=paid)
            if moved is not None:
                found.append(CustomerMovement(customer, month, moved[0], moved[1], old, new))
    return found


@dataclass(frozen=True)
class MovementSummary:
    """A period's MRR bridge: ``end = start + new + expansion + reactivation + contraction
    + churn`` (contraction and churn are negative)."""

    start: Decimal
    new: Decimal
    expansion: Decimal
    reactivation: Decimal
    contraction: Decimal
    churn: Decimal

    @property
    def end(self) -> Decimal:
        return (
            self.start
            + self.new
            + self.expansion
            + self.reactivation
            + self.contraction
            + self.churn
        )

    @property
    def added(self) -> Decimal:
        return self.new + self.expansion + self.reactivation

    @property
    def lost(self) -> Decimal:
        return -(self.contraction + self.churn)

    def by_kind(self) -> dict[str, Decimal]:
        return {kind: getattr(self, kind) for kind in Movement.ALL}


def summarize(start: Decimal, movements: Iterable[CustomerMovement]) -> MovementSummary:
    totals = dict.fromkeys(Movement.ALL, ZERO)
    for movement in movements:
        totals[movement.kind] += movement.amount
    return MovementSummary(start=start, **totals)


def recurring_revenue_rate(start: Decimal, end: Decimal) -> Decimal | None:
    """Recurring revenue at the end of the period ÷ at its start (may exceed 100 %)."""
    return percent(end, start)


def arr(mrr: Decimal) -> Decimal:
    """Annual recurring revenue: 12 × MRR."""
    return mrr * 12


@dataclass(frozen=True)
class Retention:
    """Retention of the customers paying at the start of a period, by the end of it."""

    customers_at_start: int
    customers_retained: int
    start_revenue: Decimal
    end_revenue_of_start_customers: Decimal
    retained_revenue_capped: Decimal  # each customer at most its start revenue

    @property
    def customer_retention(self) -> Decimal | None:
        """Customers paying at the start still paying at the end ÷ customers at the start."""
        return percent(self.customers_retained, self.customers_at_start)

    @property
    def net_revenue_retention(self) -> Decimal | None:
        """(start revenue of those customers + expansion − contraction − churn) ÷ start
        revenue: their end revenue ÷ their start revenue. New customers do not count."""
        return percent(self.end_revenue_of_start_customers, self.start_revenue)

    @property
    def gross_revenue_retention(self) -> Decimal | None:
        """As NRR without expansion: each customer counts at most its start revenue."""
        return percent(self.retained_revenue_capped, self.start_revenue)


def retention(start: Mapping[int, Decimal], end: Mapping[int, Decimal]) -> Retention:
    """From each customer's MRR on the day before the period and on its last day."""
    paying = {customer: value for customer, value in start.items() if value > 0}
    later = {customer: end.get(customer, ZERO) for customer in paying}
    return Retention(
        customers_at_start=len(paying),
        customers_retained=sum(1 for value in later.values() if value > 0),
        start_revenue=sum(paying.values(), ZERO),
        end_revenue_of_start_customers=sum(later.values(), ZERO),
        retained_revenue_capped=sum((min(later[c], paying[c]) for c in paying), ZERO),
    )


def renewal_rate(*, due: int, renewed: int) -> Decimal | None:
    """Contracts renewed ÷ contracts due for renewal in the period (at most 100 %: only
    contracts that were due count as renewed)."""
    if renewed > due:
        raise ValueError("More contracts renewed than were due.")
    return percent(renewed, due)


# --- Support ---------------------------------------------------------------------------------


def business_minutes(
    calendar: Calendar, start: dt.datetime, end: dt.datetime, pauses: Iterable[Pause] = ()
) -> Decimal:
    """Business time between two instants on a calendar, in minutes (exact)."""
    if end <= start:
        return ZERO
    elapsed = business_time_between(calendar, start, end, pauses)
    return Decimal(int(elapsed.total_seconds() * 1_000_000)) / 60_000_000


def business_hours(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> Decimal:
    """First-response or resolution time in business hours, to 0.01 h: a case opened on
    Friday 17:30 and answered Monday 10:00 on a 9–18 weekday calendar took 1.5."""
    return (business_minutes(calendar, start, end) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class DurationStats:
    """Count, mean and median of durations, in business hours (0.01)."""

    count: int
    average_hours: Decimal | None
    median_hours: Decimal | None


def duration_stats(minutes: Sequence[Decimal]) -> DurationStats:
    if not minutes:
        return DurationStats(0, None, None)
    ordered = sorted(minutes)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    hundredth = Decimal("0.01")
    return DurationStats(
        len(ordered),
        (sum(ordered, ZERO) / len(ordered) / 60).quantize(hundredth, ROUND_HALF_UP),
        (median / 60).quantize(hundredth, ROUND_HALF_UP),
    )


def sla_attainment(*, met: int, missed: int) -> Decimal | None:
    """Clocks that finished within their target ÷ clocks whose outcome is known."""
    return percent(met, met + missed)


def reopen_rate(*, resolved: int, reopened: int) -> Decimal | None:
    """Cases resolved in the period that were reopened ÷ cases resolved in the period."""
    return percent(reopened, resolved)


@dataclass(frozen=True)
class Csat:
    """Survey answers: good scores 3, neutral 2, bad 1."""

    good: int
    neutral: int
    bad: int

    @property
    def answers(self) -> int:
        return self.good + self.neutral + self.bad

    @property
    def satisfied(self) -> Decimal | None:
        """CSAT: good answers ÷ all answers."""
        return percent(self.good, self.answers)

    @property
    def average(self) -> Decimal | None:
        if not self.answers:
            return None
        total = Decimal(self.good * 3 + self.neutral * 2 + self.bad)
        return (total / self.answers).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    count: int
    share: Decimal | None


def demand(counts: Mapping[tuple[str, str], int]) -> list[Share]:
    """Cases per value of one dimension (category, product, release, channel, root
    cause), largest first, each with its share of all the cases counted."""
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0][1]))
    return [Share(key, label, count, percent(count, total)) for (key, label), count in ordered]


def utilization(*, billable_minutes: int, logged_minutes: int) -> Decimal | None:
    """Agent utilization: billable time ÷ logged time."""
    return percent(billable_minutes, logged_minutes)


def cost_per_incident(
    *, logged_minutes: int, cost_per_hour: Decimal, incidents: int, currency: str
) -> Decimal | None:
    """Logged time × the agents' cost rate ÷ incidents, rounded once to the currency."""
    if not incidents:
        return None
    return round_amount(Decimal(logged_minutes) * cost_per_hour / 60 / incidents, currency)


@dataclass(frozen=True)
class AgeBucket:
    label: str
    from_days: int
    to_days: int | None  # None: no upper bound


def age_bucket(buckets: Sequence[AgeBucket], age: dt.timedelta) -> int:
    """The index of the bucket a case of this age falls in (``from ≤ age < to``)."""
    for index, bucket in enumerate(buckets):
        if age >= dt.timedelta(days=bucket.from_days) and (
            bucket.to_days is None or age < dt.timedelta(days=bucket.to_days)
        ):
            return index
    raise ValueError("A negative age has no bucket.")


@dataclass(frozen=True)
class UsageRevenue:
    """Overage and pay-as-you-go revenue: the sum of the (already rounded) invoice lines
    of each kind issued in the period."""

    overage: Decimal = ZERO
    payg: Decimal = ZERO
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.overage + self.payg


# --- One organization's health ---------------------------------------------------------------


@dataclass(frozen=True)
class Profit:
    """One currency's revenue, the cost of the time logged counted in it, and the
    difference."""

    currency: str
    revenue: Decimal
    cost: Decimal

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        """Profit ÷ revenue (``None`` without revenue)."""
        return percent(self.profit, self.revenue)


def profitability(
    revenue: Mapping[str, Decimal],
    *,
    logged_minutes: int,
    cost_per_hour: Decimal,
    cost_currency: str,
) -> list[Profit]:
    """Profitability per currency, never converted: revenue (issued invoices' totals)
    minus the cost of the time logged, ``logged minutes × cost per hour ÷ 60`` rounded
    once to the cost currency, which only the cost currency's row carries (a row is added
    for it when time was logged and nothing was invoiced in it). Sorted by currency."""
    cost = round_amount(Decimal(logged_minutes) * cost_per_hour / 60, cost_currency)
    currencies = set(revenue) | ({cost_currency} if logged_minutes else set())
    return [
        Profit(
            currency,
            revenue.get(currency, ZERO),
            cost if currency == cost_currency else ZERO,
        )
        for currency in sorted(currencies)
    ]


def days_until(day: dt.date | None, today: dt.date) -> int | None:
    """Days from ``today`` to ``day`` (negative once past; ``None`` without a day)."""
    return None if day is None else (day - today).days
