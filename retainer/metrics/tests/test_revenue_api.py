"""Revenue figures through ``GET /api/v1/metrics/revenue/``, from contracts sold, renewed
and left to end through the contracts app's actions: the seed's worked example and a
book of six customers across two quarters, computed by hand (docs/metrics.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from retainer.accounts import actions as account_actions
from retainer.catalog import actions as catalog_actions
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.fixture(autouse=True)
def product(cast: Any) -> Any:
    return catalog_actions.do_save_product(
        None, actor=cast.admin, name="Ledgerline", code="ledgerline", currency="EUR"
    )


def sell(cast: Any, customer: Any, monthly: int, start: str, *, uplift: int = 0) -> Any:
    """A yearly fixed-fee contract worth ``monthly`` a month."""
    from retainer.catalog.models import Product

    return contract_actions.do_create_contract(
        organization=customer,
        preset=Preset.FIXED_FEE,
        start_date=D(start),
        covered_products=[Product.objects.get(code="ledgerline")],
        terms={"price_amount": Decimal(monthly * 12), "uplift_percent": Decimal(uplift)},
        actor=cast.admin,
    )


def customer(name: str) -> Any:
    return account_actions.do_create_organization(name=name, actor=None)


def revenue(cast: Any, who: Any = None, **params: str) -> dict[str, Any]:
    response = cast.client_for(who or cast.manager).get("/api/v1/metrics/revenue/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_seed_example_through_the_api(cast):
    a, b, c, new = customer("A"), customer("B"), customer("C"), customer("D")
    sell(cast, a, 25, "2025-03-01")  # ends 2026-02-28: churn
    sell(cast, b, 50, "2025-06-01")
    sell(cast, b, 5, "2026-02-15")  # expansion
    sell(cast, c, 20, "2025-06-01")
    sell(cast, c, 5, "2025-03-01")  # ends 2026-02-28: downgrade
    sell(cast, new, 45, "2026-01-10")  # new customer

    body = revenue(cast, period="2026-Q1")

    assert body["currency"] == "EUR"
    assert body["mrr_start"] == "100.00"
    assert body["movements"] == {
        "new": "45.00",
        "expansion": "5.00",
        "reactivation": "0.00",
        "contraction": "-5.00",
        "churn": "-25.00",
    }
    assert (body["added"], body["lost"]) == ("50.00", "30.00")
    assert body["mrr_end"] == "120.00"
    assert body["arr_end"] == "1440.00"
    assert body["recurring_revenue_rate"] == "120.0"
    assert [m["month"] for m in body["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert [m["mrr_end"] for m in body["months"]] == [
        "145.00",
        "150.00",
        "120.00",
    ]  # A and C leave after 28 February


def _book(cast: Any) -> None:
    """Six customers; MRR on 2025-12-31, 2026-03-31 and 2026-06-30 in the comments."""
    u, v, w, x, y, z = (customer(name) for name in "UVWXYZ")
    contract_actions.do_renew_contract(
        sell(cast, u, 100, "2025-07-01"), actor=cast.admin
    )  # 100 100 100
    contract_actions.do_renew_contract(
        sell(cast, v, 200, "2025-05-01", uplift=10), actor=cast.admin
    )  # 200 200 220
    sell(cast, w, 100, "2025-06-01")  # 100 100 0: churns at the end of May
    sell(cast, x, 100, "2025-10-01")  # x: 150 150 100
    sell(cast, x, 50, "2025-05-01")  # ends 2026-04-30: contraction
    sell(cast, y, 150, "2026-05-01")  # 0 0 150: new
    sell(cast, z, 100, "2025-01-01")  # 100 0 100: gone in Q1, back in June
    sell(cast, z, 100, "2026-06-01")


def test_a_book_of_six_customers_in_the_second_quarter(cast):
    _book(cast)

    body = revenue(cast, period="2026-Q2")

    assert (body["mrr_start"], body["mrr_end"]) == ("550.00", "670.00")
    assert body["movements"] == {
        "new": "150.00",
        "expansion": "20.00",
        "reactivation": "100.00",
        "contraction": "-50.00",
        "churn": "-100.00",
    }
    assert (body["customers_at_start"], body["customers_retained"]) == (4, 3)
    assert body["customer_retention"] == "75.0"  # 3 of 4
    assert body["net_revenue_retention"] == "76.4"  # (100 + 220 + 0 + 100) / 550
    assert body["gross_revenue_retention"] == "72.7"  # (100 + 200 + 0 + 100) / 550
    assert (body["renewals_due"], body["renewals_renewed"]) == (4, 2)  # U, V of U, V, W, X's
    assert body["renewal_rate"] == "50.0"
    assert body["recurring_revenue_rate"] == "121.8"  # 670 / 550


def test_the_same_book_in_the_first_quarter(cast):
    _book(cast)

    body = revenue(cast, period="2026-Q1")

    assert (body["mrr_start"], body["mrr_end"]) == ("650.00", "550.00")
    assert body["movements"]["churn"] == "-100.00"  # Z
    assert body["customer_retention"] == "80.0"  # 4 of 5
    assert body["net_revenue_retention"] == "84.6"  # 550 / 650
    assert body["gross_revenue_retention"] == "84.6"
    assert (body["renewals_due"], body["renewal_rate"]) == (0, None)


def test_filters_narrow_the_book_to_one_organization(cast):
    _book(cast)
    v = cast.acme.__class__.objects.get(name="V")

    body = revenue(cast, period="2026-Q2", organization=str(v.pk))

    assert (body["mrr_start"], body["mrr_end"], body["net_revenue_retention"]) == (
        "200.00",
        "220.00",
        "110.0",
    )


def test_a_bad_period_is_a_400_with_the_reason(cast):
    response = cast.client_for(cast.manager).get("/api/v1/metrics/revenue/", {"period": "Q5"})
    assert response.status_code == 400
    assert "period" in response.json()["errors"]


def test_billing_reads_revenue_but_not_support_and_customers_reach_neither(cast):
    assert cast.client_for(cast.billing).get("/api/v1/metrics/revenue/").status_code == 200
    assert cast.client_for(cast.billing).get("/api/v1/metrics/support/").status_code == 403
    for who in (cast.agent, cast.customer_admin, cast.outsider):
        for path in ("/api/v1/metrics/revenue/", "/api/v1/metrics/support/"):
            assert cast.client_for(who).get(path).status_code == 403


@pytest.mark.parametrize("name", ["organization", "product", "team"])
@pytest.mark.parametrize("figures", ["revenue", "support"])
def test_an_id_beyond_what_the_database_holds_is_a_400(cast, name, figures):
    client = cast.client_for(cast.manager)
    response = client.get(f"/api/v1/metrics/{figures}/", {name: "74228916725448556041732096"})
    assert response.status_code == 400 and name in response.json()["errors"]
