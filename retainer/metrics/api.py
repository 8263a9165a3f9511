"""The metrics API: the dashboards' figures as JSON, with the dashboards' filters
(``GET /api/v1/metrics/revenue/``, ``GET /api/v1/metrics/support/``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import customer_contact, is_vendor_staff, request_user
from retainer.accounts.models import Organization
from retainer.lib.errors import NotPermitted
from retainer.metrics import checks, queries
from retainer.metrics.definitions import arr
from retainer.metrics.forms import FilterForm
from retainer.metrics.serializers import HealthOut, RevenueOut, SupportOut

FILTER_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, description="2026, 2026-Q1, 2026-03 or 12m (default)."
    ),
    OpenApiParameter("product", OpenApiTypes.INT, description="A product id."),
    OpenApiParameter(
        "team", OpenApiTypes.INT, description="A team id (the case's queue; support figures)."
    ),
    OpenApiParameter("tier", OpenApiTypes.STR, description="basic, silver, gold or platinum."),
    OpenApiParameter("organization", OpenApiTypes.INT, description="An organization id."),
    OpenApiParameter("currency", OpenApiTypes.STR, description="ISO 4217; default: the most used."),
]


def filters_from(request: Request) -> queries.Filters:
    form = FilterForm(request.query_params, choices=False)
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return form.filters()


def _period(filters: queries.Filters) -> dict[str, Any]:
    p = filters.period
    return {"key": p.key, "name": p.label, "start": p.start, "end": p.end, "as_of": filters.as_of}


def revenue_data(report: queries.RevenueReport) -> dict[str, Any]:
    s, r = report.summary, report.retention
    return {
        "period": _period(report.filters),
        "currency": report.currency,
        "currencies": report.currencies,
        "mrr_start": s.start,
        "movements": s.by_kind(),
        "added": s.added,
        "lost": s.lost,
        "mrr_end": s.end,
        "arr_end": arr(s.end),
        "recurring_revenue_rate": report.recurring_revenue_rate,
        "net_revenue_retention": r.net_revenue_retention,
        "gross_revenue_retention": r.gross_revenue_retention,
        "customer_retention": r.customer_retention,
        "customers_at_start": r.customers_at_start,
        "customers_retained": r.customers_retained,
        "renewals_due": len(report.renewals_due),
        "renewals_renewed": report.renewed,
        "renewal_rate": report.renewal_rate,
        "overage_revenue": report.usage.overage,
        "payg_revenue": report.usage.payg,
        "months": [
            {
                "month": f"{m.month:%Y-%m}",
                "mrr_start": m.summary.start,
                **m.summary.by_kind(),
                "mrr_end": m.summary.end,
                "arr_end": arr(m.summary.end),
            }
            for m in report.months
        ],
    }


def support_data(report: queries.SupportReport) -> dict[str, Any]:
    from retainer.metrics.definitions import sla_attainment

    durations = report.durations
    cost, currency = report.cost_per_incident
    return {
        "period": _period(report.filters),
        "cases_opened": report.opened,
        "cases_resolved": report.resolved,
        "cases_reopened": report.reopened,
        "reopen_rate": report.reopen_rate,
        "first_response": vars(durations.first_response),
        "resolution": vars(durations.resolution),
        "sla": [
            {
                "kind": kind,
                "met": met,
                "missed": missed,
                "attainment": sla_attainment(met=met, missed=missed),
            }
            for kind, (met, missed) in report.sla.items()
        ],
        "backlog": [
            {"name": b.label, "from_days": b.from_days, "to_days": b.to_days, "open_cases": n}
            for b, n in report.backlog
        ],
        "demand": {
            key: [
                {"key": x.key, "name": x.label, "count": x.count, "share": x.share} for x in shares
            ]
            for key, shares in report.demand.items()
        },
        "csat_satisfied": report.csat_total.satisfied,
        "csat_months": [
            {
                "month": f"{month:%Y-%m}",
                "good": c.good,
                "neutral": c.neutral,
                "bad": c.bad,
                "satisfied": c.satisfied,
            }
            for month, c in report.csat
        ],
        "logged_minutes": report.logged_minutes,
        "billable_minutes": report.billable_minutes,
        "utilization": report.utilization,
        "cost_per_incident": cost,
        "cost_currency": currency,
    }


class MetricsRevenue(APIView):
    """MRR and ARR with their movements by month, recurring revenue rate, retention
    (customers, NRR, GRR), renewals and invoiced usage of a period."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=RevenueOut)
    def get(self, request: Request) -> Response:
        checks.authorize_view_revenue(request_user(request))
        report = queries.revenue_report(filters_from(request))
        return Response(RevenueOut(revenue_data(report)).data)


class MetricsSupport(APIView):
    """Support figures of a period: demand, backlog, SLA attainment, response and
    resolution times, reopen rate, CSAT, utilization and cost per incident."""

    @extend_schema(parameters=FILTER_PARAMETERS, responses=SupportOut)
    def get(self, request: Request) -> Response:
        checks.authorize_view_support(request_user(request))
        report = queries.support_report(filters_from(request))
        return Response(SupportOut(support_data(report)).data)


def health_data(health: queries.OrganizationHealth) -> dict[str, Any]:
    return {
        "organization": health.organization_id,
        "as_of": health.today,
        "months": [f"{month:%Y-%m}" for month in health.months],
        "balances": [
            {"contract": t.contract_id, "name": t.name, "unit": t.unit, "balances": t.balances}
            for t in health.balances
        ],
        "cases_opened": health.opened,
        "open_cases": health.open_now,
        "csat": {
            "good": health.csat.good,
            "neutral": health.csat.neutral,
            "bad": health.csat.bad,
            "satisfied": health.csat.satisfied,
        },
        "next_renewal": health.next_renewal,
        "days_to_renewal": health.days_to_renewal,
        "logged_minutes": health.logged_minutes,
        "cost_per_hour": health.cost_per_hour,
        "cost_currency": health.cost_currency,
        "profitability": [
            {
                "currency": p.currency,
                "revenue": p.revenue,
                "cost": p.cost,
                "profit": p.profit,
                "margin": p.margin,
            }
            for p in health.profit
        ],
    }


class MetricsOrganizationHealth(APIView):
    """One organization's health: balance trend of its active contracts, cases opened per
    month and open now, CSAT and profitability over the last twelve months, next renewal.
    Staff with the support metrics permission: any organization; a customer admin: their
    own organization only (another is a 404)."""

    @extend_schema(responses=HealthOut)
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        if is_vendor_staff(user):
            checks.authorize_view_support(user)
            get_object_or_404(Organization, pk=pk)
        else:
            contact = customer_contact(user)
            if contact is None:
                raise NotPermitted("permission_denied", "You do not have permission to do this.")
            checks.authorize_view_own_health(contact)
            if contact.organization_id != pk:
                raise Http404
        health = queries.organization_health(pk, timezone.localdate())
        return Response(HealthOut(health_data(health)).data)
