"""An organization's health: the figures on a small hand-made world, the panel on
Organization 360 for managers (not agents), the API for staff and the organization's own
customer admin, and a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from retainer.billing.choices import InvoiceStatus
from retainer.billing.models import Invoice
from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.cases.tests.conftest import make_contract
from retainer.contracts.choices import DecrementPoint, Preset
from retainer.contracts.models import Contract
from retainer.metrics import queries
from retainer.metrics.definitions import Profit, days_until, profitability

pytestmark = pytest.mark.django_db

UTC = dt.UTC
TODAY = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(day: str):
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T12:00:00+00:00"), tick=False)


def open_case(cast, desk, subject: str) -> Case:
    return case_actions.check_open_case(
        cast.agent, contact=cast.contact, product=desk.product, channel="web",
        subject=subject, description="It fails.", severity=2,
    )  # fmt: skip


def invoice(organization, day: str, total: str, status: str = InvoiceStatus.ISSUED, n: int = 0):
    issued = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")
    return Invoice.objects.create(
        organization=organization, currency="EUR", status=status,
        number=None if status == InvoiceStatus.DRAFT else f"H-{day}-{n}",
        period_start=issued.date().replace(day=1), period_end=issued.date(),
        subtotal=Decimal(total), total=Decimal(total),
        issued_at=None if status == InvoiceStatus.DRAFT else issued,
    )  # fmt: skip


@pytest.fixture
def world(cast, desk) -> dict:
    """Acme, seen on 2026-11-20 (the health months are 2026-06 … 2026-11; the last twelve
    months 2025-12 … 2026-11):

    - an hour bank of 600 minutes sold on 2026-07-15 (its grant is the first ledger entry),
      drawing the time logged on its cases;
    - case A opened 2026-09-10, 90 minutes logged, resolved, rated good;
    - case B opened 2026-10-05, 30 minutes logged, still open;
    - case C opened 2026-11-02, resolved, rated bad;
    - invoices: 500.00 EUR issued 2026-10-31; 999.00 issued 2025-10-01 (before the last
      twelve months) and a 77.00 draft do not count;
    - Globex: a case and a good answer that are none of Acme's business.
    """
    with at("2026-07-15"):
        bank = make_contract(
            cast, desk, Preset.BANK, unit="hours", quantity=600,
            decrement_point=DecrementPoint.TIME_ENTRY, low_balance_threshold=0,
        )  # fmt: skip
    with at("2026-09-10"):
        a = open_case(cast, desk, "A")
        case_actions.do_log_time(a, agent=cast.agent, minutes=90, billable=True, actor=cast.agent)
        case_actions.do_transition_case(a, "resolved", actor=cast.agent, root_cause="defect")
        case_actions.do_answer_csat(a, rating="good", actor=None)
    with at("2026-10-05"):
        b = open_case(cast, desk, "B")
        case_actions.do_log_time(b, agent=cast.agent, minutes=30, billable=True, actor=cast.agent)
    with at("2026-11-02"):
        c = open_case(cast, desk, "C")
        case_actions.do_transition_case(c, "resolved", actor=cast.agent, root_cause="defect")
        case_actions.do_answer_csat(c, rating="bad", actor=None)
    invoice(cast.acme, "2026-10-31", "500.00")
    invoice(cast.acme, "2025-10-01", "999.00", n=1)
    invoice(cast.acme, "2026-11-01", "77.00", InvoiceStatus.DRAFT)
    with at("2026-11-03"):
        other = case_actions.check_open_case(
            cast.agent, contact=cast.outsider, product=desk.product, subject="Globex", description="x",
            channel="web", severity=3,
        )  # fmt: skip
        case_actions.do_transition_case(other, "resolved", actor=cast.agent, root_cause="defect")
        case_actions.do_answer_csat(other, rating="good", actor=None)
    return {"bank": bank, "cases": (a, b, c)}


def test_profitability_is_revenue_minus_the_cost_of_logged_time_per_currency():
    # docs/metrics.md: 500.00 EUR invoiced, 120 minutes at 60 EUR/h → 380.00, 76.0 %.
    rows = profitability(
        {"EUR": Decimal("500.00"), "USD": Decimal("10.00")},
        logged_minutes=120, cost_per_hour=Decimal(60), cost_currency="EUR",
    )  # fmt: skip
    assert rows == [
        Profit("EUR", Decimal("500.00"), Decimal("120.00")),
        Profit("USD", Decimal("10.00"), Decimal(0)),
    ]
    assert rows[0].profit == Decimal("380.00") and rows[0].margin == Decimal("76.0")
    only_time = profitability({}, logged_minutes=25, cost_per_hour=Decimal(60), cost_currency="EUR")
    assert only_time == [Profit("EUR", Decimal(0), Decimal("25.00"))]
    assert only_time[0].margin is None
    assert profitability({}, logged_minutes=0, cost_per_hour=Decimal(60), cost_currency="EUR") == []
    assert days_until(dt.date(2026, 12, 1), dt.date(2026, 11, 20)) == 11
    assert days_until(None, dt.date(2026, 11, 20)) is None


def test_the_health_figures_equal_the_hand_computed_ones(cast, world, django_assert_num_queries):
    bank: Contract = world["bank"]
    bank.refresh_from_db()
    with django_assert_num_queries(5):
        health = queries.organization_health(cast.acme.pk, TODAY.date())
    assert [f"{m:%Y-%m}" for m in health.months] == [
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]  # fmt: skip
    [trend] = health.balances
    assert trend.contract_id == bank.pk and trend.unit == "hours"
    # Nothing before the grant; 600 from July; −90 in September, −30 in October.
    assert trend.balances == [None, 600, 600, 510, 480, 480]
    assert health.opened == [0, 0, 0, 1, 1, 1]
    assert health.open_now == 1  # B
    assert (health.csat.good, health.csat.neutral, health.csat.bad) == (1, 0, 1)
    assert health.csat.satisfied == Decimal("50.0")
    assert bank.end_date is not None and health.next_renewal == bank.end_date
    assert health.days_to_renewal == (bank.end_date - TODAY.date()).days
    assert health.logged_minutes == 120
    # 500.00 invoiced − 120 min × 60 EUR/h = 500.00 − 120.00 = 380.00 (76.0 %).
    assert health.profit == [Profit("EUR", Decimal("500.00"), Decimal("120.00"))]


def test_a_manager_sees_the_panel_on_organization_360_and_an_agent_does_not(cast, world):
    detail = reverse("console:organization_detail", args=[cast.acme.pk])
    panel = reverse("metrics:organization_health", args=[cast.acme.pk])
    manager, agent = cast.client_for(cast.manager), cast.client_for(cast.agent)
    assert f'hx-get="{panel}"' in manager.get(detail).content.decode()
    assert panel not in agent.get(detail).content.decode()
    with time_machine.travel(TODAY, tick=False):
        partial = manager.get(panel, headers={"HX-Request": "true"})
        page = manager.get(panel)
        assert agent.get(panel).status_code == 403
    html = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in html
    assert "50.0 % good" in html and "380.00" in html and "8:00 h" in html  # 480 minutes
    drill = reverse("metrics:drill_down")
    rows = f"{drill}?figure=csat&amp;period=12m&amp;organization={cast.acme.pk}&amp;rating=bad"
    assert rows in html
    assert f"{drill}?figure=opened&amp;period=2026-10&amp;organization={cast.acme.pk}" in html
    assert page.status_code == 200 and "<html" in page.content.decode()
    # A drill-down link lands on the right rows.
    with time_machine.travel(TODAY, tick=False):
        behind = manager.get(rows.replace("&amp;", "&")).content.decode()
    assert world["cases"][2].reference in behind and world["cases"][0].reference not in behind


def test_a_customer_admin_reads_their_own_health_through_the_api_and_the_portal(cast, world):
    client = cast.client_for(cast.customer_admin)
    own = reverse("api:metrics_organization_health", args=[cast.acme.pk])
    other = reverse("api:metrics_organization_health", args=[cast.globex.pk])
    with time_machine.travel(TODAY, tick=False):
        mine = client.get(own)
        assert client.get(other).status_code == 404
        assert cast.client_for(cast.contact).get(own).status_code == 403
        assert cast.client_for(cast.manager).get(other).status_code == 200
        portal = cast.client_for(cast.customer_admin).get(reverse("metrics:portal_health"))
    assert mine.status_code == 200
    body = mine.json()
    assert body["months"][-1] == "2026-11" and body["cases_opened"] == [0, 0, 0, 1, 1, 1]
    assert body["open_cases"] == 1
    assert body["csat"] == {"good": 1, "neutral": 0, "bad": 1, "satisfied": "50.0"}
    assert body["balances"][0]["balances"] == [None, 600, 600, 510, 480, 480]
    assert body["profitability"] == [
        {"currency": "EUR", "revenue": "500.00", "cost": "120.00", "profit": "380.00",
         "margin": "76.0"}
    ]  # fmt: skip
    html = portal.content.decode()
    assert portal.status_code == 200 and "50.0 % good" in html
    assert "drill-down" not in html  # no links into the console


def test_the_panel_runs_a_bounded_number_of_queries(
    cast, world, desk, django_assert_max_num_queries
):
    for n in range(5):
        open_case(cast, desk, f"More {n}")
    client = cast.client_for(cast.manager)
    panel = reverse("metrics:organization_health", args=[cast.acme.pk])
    with django_assert_max_num_queries(12):
        assert client.get(panel, headers={"HX-Request": "true"}).status_code == 200
