"""The health score: the documented worked example line by line, components without data
left out with the weights renormalized, the inputs read with a fixed number of queries,
and the list and API for staff only."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from retainer.accounts import actions as account_actions
from retainer.success.health import HealthInputs, health
from retainer.success.selectors import health_for_organizations
from retainer.success.tests.world import acme_license, acme_plan


def test_the_worked_example_of_the_docs():
    result = health(
        HealthInputs(
            adoption_pct=Decimal("80.0"),
            realization_pct=Decimal("50.0"),
            csat_good=3,
            csat_answered=4,
            cases_recent=6,
            cases_year=12,
            days_to_renewal=45,
        )
    )
    points = {line.key: line.points for line in result.lines}
    assert points == {
        "adoption": Decimal("80.0"),
        "realization": Decimal("50.0"),
        "csat": Decimal("75.0"),
        "demand": Decimal("0.0"),
        "renewal": Decimal("50.0"),
    }
    assert [line.weight for line in result.lines] == [25, 25, 20, 15, 15]
    assert result.score == 55 and result.flagged is True


def test_components_without_data_are_left_out_and_the_weights_renormalized():
    result = health(HealthInputs(adoption_pct=Decimal("80.0"), realization_pct=Decimal("40.0")))
    assert result.score == 60 and result.flagged is False  # (80 × 25 + 40 × 25) ÷ 50
    assert [line.value for line in result.lines][2:] == ["no data"] * 3


def test_no_data_at_all_is_no_score_and_never_flagged():
    result = health(HealthInputs())
    assert (result.score, result.flagged) == (None, False)


def test_demand_at_or_below_the_usual_is_full_marks_and_an_open_ended_contract_too():
    result = health(HealthInputs(cases_recent=1, cases_year=12, has_open_ended=True))
    assert [line.points for line in result.lines][3:] == [Decimal(100), Decimal(100)]


@given(
    adoption=st.none() | st.decimals(0, 200, places=1),
    good=st.integers(0, 50),
    extra=st.integers(0, 50),
    recent=st.integers(0, 100),
    older=st.integers(0, 100),
    days=st.none() | st.integers(-400, 4000),
)
def test_the_score_is_always_between_0_and_100(adoption, good, extra, recent, older, days):
    result = health(
        HealthInputs(
            adoption_pct=adoption,
            csat_good=good,
            csat_answered=good + extra,
            cases_recent=recent,
            cases_year=recent + older,
            days_to_renewal=days,
        )
    )
    assert result.score is None or 0 <= result.score <= 100


def test_the_inputs_are_read_with_a_fixed_number_of_queries(cast, sales):
    acme_license(cast, sales.product)
    acme_plan(cast)
    orgs = type(cast.acme).objects.all()
    health_for_organizations(organizations=orgs, adoption_threshold=50)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        health_for_organizations(organizations=orgs, adoption_threshold=50)
    for n in range(4):
        account_actions.do_create_organization(name=f"Org {n}", actor=cast.admin)
    with CaptureQueriesContext(connection) as more:
        rows = health_for_organizations(organizations=orgs, adoption_threshold=50)
    assert len(more) == len(few) <= 8
    acme = next(h for org, h in rows if org == cast.acme)
    lines = {line.key: line for line in acme.lines}
    assert lines["adoption"].value == "80.0 %" and lines["realization"].value == "50.0 %"
    assert lines["renewal"].points is not None  # the won deal's active contract


def test_the_health_list_and_api_are_for_staff(cast, sales):
    acme_plan(cast)
    agent = cast.client_for(cast.agent)
    page = agent.get("/console/success/plans/")
    assert page.status_code == 200 and cast.acme.name.encode() in page.content
    detail = agent.get(f"/api/v1/health-scores/{cast.acme.pk}/").json()
    assert [line["key"] for line in detail["lines"]] == [
        "adoption",
        "realization",
        "csat",
        "demand",
        "renewal",
    ]
    assert agent.get("/api/v1/health-scores/").status_code == 200
    customer = cast.client_for(cast.customer_admin)
    assert customer.get("/api/v1/health-scores/").status_code == 403
    assert customer.get(f"/api/v1/health-scores/{cast.acme.pk}/").status_code == 403


def test_the_plan_page_explains_the_score_line_by_line(cast, sales):
    acme_plan(cast)
    page = cast.client_for(cast.manager).get(f"/console/success/organizations/{cast.acme.pk}/plan/")
    text = page.content.decode()
    assert "Completed milestone weight ÷ total weight" in text
    assert "No license usage reported." in text
