"""Plain values from the database for a period and filters, handed to ``definitions``.

Each figure family is one aggregate query (grouped in SQL, never a loop over every
case): the recurring contracts, the invoiced usage, demand per dimension, the backlog,
SLA clocks, reopened cases, CSAT, logged time. Only two families bring rows into Python:
the recurring contracts (MRR is computed per contract and customer, one row per contract
up to the period's end) and the response and resolution times (business hours need each
case's calendar; the period's most recent ``DURATION_SAMPLE`` cases). Nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from retainer.billing.choices import InvoiceStatus, ItemKind
from retainer.billing.models import Invoice, InvoiceLine
from retainer.cases import workflow
from retainer.cases.choices import CaseEventType, CaseStatus, ClockKind, CsatRating, RootCause
from retainer.cases.models import (
    BusinessCalendar,
    Case,
    CaseEvent,
    CsatResponse,
    SlaClock,
    TimeEntry,
)
from retainer.cases.reports import AGE_BUCKETS
from retainer.cases.sla import calendar_from_row
from retainer.contracts.choices import (
    AllowanceUnit,
    Channel,
    ContractEventType,
    ContractStatus,
    Preset,
)
from retainer.contracts.models import Contract, ContractEvent, LedgerEntry
from retainer.lib.business_hours import Calendar
from retainer.metrics import definitions as d
from retainer.metrics import rollups
from retainer.metrics.models import SupportMonth
from retainer.metrics.periods import Period, parse_period

#: Presets whose fee recurs every term. Banks are prepaid purchases, pay-as-you-go bills
#: usage and warranties cost nothing: none of them is recurring revenue.
RECURRING_PRESETS = (Preset.MAINTENANCE, Preset.SUBSCRIPTION, Preset.FIXED_FEE)
BUCKETS = [d.AgeBucket(label, start, end) for label, start, end in AGE_BUCKETS]
#: Response and resolution times are computed from at most this many of the period's
#: most recent cases (business hours need each case's calendar, in Python).
DURATION_SAMPLE = 10_000
UNKNOWN = "—"


def agent_cost() -> tuple[Decimal, str]:
    """The agents' cost per hour and its currency (``RETAINER_AGENT_COST_PER_HOUR``,
    ``RETAINER_AGENT_COST_CURRENCY``; 60 EUR when not set)."""
    rate = Decimal(str(getattr(settings, "RETAINER_AGENT_COST_PER_HOUR", "60")))
    return rate, str(getattr(settings, "RETAINER_AGENT_COST_CURRENCY", "EUR"))


@dataclass(frozen=True)
class Filters:
    """What every dashboard, drill-down, export and API endpoint is filtered by."""

    period: Period
    today: dt.date
    product: int | None = None
    team: int | None = None
    tier: str = ""
    organization: int | None = None
    currency: str = ""

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        values = {
            "period": self.period.key,
            "product": self.product,
            "team": self.team,
            "tier": self.tier,
            "organization": self.organization,
            "currency": self.currency,
        }
        return {key: str(value) for key, value in values.items() if value not in (None, "")}

    @property
    def as_of(self) -> dt.date:
        return self.period.as_of(self.today)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as aware instants in the current time zone: [start, end)."""
        zone = timezone.get_current_timezone()
        start = dt.datetime.combine(self.period.start, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(self.period.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return start, end


# --- Revenue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractRow:
    """A recurring contract as the revenue figures see it."""

    pk: int
    name: str
    customer_id: int
    customer: str
    currency: str
    price: Decimal
    start: dt.date
    end: dt.date | None
    last_day: dt.date | None
    renewed: bool

    def recurring(self, currency: str, term_months: int) -> d.RecurringContract:
        mrr = d.contract_mrr(self.price, term_months, currency)
        return d.RecurringContract(self.pk, self.customer_id, mrr, self.start, self.last_day)


def recurring_contracts(filters: Filters) -> QuerySet[Contract]:
    """Recurring contracts (``RECURRING_PRESETS``, with a price) started by the period's
    end, in the filters' organization, product and plan tier."""
    contracts = Contract.objects.filter(
        preset__in=RECURRING_PRESETS, price__gt=0, start_date__lte=filters.period.end
    ).exclude(status=ContractStatus.DRAFT)
    if filters.organization:
        contracts = contracts.filter(organization_id=filters.organization)
    if filters.product:
        contracts = contracts.filter(covered_products=filters.product)
    if filters.tier:
        contracts = contracts.filter(terms__tier=filters.tier)
    return contracts


def _last_day(end: dt.date | None, stopped_at: dt.datetime | None) -> dt.date | None:
    """A contract counts to its last covered day, or to the day before it was cancelled
    or expired early."""
    if stopped_at is None:
        return end
    stop = timezone.localdate(stopped_at) - dt.timedelta(days=1)
    return stop if end is None else min(end, stop)


def contract_rows(filters: Filters) -> list[tuple[ContractRow, int]]:
    """Every recurring contract with its term in months. One query."""
    stopped = (
        ContractEvent.objects.filter(
            contract=OuterRef("pk"),
            type__in=[ContractEventType.CONTRACT_CANCELLED, ContractEventType.CONTRACT_EXPIRED],
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    rows = (
        recurring_contracts(filters)
        .annotate(
            stopped_at=Subquery(stopped),
            renewed=Exists(Contract.objects.filter(previous=OuterRef("pk"))),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "organization_id",
            "organization__name",
            "currency",
            "price",
            "start_date",
            "end_date",
            "stopped_at",
            "renewed",
            "terms__term_months",
        )
    )
    found = []
    for pk, name, org, org_name, currency, price, start, end, stopped_at, renewed, months in rows:
        last = _last_day(end, stopped_at)
        row = ContractRow(pk, name, org, org_name, currency, price, start, end, last, renewed)
        found.append((row, int(months or 12)))
    return found


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date
    summary: d.MovementSummary


@dataclass
class RevenueReport:
    filters: Filters
    currency: str
    currencies: list[str]
    contracts: list[ContractRow]
    recurring: list[d.RecurringContract]
    movements: list[d.CustomerMovement]
    summary: d.MovementSummary
    months: list[MonthFigures]
    retention: d.Retention
    renewals_due: list[ContractRow]
    usage: d.UsageRevenue = field(default_factory=d.UsageRevenue)

    @property
    def recurring_revenue_rate(self) -> Decimal | None:
        return d.recurring_revenue_rate(self.summary.start, self.summary.end)

    @property
    def renewed(self) -> int:
        return sum(1 for row in self.renewals_due if row.renewed)

    @property
    def renewal_rate(self) -> Decimal | None:
        return d.renewal_rate(due=len(self.renewals_due), renewed=self.renewed)


def _currency(rows: list[tuple[ContractRow, int]], wanted: str) -> tuple[str, list[str]]:
    counts = Counter(row.currency for row, _ in rows)
    currencies = sorted(counts)
    if wanted:
        return wanted, currencies
    if not counts:
        return str(getattr(settings, "RETAINER_AGENT_COST_CURRENCY", "EUR")), currencies
    return counts.most_common(1)[0][0], currencies


def revenue_report(filters: Filters) -> RevenueReport:
    """MRR and its movements, retention and renewals of the period, in one currency (the
    filters', else the one most contracts are in). Two queries."""
    rows = contract_rows(filters)
    currency, currencies = _currency(rows, filters.currency)
    mine = [(row, months) for row, months in rows if row.currency == currency]
    recurring = [row.recurring(currency, months) for row, months in mine]
    period, as_of = filters.period, filters.as_of
    months = [month for month in period.months if month <= as_of]
    movements = d.mrr_movements(recurring, months, as_of=as_of)
    before = d.mrr_by_customer(recurring, period.start - dt.timedelta(days=1))
    after = d.mrr_by_customer(recurring, as_of)
    start = sum(before.values(), d.ZERO)
    monthly, running = [], start
    for month in months:
        summary = d.summarize(running, [m for m in movements if m.month == month])
        monthly.append(MonthFigures(month, summary))
        running = summary.end
    due = [row for row, _ in mine if row.end is not None and period.start <= row.end <= period.end]
    return RevenueReport(
        filters=filters,
        currency=currency,
        currencies=currencies,
        contracts=[row for row, _ in mine],
        recurring=recurring,
        movements=movements,
        summary=d.summarize(start, movements),
        months=monthly,
        retention=d.retention(before, after),
        renewals_due=due,
        usage=usage_revenue(filters, currency),
    )


def usage_lines(filters: Filters, currency: str) -> QuerySet[InvoiceLine]:
    """Overage and pay-as-you-go lines of invoices issued (or paid) in the period."""
    start, end = filters.bounds()
    lines = InvoiceLine.objects.filter(
        kind__in=[ItemKind.OVERAGE, ItemKind.PAYG],
        invoice__status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
        invoice__issued_at__gte=start,
        invoice__issued_at__lt=end,
        invoice__currency=currency,
    )
    if filters.organization:
        lines = lines.filter(invoice__organization_id=filters.organization)
    if filters.product:
        lines = lines.filter(contract__covered_products=filters.product)
    if filters.tier:
        lines = lines.filter(contract__terms__tier=filters.tier)
    return lines


def usage_revenue(filters: Filters, currency: str) -> d.UsageRevenue:
    totals = {
        kind: (total or d.ZERO, n)
        for kind, total, n in usage_lines(filters, currency)
        .order_by()
        .values("kind")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .values_list("kind", "total", "n")
    }
    overage, payg = (
        totals.get(ItemKind.OVERAGE, (d.ZERO, 0)),
        totals.get(ItemKind.PAYG, (d.ZERO, 0)),
    )
    return d.UsageRevenue(overage[0], payg[0], {"overage": overage[1], "payg": payg[1]})


# --- Support ---------------------------------------------------------------------------------


def filtered_cases(filters: Filters) -> QuerySet[Case]:
    """Cases in the filters' organization, product, team (the case's queue) and plan tier
    (of the case's contract); any time."""
    cases = Case.objects.all()
    if filters.organization:
        cases = cases.filter(organization_id=filters.organization)
    if filters.product:
        cases = cases.filter(product_id=filters.product)
    if filters.team:
        cases = cases.filter(queue_id=filters.team)
    if filters.tier:
        cases = cases.filter(contract__terms__tier=filters.tier)
    return cases


def opened_in_period(filters: Filters) -> QuerySet[Case]:
    start, end = filters.bounds()
    return filtered_cases(filters).filter(created_at__gte=start, created_at__lt=end)


#: Demand dimensions: key -> (label, the case field grouped by, the field naming it).
DIMENSIONS: dict[str, tuple[str, str, str | None]] = {
    "root_cause": ("Root cause", "root_cause", None),
    "category": ("Category", "category", None),
    "product": ("Product", "product_id", "product__name"),
    "release": ("Release", "release_id", "release__version"),
    "channel": ("Channel", "channel", None),
}
_CHOICE_LABELS: dict[str, dict[str, str]] = {
    "root_cause": dict(RootCause.choices),
    "channel": dict(Channel.choices),
}


def demand(filters: Filters, dimension: str) -> list[d.Share]:
    """Cases opened in the period per value of one dimension. One query."""
    _, key, name = DIMENSIONS[dimension]
    fields = [key] if name is None else [key, name]
    counts: dict[tuple[str, str], int] = {}
    grouped = opened_in_period(filters).order_by().values(*fields).annotate(n=Count("pk"))
    for row in grouped:
        value = row[key]
        label = row[name] if name else _CHOICE_LABELS.get(dimension, {}).get(value, value)
        counts[("" if value is None else str(value), label or UNKNOWN)] = row["n"]
    return d.demand(counts)


def open_cases(filters: Filters) -> QuerySet[Case]:
    """Cases not finished, named by their statuses (``status IN …``) so that the index
    on the status serves the count instead of a scan of every case."""
    return filtered_cases(filters).filter(status__in=sorted(workflow.ACTIVE))


def bucket_filter(index: int, now: dt.datetime) -> Q:
    bucket = BUCKETS[index]
    q = Q(created_at__lte=now - dt.timedelta(days=bucket.from_days))
    if bucket.to_days is not None:
        q &= Q(created_at__gt=now - dt.timedelta(days=bucket.to_days))
    return q


def backlog(filters: Filters, now: dt.datetime) -> list[tuple[d.AgeBucket, int]]:
    """Open cases now, by age since they were opened. One query."""
    counts = open_cases(filters).aggregate(
        **{f"b{n}": Count("pk", filter=bucket_filter(n, now)) for n in range(len(BUCKETS))}
    )
    return [(bucket, counts[f"b{n}"]) for n, bucket in enumerate(BUCKETS)]


def clocks_decided(filters: Filters) -> QuerySet[SlaClock]:
    """Clocks whose outcome became known in the period: stopped in it, or breached in it
    and still running."""
    start, end = filters.bounds()
    decided = Q(stopped_at__gte=start, stopped_at__lt=end) | Q(
        stopped_at__isnull=True, breached_at__gte=start, breached_at__lt=end
    )
    return SlaClock.objects.filter(decided, case__in=filtered_cases(filters))


MET = Q(stopped_at__isnull=False, breached_at__isnull=True)
MISSED = Q(breached_at__isnull=False)


def sla(filters: Filters) -> dict[str, tuple[int, int]]:
    """Per clock kind: (met, missed). One query."""
    found = dict.fromkeys(ClockKind.values, (0, 0))
    grouped = (
        clocks_decided(filters)
        .order_by()
        .values("kind")
        .annotate(met=Count("pk", filter=MET), missed=Count("pk", filter=MISSED))
    )
    for row in grouped:
        found[row["kind"]] = (row["met"], row["missed"])
    return found


REOPENED = Exists(
    CaseEvent.objects.filter(
        case=OuterRef("pk"),
        type=CaseEventType.STATUS_CHANGED,
        data__old__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED],
        data__new=CaseStatus.OPEN,
    )
)


def resolved_in_period(filters: Filters) -> QuerySet[Case]:
    start, end = filters.bounds()
    return filtered_cases(filters).filter(resolved_at__gte=start, resolved_at__lt=end)


def reopened(filters: Filters) -> tuple[int, int]:
    """(cases resolved in the period, of which reopened at some point). One query."""
    counts = resolved_in_period(filters).aggregate(
        resolved=Count("pk"), reopened=Count("pk", filter=Q(REOPENED))
    )
    return counts["resolved"], counts["reopened"]


def csat_by_month(filters: Filters) -> list[tuple[dt.date, d.Csat]]:
    """Survey answers of the period per month. One query."""
    start, end = filters.bounds()
    grouped = (
        CsatResponse.objects.filter(
            answered_at__gte=start, answered_at__lt=end, case__in=filtered_cases(filters)
        )
        .annotate(month=TruncMonth("answered_at"))
        .order_by()
        .values("month")
        .annotate(
            good=Count("pk", filter=Q(rating=CsatRating.GOOD)),
            neutral=Count("pk", filter=Q(rating=CsatRating.NEUTRAL)),
            bad=Count("pk", filter=Q(rating=CsatRating.BAD)),
        )
    )
    by_month = {
        _as_date(row["month"]): d.Csat(row["good"], row["neutral"], row["bad"]) for row in grouped
    }
    return [(month, by_month.get(month, d.Csat(0, 0, 0))) for month in filters.period.months]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def time_logged(filters: Filters) -> list[dict[str, Any]]:
    """Per agent: minutes logged and billable in the period (by work date). One query."""
    entries = TimeEntry.objects.filter(
        is_deleted=False,
        work_date__gte=filters.period.start,
        work_date__lte=filters.period.end,
        case__in=filtered_cases(filters),
    )
    return list(
        entries.order_by("agent__full_name")
        .values("agent_id", "agent__full_name")
        .annotate(logged=Sum("minutes"), billable=Sum("minutes", filter=Q(billable=True)))
    )


@dataclass(frozen=True)
class Durations:
    first_response: d.DurationStats
    resolution: d.DurationStats
    sampled: bool


def durations(filters: Filters) -> Durations:
    """First-response and resolution times, in business hours on each case's SLA calendar
    (its first-response clock's; 24×7 UTC for a case without clocks), of cases opened in
    the period. Two queries (cases, calendars)."""
    calendar_of = SlaClock.objects.filter(
        case=OuterRef("pk"), kind=ClockKind.FIRST_RESPONSE
    ).values("target__calendar_id")[:1]
    rows = list(
        opened_in_period(filters)
        .filter(Q(first_response_at__isnull=False) | Q(resolved_at__isnull=False))
        .annotate(calendar_id=Subquery(calendar_of))
        .order_by("-created_at")
        .values_list(
            "created_at",
            "first_response_at",
            "resolved_at",
            "organization__time_zone",
            "calendar_id",
        )[: DURATION_SAMPLE + 1]
    )
    sampled = len(rows) > DURATION_SAMPLE
    calendars = {row.pk: row for row in BusinessCalendar.objects.all()} if rows else {}
    cache: dict[tuple[int | None, str], Calendar] = {}
    first, resolution = [], []
    for created, answered, resolved, zone, calendar_id in rows[:DURATION_SAMPLE]:
        row = calendars.get(calendar_id)
        tz = (zone if row.use_customer_time_zone else row.time_zone) if row else "UTC"
        key = (calendar_id if row else None, tz)
        if key not in cache:
            cache[key] = calendar_from_row(row, tz) if row else Calendar.around_the_clock()
        if answered is not None:
            first.append(d.business_minutes(cache[key], created, answered))
        if resolved is not None:
            resolution.append(d.business_minutes(cache[key], created, resolved))
    return Durations(d.duration_stats(first), d.duration_stats(resolution), sampled)


@dataclass
class SupportReport:
    filters: Filters
    opened: int
    demand: dict[str, list[d.Share]]
    backlog: list[tuple[d.AgeBucket, int]]
    sla: dict[str, tuple[int, int]]
    durations: Durations
    resolved: int
    reopened: int
    csat: list[tuple[dt.date, d.Csat]]
    time: list[dict[str, Any]]

    @property
    def csat_total(self) -> d.Csat:
        return d.Csat(
            sum(c.good for _, c in self.csat),
            sum(c.neutral for _, c in self.csat),
            sum(c.bad for _, c in self.csat),
        )

    @property
    def reopen_rate(self) -> Decimal | None:
        return d.reopen_rate(resolved=self.resolved, reopened=self.reopened)

    @property
    def logged_minutes(self) -> int:
        return sum(row["logged"] or 0 for row in self.time)

    @property
    def billable_minutes(self) -> int:
        return sum(row["billable"] or 0 for row in self.time)

    @property
    def utilization(self) -> Decimal | None:
        return d.utilization(
            billable_minutes=self.billable_minutes, logged_minutes=self.logged_minutes
        )

    @property
    def cost_per_incident(self) -> tuple[Decimal | None, str]:
        rate, currency = agent_cost()
        cost = d.cost_per_incident(
            logged_minutes=self.logged_minutes,
            cost_per_hour=rate,
            incidents=self.resolved,
            currency=currency,
        )
        return cost, currency


def support_report(
    filters: Filters, *, dimensions: tuple[str, ...] = tuple(DIMENSIONS)
) -> SupportReport:
    """Every support figure of the period. From the roll-ups (``rollups.py``: two
    queries, plus the live backlog and logged time) unless the filters name an
    organization, which is not a roll-up dimension: then from the cases directly
    (``len(dimensions)`` + 7 queries)."""
    if filters.organization is None:
        return support_from_rollups(filters, dimensions=dimensions)
    return support_direct(filters, dimensions=dimensions)


def support_direct(
    filters: Filters, *, dimensions: tuple[str, ...] = tuple(DIMENSIONS)
) -> SupportReport:
    """Every support figure of the period, from the base tables."""
    found = {dimension: demand(filters, dimension) for dimension in dimensions}
    opened = sum(share.count for share in next(iter(found.values()), []))
    resolved, reopened_count = reopened(filters)
    return SupportReport(
        filters=filters,
        opened=opened,
        demand=found,
        backlog=backlog(filters, timezone.now()),
        sla=sla(filters),
        durations=durations(filters),
        resolved=resolved,
        reopened=reopened_count,
        csat=csat_by_month(filters),
        time=time_logged(filters),
    )


def rollup_rows(filters: Filters) -> QuerySet[SupportMonth]:
    """The roll-up cells of the period's months in the filters' product, team and tier."""
    rows = SupportMonth.objects.filter(
        month__gte=filters.period.start.replace(day=1), month__lte=filters.period.end
    )
    if filters.product:
        rows = rows.filter(product_id=filters.product)
    if filters.team:
        rows = rows.filter(team_id=filters.team)
    if filters.tier:
        rows = rows.filter(tier=filters.tier)
    return rows


def support_from_rollups(
    filters: Filters, *, dimensions: tuple[str, ...] = tuple(DIMENSIONS)
) -> SupportReport:
    """The same figures as ``support_direct`` from ``SupportMonth``: one query for the
    period's totals (logged time per agent among them), one for CSAT per month, and the
    live backlog."""
    totals = (
        rollup_rows(filters)
        .exclude(figure="csat")
        .order_by()
        .values_list("figure", "value", "label")
        .annotate(total=Sum("n"), micros=Sum("micros"))
    )
    counts: dict[str, Counter[str]] = {}
    labels: dict[tuple[str, str], str] = {}
    time: dict[str, dict[str, Any]] = {}
    histograms: dict[str, dict[int, tuple[int, int]]] = {"frt": {}, "ttr": {}}
    for figure, value, label, total, micros in totals:
        if figure in histograms:
            n, m = histograms[figure].get(int(value), (0, 0))
            histograms[figure][int(value)] = (n + (total or 0), m + (micros or 0))
            continue
        if figure in ("time.logged", "time.billable") and total:
            row = time.setdefault(value, {"agent_id": int(value), "agent__full_name": label,
                                          "logged": 0, "billable": None})  # fmt: skip
            key = "logged" if figure == "time.logged" else "billable"
            row[key] = (row[key] or 0) + total
            continue
        counts.setdefault(figure, Counter())[value] += total or 0
        labels[(figure, value)] = label
    found = {}
    for dimension in dimensions:
        figure = f"demand.{dimension}"
        by_value = counts.get(figure, Counter())
        found[dimension] = d.demand(
            {(value, labels[(figure, value)] or UNKNOWN): n for value, n in by_value.items() if n}
        )
    slas = dict.fromkeys(ClockKind.values, (0, 0))
    for kind in ClockKind.values:
        outcomes = counts.get(f"sla.{kind}", Counter())
        slas[kind] = (outcomes["met"], outcomes["missed"])
    by_month: dict[dt.date, Counter[str]] = {}
    for month, rating, total in (
        rollup_rows(filters)
        .filter(figure="csat")
        .order_by()
        .values_list("month", "value")
        .annotate(total=Sum("n"))
    ):
        by_month.setdefault(month, Counter())[rating] += total or 0
    csat = []
    for month in filters.period.months:
        ratings = by_month.get(month, Counter())
        csat.append((month, d.Csat(ratings["good"], ratings["neutral"], ratings["bad"])))
    return SupportReport(
        filters=filters,
        opened=counts.get("opened", Counter())[""],
        demand=found,
        backlog=backlog(filters, timezone.now()),
        sla=slas,
        durations=Durations(
            rollups.duration_stats(histograms["frt"]),
            rollups.duration_stats(histograms["ttr"]),
            sampled=False,
        ),
        resolved=counts.get("resolved", Counter())[""],
        reopened=counts.get("reopened", Counter())[""],
        csat=csat,
        time=sorted(time.values(), key=lambda row: (row["agent__full_name"], row["agent_id"])),
    )


# --- One agent ---------------------------------------------------------------------------------

#: A running clock due within this time is "at risk" on the agent page.
RISK_WINDOW = dt.timedelta(hours=8)
#: Clocks listed at most on the agent page (the soonest due first).
RISK_LIMIT = 25


@dataclass
class AgentReport:
    """One agent's work: the open cases assigned to them by status, the running SLA clocks
    of those cases that are breached or due within ``RISK_WINDOW``, and the time they
    logged in the period, per week."""

    filters: Filters
    agent_id: int
    now: dt.datetime
    queue: list[tuple[str, int]]
    at_risk: list[SlaClock]
    weeks: list[dict[str, Any]]

    @property
    def open_cases(self) -> int:
        return sum(n for _, n in self.queue)

    @property
    def logged_minutes(self) -> int:
        return sum(week["logged"] for week in self.weeks)

    @property
    def billable_minutes(self) -> int:
        return sum(week["billable"] for week in self.weeks)


def agent_time(filters: Filters, agent_id: int) -> QuerySet[TimeEntry]:
    """The agent's time entries in the period (by work date), in the filtered cases."""
    return TimeEntry.objects.filter(
        agent_id=agent_id,
        is_deleted=False,
        work_date__gte=filters.period.start,
        work_date__lte=filters.period.end,
        case__in=filtered_cases(filters),
    )


def agent_report(filters: Filters, agent_id: int, now: dt.datetime) -> AgentReport:
    """Three queries: the open cases by status, the clocks at risk, the time per day."""
    mine = open_cases(filters).filter(assignee_id=agent_id)
    queue = [
        (row["status"], row["n"])
        for row in mine.values("status").annotate(n=Count("pk")).order_by("status")
    ]
    at_risk = list(
        SlaClock.objects.filter(
            case__in=mine, stopped_at__isnull=True, due_at__lt=now + RISK_WINDOW
        )
        .select_related("case")
        .order_by("due_at", "pk")[:RISK_LIMIT]
    )
    days = (
        agent_time(filters, agent_id)
        .values("work_date")
        .annotate(logged=Sum("minutes"), billable=Sum("minutes", filter=Q(billable=True)))
        .order_by("work_date")
    )
    weeks: dict[dt.date, dict[str, Any]] = {}
    for day in days:
        monday = day["work_date"] - dt.timedelta(days=day["work_date"].weekday())
        week = weeks.setdefault(monday, {"week": monday, "logged": 0, "billable": 0})
        week["logged"] += day["logged"] or 0
        week["billable"] += day["billable"] or 0
    return AgentReport(filters, agent_id, now, queue, at_risk, list(weeks.values()))


# --- One organization's health -----------------------------------------------------------------

#: Months of balance trend and of cases opened on the health panel (the current one last).
HEALTH_MONTHS = 6


@dataclass(frozen=True)
class BalanceTrend:
    """An active contract's balance (ledger units: minutes or incidents) at the end of
    each of the health months (today for the current month; ``None`` before its first
    ledger entry)."""

    contract_id: int
    name: str
    unit: str
    balances: list[int | None]


@dataclass
class OrganizationHealth:
    organization_id: int
    today: dt.date
    months: list[dt.date]  # first day of each of the last HEALTH_MONTHS months
    year: Filters  # the last twelve months (CSAT, profitability) for drill-down links
    balances: list[BalanceTrend]
    opened: list[int]  # cases opened per month of ``months``
    open_now: int
    csat: d.Csat
    next_renewal: dt.date | None
    logged_minutes: int
    cost_per_hour: Decimal
    cost_currency: str
    profit: list[d.Profit]

    @property
    def days_to_renewal(self) -> int | None:
        return d.days_until(self.next_renewal, self.today)

    def month_filters(self, month: dt.date) -> Filters:
        return Filters(parse_period(f"{month:%Y-%m}", today=self.today), self.today,
                       organization=self.organization_id)  # fmt: skip


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _health_balances(
    organization_id: int, ends: list[dt.datetime]
) -> tuple[list[BalanceTrend], dt.date | None]:
    """Each active contract's balance at each of ``ends`` (from the ledger), and the
    soonest end date of an active contract. One query."""

    def balance_at(end: dt.datetime) -> Subquery:
        return Subquery(
            LedgerEntry.objects.filter(contract=OuterRef("pk"), created_at__lt=end)
            .order_by("-created_at", "-pk")
            .values("balance_after")[:1]
        )

    active = (
        Contract.objects.filter(organization_id=organization_id, status=ContractStatus.ACTIVE)
        .annotate(**{f"b{n}": balance_at(end) for n, end in enumerate(ends)})
        .order_by("end_date", "pk")
        .values("pk", "name", "unit", "end_date", *(f"b{n}" for n in range(len(ends))))
    )
    balances, renewal = [], None
    for row in active:
        if row["end_date"] is not None and (renewal is None or row["end_date"] < renewal):
            renewal = row["end_date"]
        if row["unit"] != AllowanceUnit.NONE:
            values = [row[f"b{n}"] for n in range(len(ends))]
            balances.append(BalanceTrend(row["pk"], row["name"], row["unit"], values))
    return balances, renewal


def _health_cases(organization_id: int, months: list[dt.date]) -> tuple[list[int], int]:
    """Cases opened in each of ``months``, and open now. One query."""
    cases = Case.objects.filter(organization_id=organization_id).aggregate(
        open_now=Count("pk", filter=~Q(status__in=workflow.FINISHED)),
        **{
            f"m{n}": Count(
                "pk", filter=Q(created_at__gte=_day_start(month), created_at__lt=_day_start(
                    d.month_end(month) + dt.timedelta(days=1)))
            )
            for n, month in enumerate(months)
        },
    )  # fmt: skip
    return [cases[f"m{n}"] for n in range(len(months))], cases["open_now"]


def _health_money(organization_id: int, year: Filters) -> tuple[dict[str, Decimal], int]:
    """Issued and paid invoice totals per currency, and minutes logged on the
    organization's cases, over ``year``. Two queries."""
    start, end = year.bounds()
    revenue = {
        currency: total or d.ZERO
        for currency, total in Invoice.objects.filter(
            organization_id=organization_id,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID],
            issued_at__gte=start,
            issued_at__lt=end,
        )
        .order_by()
        .values("currency")
        .annotate(total=Sum("total"))
        .values_list("currency", "total")
    }
    logged = (
        TimeEntry.objects.filter(
            case__organization_id=organization_id,
            is_deleted=False,
            work_date__gte=year.period.start,
            work_date__lte=year.period.end,
        ).aggregate(minutes=Sum("minutes"))["minutes"]
        or 0
    )
    return revenue, logged


def organization_health(organization_id: int, today: dt.date) -> OrganizationHealth:
    """One organization's health: balance trend of its active contracts, cases opened per
    month and open now, CSAT and profitability over the last twelve months, and its next
    renewal. Five queries, whatever the data."""
    year = Filters(parse_period("12m", today=today), today, organization=organization_id)
    months = year.period.months[-HEALTH_MONTHS:]
    # The end of each month as the instant after it (today's end for the current month).
    ends = [_day_start(min(d.month_end(m), today) + dt.timedelta(days=1)) for m in months]
    balances, renewal = _health_balances(organization_id, ends)
    opened, open_now = _health_cases(organization_id, months)
    start, end = year.bounds()
    csat = CsatResponse.objects.filter(
        case__organization_id=organization_id, answered_at__gte=start, answered_at__lt=end
    ).aggregate(
        good=Count("pk", filter=Q(rating=CsatRating.GOOD)),
        neutral=Count("pk", filter=Q(rating=CsatRating.NEUTRAL)),
        bad=Count("pk", filter=Q(rating=CsatRating.BAD)),
    )
    revenue, logged = _health_money(organization_id, year)
    rate, currency = agent_cost()
    return OrganizationHealth(
        organization_id=organization_id,
        today=today,
        months=months,
        year=year,
        balances=balances,
        opened=opened,
        open_now=open_now,
        csat=d.Csat(csat["good"], csat["neutral"], csat["bad"]),
        next_renewal=renewal,
        logged_minutes=logged,
        cost_per_hour=rate,
        cost_currency=currency,
        profit=d.profitability(
            revenue, logged_minutes=logged, cost_per_hour=rate, cost_currency=currency
        ),
    )
