"""The dashboards' tables and charts, built from the reports of ``queries``.

Every figure is a ``Table``: the HTML table (what screen readers and browsers without
JavaScript read), the CSV/XLSX export and the chart's data come from the same rows, and
each number links to the drill-down page listing the rows behind it, with the same
filters.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from retainer.cases.choices import CaseStatus, ClockKind
from retainer.cases.models import SlaClock
from retainer.metrics import definitions as d
from retainer.metrics import queries as q


@dataclass(frozen=True)
class Cell:
    """One value; ``kind`` says how to show it: text, int, money, percent, hours."""

    value: Any
    kind: str = "text"
    href: str = ""
    currency: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: dict[str, Any] | None = None
    note: str = ""
    exports: dict[str, str] = field(default_factory=dict)


def drill(filters: q.Filters, figure: str, **params: Any) -> str:
    query = {**filters.params(), "figure": figure, **{k: str(v) for k, v in params.items()}}
    return f"{reverse('metrics:drill_down')}?{urlencode(query)}"


def with_exports(table: Table, filters: q.Filters, **extra: Any) -> Table:
    query = urlencode({**filters.params(), **extra, "table": table.key})
    table.exports = {
        "CSV": f"{reverse('metrics:export_csv')}?{query}",
        "XLSX": f"{reverse('metrics:export_xlsx')}?{query}",
    }
    return table


def _num(value: Decimal | int | None) -> float | None:
    return None if value is None else float(value)


def _month(month: dt.date) -> str:
    return f"{month:%Y-%m}"


# --- Revenue ---------------------------------------------------------------------------------


def revenue_summary(report: q.RevenueReport) -> Table:
    f, s, c = report.filters, report.summary, report.currency
    start_day = f.period.start - dt.timedelta(days=1)

    def money(value: Decimal, figure: str, **params: Any) -> Cell:
        return Cell(value, "money", drill(f, figure, **params), c)

    rows = [
        ["MRR at the start", money(s.start, "mrr", on=start_day.isoformat())],
        *[
            [d.Movement.LABELS[kind], money(s.by_kind()[kind], "movement", kind=kind)]
            for kind in d.Movement.ALL
        ],
        ["MRR at the end", money(s.end, "mrr", on=f.as_of.isoformat())],
        ["ARR at the end", money(d.arr(s.end), "mrr", on=f.as_of.isoformat())],
        ["Recurring revenue rate", Cell(report.recurring_revenue_rate, "percent")],
        ["Net revenue retention", Cell(report.retention.net_revenue_retention, "percent")],
        ["Gross revenue retention", Cell(report.retention.gross_revenue_retention, "percent")],
        ["Customer retention", Cell(report.retention.customer_retention, "percent")],
        [
            f"Renewal rate ({report.renewed} of {len(report.renewals_due)} due)",
            Cell(report.renewal_rate, "percent", drill(f, "renewals")),
        ],
        ["Overage revenue", money(report.usage.overage, "usage", kind="overage")],
        ["Pay-as-you-go revenue", money(report.usage.payg, "usage", kind="payg")],
    ]
    labelled: list[list[Cell]] = [[Cell(str(label)), value] for label, value in rows]  # type: ignore[list-item]
    steps = [("Start", s.start), *[(d.Movement.LABELS[k], v) for k, v in s.by_kind().items()]]
    bars, level = [], d.ZERO
    for index, (_, value) in enumerate(steps):
        low, level = (d.ZERO, value) if index == 0 else (level, level + value)
        bars.append([_num(min(low, level)), _num(max(low, level))])
    bars.append([0.0, _num(s.end)])
    chart = {
        "type": "bar",
        "labels": [label for label, _ in steps] + ["End"],
        "datasets": [{"label": f"MRR ({c})", "data": bars}],
    }
    return Table(
        "revenue_summary",
        f"Recurring revenue, {f.period.label} ({c})",
        ["Figure", "Value"],
        labelled,
        chart,
        note="Waterfall: MRR at the start, each movement, MRR at the end.",
    )


def mrr_months(report: q.RevenueReport) -> Table:
    f, c = report.filters, report.currency
    rows = []
    for month in report.months:
        s, key = month.summary, _month(month.month)
        end_day = min(d.month_end(month.month), f.as_of)
        rows.append(
            [
                Cell(key),
                Cell(
                    s.start,
                    "money",
                    drill(f, "mrr", on=(month.month - dt.timedelta(days=1)).isoformat()),
                    c,
                ),
                *[
                    Cell(s.by_kind()[kind], "money", drill(f, "movement", kind=kind, month=key), c)
                    for kind in d.Movement.ALL
                ],
                Cell(s.end, "money", drill(f, "mrr", on=end_day.isoformat()), c),
                Cell(d.arr(s.end), "money", drill(f, "mrr", on=end_day.isoformat()), c),
            ]
        )
    labels = [_month(m.month) for m in report.months]
    chart = {
        "type": "bar",
        "stacked": True,
        "labels": labels,
        "datasets": [
            {
                "label": d.Movement.LABELS[kind],
                "data": [_num(m.summary.by_kind()[kind]) for m in report.months],
            }
            for kind in d.Movement.ALL
        ],
    }
    columns = ["Month", "MRR at start", *d.Movement.LABELS.values(), "MRR at end", "ARR"]
    return Table("mrr_movements", f"MRR movements by month ({c})", columns, rows, chart)


def arr_trend(report: q.RevenueReport) -> Table:
    f, c = report.filters, report.currency
    rows = [
        [
            Cell(_month(m.month)),
            Cell(
                d.arr(m.summary.end),
                "money",
                drill(f, "mrr", on=min(d.month_end(m.month), f.as_of).isoformat()),
                c,
            ),
            Cell(d.recurring_revenue_rate(m.summary.start, m.summary.end), "percent"),
        ]
        for m in report.months
    ]
    chart = {
        "type": "line",
        "labels": [_month(m.month) for m in report.months],
        "datasets": [
            {"label": f"ARR ({c})", "data": [_num(d.arr(m.summary.end)) for m in report.months]}
        ],
    }
    return Table(
        "arr_trend",
        f"ARR at each month's end ({c})",
        ["Month", "ARR", "Month's recurring revenue rate"],
        rows,
        chart,
    )


def retention_table(report: q.RevenueReport) -> Table:
    r, f = report.retention, report.filters
    rows = [
        [
            Cell("Customers paying at the start"),
            Cell(
                r.customers_at_start,
                "int",
                drill(f, "mrr", on=(f.period.start - dt.timedelta(days=1)).isoformat()),
            ),
        ],
        [
            Cell("Still paying at the end"),
            Cell(r.customers_retained, "int", drill(f, "mrr", on=f.as_of.isoformat())),
        ],
        [Cell("Customer retention"), Cell(r.customer_retention, "percent")],
        [Cell("Net revenue retention"), Cell(r.net_revenue_retention, "percent")],
        [Cell("Gross revenue retention"), Cell(r.gross_revenue_retention, "percent")],
        [
            Cell("Contracts due for renewal"),
            Cell(len(report.renewals_due), "int", drill(f, "renewals")),
        ],
        [Cell("Renewed"), Cell(report.renewed, "int", drill(f, "renewals", renewed="yes"))],
        [Cell("Renewal rate"), Cell(report.renewal_rate, "percent", drill(f, "renewals"))],
    ]
    rates = [
        r.customer_retention,
        r.net_revenue_retention,
        r.gross_revenue_retention,
        report.renewal_rate,
    ]
    chart = {
        "type": "bar",
        "labels": ["Customer retention", "NRR", "GRR", "Renewal rate"],
        "datasets": [{"label": "%", "data": [_num(x) for x in rates]}],
    }
    return Table(
        "retention", f"Renewal and retention, {f.period.label}", ["Figure", "Value"], rows, chart
    )


# --- Support ---------------------------------------------------------------------------------


def _hours(stats: d.DurationStats) -> list[Cell]:
    return [
        Cell(stats.median_hours, "hours"),
        Cell(stats.average_hours, "hours"),
        Cell(stats.count, "int"),
    ]


def support_summary(report: q.SupportReport) -> Table:
    f, total = report.filters, report.csat_total
    cost, currency = report.cost_per_incident
    rows = [
        [Cell("Cases opened"), Cell(report.opened, "int", drill(f, "opened"))],
        [Cell("Cases resolved"), Cell(report.resolved, "int", drill(f, "resolved"))],
        [
            Cell("Reopen rate"),
            Cell(report.reopen_rate, "percent", drill(f, "resolved", reopened="yes")),
        ],
        [
            Cell("First response, median business hours"),
            Cell(report.durations.first_response.median_hours, "hours", drill(f, "opened")),
        ],
        [
            Cell("Resolution, median business hours"),
            Cell(report.durations.resolution.median_hours, "hours", drill(f, "opened")),
        ],
        [Cell("CSAT (% good)"), Cell(total.satisfied, "percent", drill(f, "csat"))],
        [
            Cell("Agent utilization (billable ÷ logged)"),
            Cell(report.utilization, "percent", drill(f, "time")),
        ],
        [Cell("Cost per incident"), Cell(cost, "money", drill(f, "time"), currency)],
    ]
    return Table("support_summary", f"Support, {f.period.label}", ["Figure", "Value"], rows)


def durations_table(report: q.SupportReport) -> Table:
    rows = [
        [Cell("First response"), *_hours(report.durations.first_response)],
        [Cell("Resolution"), *_hours(report.durations.resolution)],
    ]
    note = "Of the period's 10,000 most recent cases." if report.durations.sampled else ""
    columns = ["Time", "Median (business h)", "Average (business h)", "Cases"]
    return Table("durations", "Response and resolution times", columns, rows, note=note)


def sla_table(report: q.SupportReport) -> Table:
    f, rows, rates = report.filters, [], []
    for kind, label in ClockKind.choices:
        met, missed = report.sla[kind]
        rate = d.sla_attainment(met=met, missed=missed)
        rates.append(_num(rate))
        rows.append(
            [
                Cell(label),
                Cell(met, "int", drill(f, "sla", kind=kind, outcome="met")),
                Cell(missed, "int", drill(f, "sla", kind=kind, outcome="missed")),
                Cell(rate, "percent"),
            ]
        )
    chart = {
        "type": "bar",
        "labels": [label for _, label in ClockKind.choices],
        "datasets": [{"label": "SLA attainment %", "data": rates}],
    }
    return Table(
        "sla", "SLA attainment by target", ["Target", "Met", "Missed", "Attainment"], rows, chart
    )


def backlog_table(report: q.SupportReport) -> Table:
    f = report.filters
    rows = [
        [Cell(bucket.label), Cell(count, "int", drill(f, "backlog", bucket=n))]
        for n, (bucket, count) in enumerate(report.backlog)
    ]
    chart = {
        "type": "bar",
        "labels": [bucket.label for bucket, _ in report.backlog],
        "datasets": [{"label": "Open cases", "data": [count for _, count in report.backlog]}],
    }
    return Table("backlog", "Open backlog by age (now)", ["Age", "Open cases"], rows, chart)


def demand_table(report: q.SupportReport, dimension: str) -> Table:
    f, label = report.filters, q.DIMENSIONS[dimension][0]
    shares = report.demand[dimension]
    rows = [
        [
            Cell(share.label),
            Cell(share.count, "int", drill(f, "demand", dimension=dimension, value=share.key)),
            Cell(share.share, "percent"),
        ]
        for share in shares
    ]
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [share.label for share in shares],
        "datasets": [{"label": "Cases", "data": [share.count for share in shares]}],
    }
    title = f"Demand by {label.lower()} (cases opened)"
    return Table(f"demand_{dimension}", title, [label, "Cases", "Share"], rows, chart)


def csat_table(report: q.SupportReport) -> Table:
    f, rows = report.filters, []
    for month, csat in report.csat:
        key = _month(month)
        rows.append(
            [
                Cell(key),
                Cell(csat.good, "int", drill(f, "csat", month=key, rating="good")),
                Cell(csat.neutral, "int", drill(f, "csat", month=key, rating="neutral")),
                Cell(csat.bad, "int", drill(f, "csat", month=key, rating="bad")),
                Cell(csat.satisfied, "percent"),
            ]
        )
    chart = {
        "type": "line",
        "labels": [_month(month) for month, _ in report.csat],
        "datasets": [{"label": "% good", "data": [_num(c.satisfied) for _, c in report.csat]}],
    }
    return Table(
        "csat", "CSAT by month", ["Month", "Good", "Neutral", "Bad", "% good"], rows, chart
    )


def time_table(report: q.SupportReport) -> Table:
    f = report.filters
    rows = [
        [
            Cell(row["agent__full_name"]),
            Cell(row["logged"] or 0, "minutes", drill(f, "time", agent=row["agent_id"])),
            Cell(
                row["billable"] or 0,
                "minutes",
                drill(f, "time", agent=row["agent_id"], billable="yes"),
            ),
            Cell(
                d.utilization(
                    billable_minutes=row["billable"] or 0, logged_minutes=row["logged"] or 0
                ),
                "percent",
            ),
        ]
        for row in report.time
    ]
    return Table(
        "time",
        "Logged time and utilization",
        ["Agent", "Logged (h:mm)", "Billable (h:mm)", "Utilization"],
        rows,
    )


# --- One agent ---------------------------------------------------------------------------------


def _queue_link(report: q.AgentReport, status: str) -> str:
    """The console queue showing exactly the cases counted (the filters it knows)."""
    f = report.filters
    query: dict[str, str | int] = {"view": "active", "assignee": report.agent_id, "status": status}
    for name, value in (
        ("product", f.product),
        ("organization", f.organization),
        ("queue", f.team),
    ):
        if value:
            query[name] = value
    return f"{reverse('console:case_queue')}?{urlencode(query)}"


def agent_queue_table(report: q.AgentReport) -> Table:
    rows = [
        [Cell(CaseStatus(status).label), Cell(n, "int", _queue_link(report, status))]
        for status, n in report.queue
    ]
    rows.append([Cell("All open"), Cell(report.open_cases, "int")])
    return Table("agent_queue", "Open cases assigned, by status", ["Status", "Cases"], rows)


def _due_in(clock: SlaClock, now: dt.datetime) -> str:
    assert clock.due_at is not None  # noqa: S101 - the query asks for a due time
    minutes = int((clock.due_at - now).total_seconds() // 60)
    if minutes < 0:
        return f"breached {-minutes // 60} h {-minutes % 60:02d} min ago"
    return f"due in {minutes // 60} h {minutes % 60:02d} min"


def agent_risk_table(report: q.AgentReport) -> Table:
    hours = int(q.RISK_WINDOW.total_seconds() // 3600)
    rows = [
        [
            Cell(
                clock.case.reference, href=reverse("console:case_page", args=[clock.case.public_id])
            ),
            Cell(clock.case.subject),
            Cell(ClockKind(clock.kind).label),
            Cell(
                timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M")
                if clock.due_at
                else None
            ),
            Cell(_due_in(clock, report.now)),
        ]
        for clock in report.at_risk
    ]
    return Table(
        "agent_sla_risk",
        f"SLA at risk: breached or due within {hours} hours",
        ["Case", "Subject", "Clock", "Due", "State"],
        rows,
        note="" if rows else "Nothing at risk.",
    )


def agent_time_table(report: q.AgentReport) -> Table:
    f = report.filters
    link = functools.partial(drill, f, "time", agent=report.agent_id)
    rows = [
        [
            Cell(f"Week of {week['week']:%Y-%m-%d}"),
            Cell(week["logged"], "minutes"),
            Cell(week["billable"], "minutes"),
            Cell(
                d.utilization(billable_minutes=week["billable"], logged_minutes=week["logged"]),
                "percent",
            ),
        ]
        for week in report.weeks
    ]
    rows.append(
        [
            Cell("Period"),
            Cell(report.logged_minutes, "minutes", link()),
            Cell(report.billable_minutes, "minutes", link(billable="yes")),
            Cell(
                d.utilization(
                    billable_minutes=report.billable_minutes, logged_minutes=report.logged_minutes
                ),
                "percent",
            ),
        ]
    )
    chart = {
        "type": "bar",
        "labels": [f"{week['week']:%Y-%m-%d}" for week in report.weeks],
        "datasets": [
            {"label": "Logged (hours)", "data": [round(w["logged"] / 60, 2) for w in report.weeks]},
            {
                "label": "Billable (hours)",
                "data": [round(w["billable"] / 60, 2) for w in report.weeks],
            },
        ],
    }
    return Table(
        "agent_time",
        "Logged time and utilization, per week",
        ["Week", "Logged (h:mm)", "Billable (h:mm)", "Utilization"],
        rows,
        chart if report.weeks else None,
    )


def agent_tables(report: q.AgentReport) -> list[Table]:
    return [agent_queue_table(report), agent_risk_table(report), agent_time_table(report)]


AGENT_TABLES = ("agent_queue", "agent_sla_risk", "agent_time")


# --- Pages -----------------------------------------------------------------------------------


def revenue_tables(report: q.RevenueReport) -> list[Table]:
    return [revenue_summary(report), mrr_months(report), arr_trend(report), retention_table(report)]


def support_tables(report: q.SupportReport) -> list[Table]:
    demand = [demand_table(report, dimension) for dimension in report.demand]
    return [
        support_summary(report),
        sla_table(report),
        backlog_table(report),
        *demand,
        csat_table(report),
        durations_table(report),
        time_table(report),
    ]


REVENUE_TABLES = ("revenue_summary", "mrr_movements", "arr_trend", "retention")
