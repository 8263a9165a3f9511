"""The dashboards in the console: overview, revenue, support, drill-down and exports.

Read-only pages (``@require_safe``) for staff holding the metrics permissions
(``checks``); the filters come from a GET form. Each page runs a fixed number of
queries, whatever the data (pinned by the tests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from retainer.accounts.access import request_user
from retainer.accounts.models import Organization, User
from retainer.accounts.selectors import staff_people
from retainer.accounts.views import contact_required, staff_required
from retainer.lib.errors import DomainError, NotPermitted
from retainer.metrics import checks, drill, exports, queries, tables
from retainer.metrics.forms import FilterForm

View = Callable[..., HttpResponse]


def _authorize(request: HttpRequest, authorize: Callable[[User | None], None]) -> None:
    try:
        authorize(request_user(request))
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def authorized(authorize: Callable[[User | None], None]) -> Callable[[View], View]:
    """Staff only (others get ``staff_required``'s 404), then the page's permission."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            _authorize(request, authorize)
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorate


def _filters(request: HttpRequest) -> tuple[FilterForm, queries.Filters | None]:
    form = FilterForm(request.GET)
    return form, (form.filters() if form.is_valid() else None)


def _page(
    request: HttpRequest,
    template: str,
    form: FilterForm,
    filters: queries.Filters | None,
    sections: list[tables.Table],
    export_extra: dict[str, Any] | None = None,
    **context: Any,
) -> HttpResponse:
    for table in sections:
        if filters is not None:
            tables.with_exports(table, filters, **(export_extra or {}))
    organization = None
    if filters is not None and filters.organization:
        organization = Organization.objects.filter(pk=filters.organization).first()
    return render(
        request,
        template,
        {
            "form": form,
            "filters": filters,
            "organization": organization,
            "sections": sections,
            "query": filters.params() if filters else {},
            **context,
        },
        status=200 if filters is not None else 400,
    )


@require_safe
@authorized(checks.authorize_view_overview)
def overview(request: HttpRequest) -> HttpResponse:
    """Support and revenue on one page: the summaries, the MRR movements, SLA, backlog
    and demand by root cause."""
    form, filters = _filters(request)
    sections: list[tables.Table] = []
    if filters is not None:
        revenue = queries.revenue_report(filters)
        support = queries.support_report(filters, dimensions=("root_cause",))
        sections = [
            tables.revenue_summary(revenue),
            tables.support_summary(support),
            tables.mrr_months(revenue),
            tables.sla_table(support),
            tables.backlog_table(support),
            tables.demand_table(support, "root_cause"),
        ]
    return _page(request, "metrics/dashboard.html", form, filters, sections, title="Overview")


@require_safe
@authorized(checks.authorize_view_revenue)
def revenue(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    sections = tables.revenue_tables(queries.revenue_report(filters)) if filters else []
    return _page(request, "metrics/dashboard.html", form, filters, sections, title="Revenue")


@require_safe
@authorized(checks.authorize_view_support)
def support(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    sections = tables.support_tables(queries.support_report(filters)) if filters else []
    return _page(request, "metrics/dashboard.html", form, filters, sections, title="Support")


def _authorize_figure(request: HttpRequest, figure: str) -> None:
    if figure in tables.AGENT_TABLES or (figure == "time" and "agent" in request.GET):
        # An agent's own figures (and the time entries behind them): their page's rule.
        _authorize(request, lambda actor: checks.authorize_view_agent(actor, _agent_id(request)))
        return
    revenue = figure in drill.REVENUE_FIGURES or figure in tables.REVENUE_TABLES
    _authorize(request, checks.authorize_view_revenue if revenue else checks.authorize_view_support)


def _agent_id(request: HttpRequest) -> int:
    """The agent a page or an export is about: ``?agent=`` or the signed-in person."""
    raw = request.GET.get("agent") or ""
    if not raw:
        return int(request.user.pk or 0)  # staff_required: a signed-in person
    if not raw.isdigit() or len(raw) > 12:
        raise Http404("No such agent.")
    return int(raw)


def _agent_choices(request: HttpRequest) -> list[User]:
    """Whose page one may pick: every agent for those who read support figures."""
    try:
        checks.authorize_view_support(request_user(request))
    except NotPermitted:
        return []
    return list(staff_people().order_by("full_name", "pk"))


@require_safe
@staff_required
def agent(request: HttpRequest) -> HttpResponse:
    """One agent's work (their own by default; another's with ``?agent=`` for those who
    read support figures): open cases by status, SLA clocks at risk, logged time."""
    agent_id = _agent_id(request)
    _authorize(request, lambda actor: checks.authorize_view_agent(actor, agent_id))
    person = User.objects.filter(pk=agent_id, is_staff=True).first()
    if person is None:
        raise Http404("No such agent.")
    form, filters = _filters(request)
    sections: list[tables.Table] = []
    if filters is not None:
        report = queries.agent_report(filters, agent_id, timezone.now())
        sections = tables.agent_tables(report)
    title = "My work" if agent_id == request.user.pk else f"Work of {person.full_name}"
    return _page(
        request, "metrics/dashboard.html", form, filters, sections,
        title=title, agent=person, export_extra={"agent": agent_id},
        agent_choices=_agent_choices(request),
    )  # fmt: skip


@require_safe
@staff_required
def drill_down(request: HttpRequest) -> HttpResponse:
    """The rows behind one number (``?figure=…`` and its parameters, with the filters)."""
    figure = request.GET.get("figure") or drill.DEFAULT_FIGURE
    _authorize_figure(request, figure)
    form, filters = _filters(request)
    if filters is None:
        return _page(request, "metrics/drill_down.html", form, None, [], title="Rows behind")
    try:
        table = drill.rows_behind(figure, request.GET, filters)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    return _page(
        request,
        "metrics/drill_down.html",
        form,
        filters,
        [],
        title=table.title,
        table=table,
        limit=drill.LIMIT,
        figure_params=_figure_params(request),
    )


def _figure_params(request: HttpRequest) -> list[tuple[str, str]]:
    """The drill-down's own parameters, kept when its filters change."""
    return [(k, str(v)) for k, v in request.GET.items() if k not in FilterForm.base_fields]


def table_for(
    key: str, filters: queries.Filters, *, agent_id: int | None = None
) -> tables.Table | None:
    """One dashboard table by its key (``None`` for an unknown key)."""
    if key in tables.AGENT_TABLES and agent_id is not None:
        found = tables.agent_tables(queries.agent_report(filters, agent_id, timezone.now()))
    elif key in tables.REVENUE_TABLES:
        found = tables.revenue_tables(queries.revenue_report(filters))
    elif key.startswith("demand_") and key[7:] in queries.DIMENSIONS:
        return tables.demand_table(queries.support_report(filters, dimensions=(key[7:],)), key[7:])
    else:
        found = tables.support_tables(queries.support_report(filters))
    return next((table for table in found if table.key == key), None)


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    key = request.GET.get("table") or "mrr_movements"
    _authorize_figure(request, key)
    _, filters = _filters(request)
    agent_id = _agent_id(request) if key in tables.AGENT_TABLES else None
    table = table_for(key, filters, agent_id=agent_id) if filters is not None else None
    if table is None:
        raise Http404("No such table.")
    if kind == "csv":
        body, content_type = exports.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, content_type = exports.to_xlsx(table), exports.XLSX_CONTENT_TYPE
    response = HttpResponse(body, content_type=content_type)
    name = f"{table.key}-{filters.period.key if filters else ''}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_safe
@staff_required
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@require_safe
@staff_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


def _health_context(organization: Organization, *, drill: bool) -> dict[str, Any]:
    health = queries.organization_health(organization.pk, timezone.localdate())
    return {
        "organization": organization,
        "health": health,
        "opened": list(zip(health.months, health.opened, strict=True)),
        "drill": reverse("metrics:drill_down") if drill else "",
    }


@require_safe
@authorized(checks.authorize_view_support)
def organization_health(request: HttpRequest, pk: int) -> HttpResponse:
    """One organization's health card (the partial for Organization 360's ``hx-get``;
    the full page otherwise)."""
    organization = get_object_or_404(Organization, pk=pk)
    context = _health_context(organization, drill=True)
    if request.headers.get("HX-Request"):
        return render(request, "metrics/partials/organization_health.html", context)
    back = reverse("console:organization_detail", args=[organization.pk])
    return render(request, "metrics/organization_health.html", {**context, "back": back})


@require_safe
@contact_required
def portal_health(request: HttpRequest) -> HttpResponse:
    """The signed-in customer admin's own organization's health."""
    contact = request.contact  # type: ignore[attr-defined]
    try:
        checks.authorize_view_own_health(contact)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    return render(
        request,
        "metrics/organization_health.html",
        _health_context(contact.organization, drill=False),
    )
