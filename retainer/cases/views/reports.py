"""Console pages that look across every queue: search, the CSAT results and the manager's
team overview. Reads only: parse → selector or report → render."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.cases import reports, selectors

#: Who sees the team overview: those who manage teams (managers and admins).
TEAM_OVERVIEW = "accounts.change_team"
#: The longest query a search takes, in characters.
MAX_QUERY = 200


@require_safe
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """Cases, organizations and contacts matching ``q`` (``selectors.search_everything``)."""
    q = request.GET.get("q", "")[:MAX_QUERY]
    results = selectors.search_everything(user=request_user(request), q=q)
    return render(
        request,
        "console/search.html",
        {"results": results, "q": results.query, "limit": selectors.SEARCH_LIMIT},
    )


@require_safe
@staff_required
def csat_report(request: HttpRequest) -> HttpResponse:
    """Survey answers per agent and per organization over a period (``?period=30d``)."""
    period = request.GET.get("period", reports.DEFAULT_PERIOD)
    period = period if period in reports.CSAT_PERIODS else reports.DEFAULT_PERIOD
    since = timezone.now() - dt.timedelta(days=reports.CSAT_PERIODS[period][1])
    context = {
        "report": reports.csat_report(since=since),
        "period": period,
        "periods": reports.CSAT_PERIODS,
    }
    return render(request, "console/csat_report.html", context)


@require_safe
@staff_required
def team_overview(request: HttpRequest) -> HttpResponse:
    """The team's load: per agent open, breaching-soon and overdue cases and time logged
    this week; the unassigned cases and the backlog by age. Managers and admins only."""
    if not request_user(request).has_perm(TEAM_OVERVIEW):
        raise PermissionDenied
    return render(request, "console/team_overview.html", {"team": reports.team_overview()})
