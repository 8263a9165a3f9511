"""The metric definitions on plain values: the worked examples of docs/metrics.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from retainer.lib.business_hours import Calendar
from retainer.metrics import definitions as d
from retainer.metrics.periods import parse_period

UTC = dt.UTC


def test_a_case_opened_friday_1730_and_answered_monday_1000_took_one_and_a_half_business_hours():
    calendar = Calendar.office_hours("UTC", dt.time(9), dt.time(18))
    opened = dt.datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # a Friday
    answered = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the Monday after
    assert opened.weekday() == 4 and answered.weekday() == 0
    assert d.business_hours(calendar, opened, answered) == Decimal("1.50")
    assert d.business_minutes(calendar, opened, answered) == 90


def _contract(
    pk: int, customer: int, mrr: str, start: str, last: str | None
) -> d.RecurringContract:
    return d.RecurringContract(
        pk,
        customer,
        Decimal(mrr),
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(last) if last else None,
    )


def test_the_seed_example_moves_100_to_120_with_a_recurring_revenue_rate_of_120_percent():
    contracts = [
        _contract(1, 1, "25", "2025-03-01", "2026-02-28"),  # churns in February
        _contract(2, 2, "50", "2025-06-01", None),
        _contract(3, 2, "5", "2026-02-15", None),  # expansion
        _contract(4, 3, "20", "2025-06-01", None),
        _contract(5, 3, "5", "2025-03-01", "2026-02-28"),  # downgrade
        _contract(6, 4, "45", "2026-01-10", None),  # a new customer
    ]
    q1 = parse_period("2026-Q1", today=dt.date(2026, 12, 1))
    start = sum(d.mrr_by_customer(contracts, dt.date(2025, 12, 31)).values(), d.ZERO)
    summary = d.summarize(start, d.mrr_movements(contracts, q1.months, as_of=q1.end))
    assert (summary.start, summary.new, summary.expansion) == (100, 45, 5)
    assert (summary.churn, summary.contraction, summary.reactivation) == (-25, -5, 0)
    assert summary.added == 50 and summary.lost == 30 and summary.end == 120
    assert d.recurring_revenue_rate(summary.start, summary.end) == Decimal("120.0")


def test_a_customer_paying_again_after_a_gap_is_a_reactivation_not_new():
    contracts = [
        _contract(1, 1, "100", "2025-01-01", "2025-12-31"),
        _contract(2, 1, "80", "2026-02-01", None),
    ]
    moved = d.mrr_movements(
        contracts, [dt.date(2026, 1, 1), dt.date(2026, 2, 1)], as_of=dt.date(2026, 2, 28)
    )
    assert [(m.kind, m.amount) for m in moved] == [("churn", -100), ("reactivation", 80)]


def test_retention_counts_only_the_customers_paying_at_the_start():
    start = {1: Decimal(100), 2: Decimal(200), 3: Decimal(100), 4: Decimal(150)}
    end = {1: Decimal(100), 2: Decimal(220), 4: Decimal(100), 5: Decimal(150), 6: Decimal(100)}
    r = d.retention(start, end)
    assert r.net_revenue_retention == Decimal("76.4")  # 420 / 550
    assert r.gross_revenue_retention == Decimal("72.7")  # 400 / 550
    assert r.customer_retention == Decimal("75.0")  # 3 / 4


def test_renewal_rate_never_exceeds_100_percent():
    assert d.renewal_rate(due=4, renewed=2) == Decimal("50.0")
    assert d.renewal_rate(due=0, renewed=0) is None
    with pytest.raises(ValueError):
        d.renewal_rate(due=1, renewed=2)


def test_monthly_revenue_is_rounded_once_per_contract_to_the_cent():
    assert d.contract_mrr(Decimal(1000), 12, "EUR") == Decimal("83.33")
    assert d.contract_mrr(Decimal(1000), 12, "JPY") == Decimal(83)


def test_support_ratios_and_csat():
    assert d.sla_attainment(met=9, missed=1) == Decimal("90.0")
    assert d.reopen_rate(resolved=8, reopened=1) == Decimal("12.5")
    assert d.utilization(billable_minutes=90, logged_minutes=120) == Decimal("75.0")
    csat = d.Csat(good=6, neutral=3, bad=1)
    assert csat.satisfied == Decimal("60.0") and csat.average == Decimal("2.50")
    cost = d.cost_per_incident(
        logged_minutes=600, cost_per_hour=Decimal(60), incidents=4, currency="EUR"
    )
    assert cost == Decimal("150.00")
    assert (
        d.cost_per_incident(
            logged_minutes=5, cost_per_hour=Decimal(60), incidents=0, currency="EUR"
        )
        is None
    )


def test_duration_stats_and_age_buckets():
    stats = d.duration_stats([Decimal(30), Decimal(90), Decimal(120), Decimal(600)])
    assert (stats.count, stats.median_hours, stats.average_hours) == (
        4,
        Decimal("1.75"),
        Decimal("3.50"),
    )
    buckets = [d.AgeBucket("young", 0, 1), d.AgeBucket("old", 1, None)]
    assert d.age_bucket(buckets, dt.timedelta(hours=23)) == 0
    assert d.age_bucket(buckets, dt.timedelta(days=40)) == 1


def test_demand_shares_largest_first():
    shares = d.demand({("defect", "Defect"): 3, ("how_to", "How-to"): 1})
    assert [(s.key, s.count, s.share) for s in shares] == [
        ("defect", 3, Decimal("75.0")),
        ("how_to", 1, Decimal("25.0")),
    ]


def test_periods():
    today = dt.date(2026, 12, 2)
    assert parse_period("2026-Q2", today=today).months == [dt.date(2026, m, 1) for m in (4, 5, 6)]
    last12 = parse_period("12m", today=today)
    assert (last12.start, last12.end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert parse_period("2026-02", today=today).end == dt.date(2026, 2, 28)
    with pytest.raises(ValueError):
        parse_period("2026-13", today=today)
