"""Drill-down: the rows behind a number on a dashboard, with the dashboard's filters.

``rows_behind(figure, params, filters)`` answers a ``Table`` of at most ``LIMIT`` rows and
the number of rows there are. Revenue figures (``REVENUE_FIGURES``) list contracts,
movements and invoice lines; the others list cases or time entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from retainer.cases.models import Case, CsatResponse, TimeEntry
from retainer.lib.errors import InvalidInput
from retainer.metrics import definitions as d
from retainer.metrics import queries as q
from retainer.metrics.tables import Cell, Table

LIMIT = 200
REVENUE_FIGURES = frozenset({"mrr", "movement", "renewals", "usage"})
SUPPORT_FIGURES = frozenset({"opened", "resolved", "backlog", "sla", "demand", "csat", "time"})
FIGURES = REVENUE_FIGURES | SUPPORT_FIGURES
DEFAULT_FIGURE = "backlog"


def _bad(name: str) -> InvalidInput:
    return InvalidInput("invalid_drill_down", f"The parameter “{name}” is missing or not valid.")


def _date(params: Mapping[str, str], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(params.get(name, ""))
    except ValueError:
        raise _bad(name) from None


def _contract_cells(row: q.ContractRow, mrr: d.RecurringContract, currency: str) -> list[Cell]:
    return [
        Cell(row.name, href=reverse("contracts:contract_detail", args=[row.pk])),
        Cell(row.customer, href=reverse("console:organization_detail", args=[row.customer_id])),
        Cell(mrr.mrr, "money", currency=currency),
        Cell(row.start.isoformat()),
        Cell(row.last_day.isoformat() if row.last_day else "open"),
    ]


def _revenue(figure: str, params: Mapping[str, str], filters: q.Filters) -> Table:
    report = q.revenue_report(filters)
    c = report.currency
    pairs = list(zip(report.contracts, report.recurring, strict=True))
    columns = ["Contract", "Customer", "MRR", "Start", "Counts until"]
    if figure == "mrr":
        on = _date(params, "on")
        rows = [_contract_cells(row, mrr, c) for row, mrr in pairs if mrr.active_on(on)]
        return Table("mrr", f"Recurring contracts on {on.isoformat()} ({c})", columns, rows)
    if figure == "renewals":
        due = [
            (row, mrr)
            for row, mrr in pairs
            if row in report.renewals_due and (params.get("renewed") != "yes" or row.renewed)
        ]
        rows = [
            [*_contract_cells(row, mrr, c), Cell("yes" if row.renewed else "no")]
            for row, mrr in due
        ]
        return Table(
            "renewals",
            f"Contracts due for renewal, {filters.period.label}",
            [*columns, "Renewed"],
            rows,
        )
    if figure == "usage":
        return _usage(params, filters, c)
    return _movements(params, report, pairs)


def _movements(
    params: Mapping[str, str],
    report: q.RevenueReport,
    pairs: list[tuple[q.ContractRow, d.RecurringContract]],
) -> Table:
    kind, month = params.get("kind", ""), params.get("month", "")
    if kind not in d.Movement.ALL:
        raise _bad("kind")
    moved = [
        m for m in report.movements if m.kind == kind and (not month or f"{m.month:%Y-%m}" == month)
    ]
    rows = []
    for m in moved:
        before, after = (
            m.month - dt.timedelta(days=1),
            min(d.month_end(m.month), report.filters.as_of),
        )
        behind = [
            (row, mrr)
            for row, mrr in pairs
            if row.customer_id == m.customer_id and (mrr.active_on(before) or mrr.active_on(after))
        ]
        customer = behind[0][0] if behind else None
        rows.append(
            [
                Cell(f"{m.month:%Y-%m}"),
                Cell(
                    customer.customer if customer else m.customer_id,
                    href=reverse("console:organization_detail", args=[m.customer_id]),
                ),
                Cell(m.before, "money", currency=report.currency),
                Cell(m.after, "money", currency=report.currency),
                Cell(m.amount, "money", currency=report.currency),
                Cell(", ".join(f"{row.name} ({mrr.mrr}/month)" for row, mrr in behind)),
            ]
        )
    title = (
        f"{d.Movement.LABELS[kind]} MRR, {month or report.filters.period.label} ({report.currency})"
    )
    columns = ["Month", "Customer", "MRR before", "MRR after", "Movement", "Contracts behind it"]
    return Table("movement", title, columns, rows)


def _usage(params: Mapping[str, str], filters: q.Filters, currency: str) -> Table:
    kind = params.get("kind", "")
    if kind not in ("overage", "payg"):
        raise _bad("kind")
    lines = (
        q.usage_lines(filters, currency)
        .filter(kind=kind)
        .select_related("invoice__organization")
        .order_by("-invoice__issued_at", "pk")[:LIMIT]
    )
    rows = [
        [
            Cell(
                line.invoice.number or "draft",
                href=reverse("billing:invoice_detail", args=[line.invoice_id]),
            ),
            Cell(line.invoice.organization.name),
            Cell(line.description),
            Cell(line.amount, "money", currency=currency),
        ]
        for line in lines
    ]
    label = "Overage" if kind == "overage" else "Pay-as-you-go"
    return Table(
        "usage",
        f"{label} invoice lines, {filters.period.label}",
        ["Invoice", "Customer", "Line", "Amount"],
        rows,
    )


def _case_rows(cases: QuerySet[Case]) -> list[list[Cell]]:
    return [
        [
            Cell(case.reference, href=reverse("console:case_page", args=[case.public_id])),
            Cell(case.subject),
            Cell(case.organization.name),
            Cell(case.get_status_display()),
            Cell(timezone.localtime(case.created_at).strftime("%Y-%m-%d %H:%M")),
        ]
        for case in cases.select_related("organization").order_by("-created_at", "-pk")[:LIMIT]
    ]


CASE_COLUMNS = ["Case", "Subject", "Customer", "Status", "Opened"]


def _cases(
    figure: str, params: Mapping[str, str], filters: q.Filters
) -> tuple[str, QuerySet[Case]]:
    label = filters.period.label
    if figure == "opened":
        return f"Cases opened, {label}", q.opened_in_period(filters)
    if figure == "resolved":
        cases = q.resolved_in_period(filters)
        if params.get("reopened") == "yes":
            return f"Resolved cases that were reopened, {label}", cases.filter(q.REOPENED)
        return f"Cases resolved, {label}", cases
    if figure == "backlog":
        try:
            bucket = int(params.get("bucket", "0"))
            q.BUCKETS[bucket]
        except (ValueError, IndexError):
            raise _bad("bucket") from None
        title = f"Open cases aged {q.BUCKETS[bucket].label.lower()}"
        return title, q.open_cases(filters).filter(q.bucket_filter(bucket, timezone.now()))
    if figure == "sla":
        outcome = {"met": q.MET, "missed": q.MISSED}.get(params.get("outcome", ""))
        if outcome is None:
            raise _bad("outcome")
        clocks = q.clocks_decided(filters).filter(outcome, kind=params.get("kind", ""))
        target = params.get("kind", "").replace("_", " ")
        title = f"Cases whose {target} target was {params['outcome']}, {label}"
        return title, Case.objects.filter(pk__in=clocks.values("case_id"))
    if figure == "demand":
        dimension = params.get("dimension", "")
        if dimension not in q.DIMENSIONS:
            raise _bad("dimension")
        field, value = q.DIMENSIONS[dimension][1], params.get("value", "")
        match = (
            Q(**{f"{field}__isnull": True}) | Q(**{field: ""}) if not value else Q(**{field: value})
        )
        if not value and field.endswith("_id"):
            match = Q(**{f"{field}__isnull": True})
        return f"Cases opened by {dimension.replace('_', ' ')}, {label}", q.opened_in_period(
            filters
        ).filter(match)
    return _csat_cases(params, filters)


def _csat_cases(params: Mapping[str, str], filters: q.Filters) -> tuple[str, QuerySet[Case]]:
    start, end = filters.bounds()
    answers = CsatResponse.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if month := params.get("month"):
        first = _date({"m": f"{month}-01"}, "m")
        zone = timezone.get_current_timezone()
        answers = answers.filter(
            answered_at__gte=dt.datetime.combine(first, dt.time.min, tzinfo=zone),
            answered_at__lte=dt.datetime.combine(d.month_end(first), dt.time.max, tzinfo=zone),
        )
    if rating := params.get("rating"):
        answers = answers.filter(rating=rating)
    cases = q.filtered_cases(filters).filter(pk__in=answers.values("case_id"))
    which = f" ({rating})" if rating else ""
    return f"Cases with a survey answer{which}, {month or filters.period.label}", cases


def _time(params: Mapping[str, str], filters: q.Filters) -> Table:
    entries = TimeEntry.objects.filter(
        is_deleted=False,
        work_date__gte=filters.period.start,
        work_date__lte=filters.period.end,
        case__in=q.filtered_cases(filters),
    )
    if agent := params.get("agent"):
        if not agent.isdigit():
            raise _bad("agent")
        entries = entries.filter(agent_id=int(agent))
    if params.get("billable") == "yes":
        entries = entries.filter(billable=True)
    rows = [
        [
            Cell(entry.work_date.isoformat()),
            Cell(entry.agent.full_name),
            Cell(
                entry.case.reference, href=reverse("console:case_page", args=[entry.case.public_id])
            ),
            Cell(entry.minutes, "minutes"),
            Cell("yes" if entry.billable else "no"),
            Cell(entry.note),
        ]
        for entry in entries.select_related("agent", "case").order_by("-work_date", "-pk")[:LIMIT]
    ]
    columns = ["Date", "Agent", "Case", "Time (h:mm)", "Billable", "Note"]
    return Table("time", f"Time logged, {filters.period.label}", columns, rows)


def rows_behind(figure: str, params: Mapping[str, Any], filters: q.Filters) -> Table:
    """The rows behind a figure (at most ``LIMIT``); ``InvalidInput`` for a parameter
    that names nothing."""
    if figure in REVENUE_FIGURES:
        return _revenue(figure, params, filters)
    if figure == "time":
        return _time(params, filters)
    if figure not in SUPPORT_FIGURES:
        raise _bad("figure")
    title, cases = _cases(figure, params, filters)
    return Table(figure, title, CASE_COLUMNS, _case_rows(cases))
