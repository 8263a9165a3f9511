"""The dashboards in the console: who sees them, a fixed number of queries, numbers that
drill down to their rows, and exports whose text cannot run as a formula."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.lib import outbox

pytestmark = pytest.mark.django_db

PAGES = ["metrics:overview", "metrics:revenue", "metrics:support"]


@pytest.fixture
def worked(cast, desk, incident_bank) -> list[Case]:
    """Three cases opened by Acme's contact: one answered, resolved (root cause defect),
    rated good, with a category that looks like a formula; two still open."""
    cases = [
        case_actions.check_open_case(
            cast.agent,
            contact=cast.contact,
            product=desk.product,
            release=desk.current,
            channel="web",
            subject=f"Posting fails {n}",
            description="Error 42.",
            severity=2,
        )
        for n in range(3)
    ]
    first = cases[0]
    case_actions.do_reply(first, author=cast.agent, body="Looking into it.")
    case_actions.check_update_case(cast.agent, first, category="=cmd|' /C calc'!A0")
    case_actions.do_transition_case(first, "resolved", actor=cast.agent, root_cause="defect")
    case_actions.do_answer_csat(first, rating="good", actor=None)
    case_actions.do_log_time(first, agent=cast.agent, minutes=90, billable=False, actor=cast.agent)
    outbox.dispatch()  # the support roll-ups follow the case events, as in production
    return cases


@pytest.mark.parametrize("name", PAGES)
def test_each_dashboard_renders_its_charts_and_tables_in_at_most_20_queries(
    cast, worked, name, django_assert_max_num_queries
):
    client = cast.client_for(cast.manager)
    with django_assert_max_num_queries(20):
        response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="chart-' in html and 'type="application/json"' in html
    assert "<script>" not in html.replace("<script src=", "")  # no inline script (CSP)


def test_the_support_page_shows_the_period_figures(cast, worked):
    html = cast.client_for(cast.manager).get(reverse("metrics:support")).content.decode()
    assert "Demand by root cause" in html and "Defect" in html
    assert "100.0 %" in html  # CSAT: the one answer is good


def test_the_backlog_bar_drills_down_to_the_open_cases(cast, worked):
    url = reverse("metrics:drill_down") + "?figure=backlog&bucket=0"
    html = cast.client_for(cast.manager).get(url).content.decode()
    assert worked[1].reference in html and worked[2].reference in html
    assert worked[0].reference not in html  # resolved: not in the backlog


def test_the_root_cause_drills_down_to_its_cases(cast, worked):
    url = reverse("metrics:drill_down") + "?figure=demand&dimension=root_cause&value=defect"
    html = cast.client_for(cast.manager).get(url).content.decode()
    assert worked[0].reference in html and worked[1].reference not in html


def test_an_unknown_drill_down_is_a_404(cast):
    url = reverse("metrics:drill_down") + "?figure=movement&kind=nonsense"
    assert cast.client_for(cast.manager).get(url).status_code == 404


def test_exports_neutralize_formulas_and_keep_numbers(cast, worked):
    client = cast.client_for(cast.manager)
    csv_body = client.get(reverse("metrics:export_csv"), {"table": "demand_category"})
    assert csv_body.status_code == 200
    text = csv_body.content.decode()
    assert "'=cmd|' /C calc'!A0" in text and "\n=cmd" not in text

    xlsx = client.get(reverse("metrics:export_xlsx"), {"table": "backlog"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows: list[Any] = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Age", "Open cases")
    assert rows[1] == ("Under a day", 2)


def test_roles_see_only_their_dashboards(cast):
    def status(who: Any, name: str) -> int:
        return cast.client_for(who).get(reverse(name)).status_code

    assert [status(cast.manager, n) for n in PAGES] == [200, 200, 200]
    assert [status(cast.billing, n) for n in PAGES] == [403, 200, 403]
    assert [status(cast.agent, n) for n in PAGES] == [403, 403, 403]
    assert [status(cast.customer_admin, n) for n in PAGES] == [404, 404, 404]


def test_a_bad_period_is_shown_beside_its_field(cast):
    response = cast.client_for(cast.manager).get(reverse("metrics:overview"), {"period": "soon"})
    assert response.status_code == 400
    assert "Use a year" in response.content.decode()
