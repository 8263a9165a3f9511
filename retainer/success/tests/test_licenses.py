"""Licenses and adoption: the figures (on hand-computed values), the flag below the
threshold, a month's second report replacing the first, a customer seeing only their own
organization's licenses, and bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from retainer.success import actions
from retainer.success.adoption import Figures, adoption
from retainer.success.models import License, LicenseUsage, SuccessEvent
from retainer.success.tests.world import acme_license

JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _license(org: Any, product: Any, seats: int, actor: Any, **extra: Any) -> License:
    return actions.do_create_license(
        organization=org,
        product=product,
        edition="Standard",
        seats=seats,
        starts_on=JAN,
        ends_on=dt.date(2026, 12, 31),
        actor=actor,
        **extra,
    )


# --- The pure figures ------------------------------------------------------------------------


def test_80_of_100_seats_is_80_percent_and_30_basic_50_advanced_is_37_5_and_62_5():
    result = adoption(
        [Figures(seats=100, seats_in_use=80, basic_users=30, advanced_users=50)], threshold=50
    )
    assert result.adoption_pct == Decimal("80.0")
    assert (result.basic_pct, result.advanced_pct) == (Decimal("37.5"), Decimal("62.5"))
    assert result.flagged is False


def test_several_licenses_are_seat_weighted_not_averaged():
    # 10 of 10 (100 %) and 100 of 1,000 (10 %): 110 of 1,010 = 10.9 %, not 55 %.
    result = adoption(
        [Figures(seats=10, seats_in_use=10), Figures(seats=1000, seats_in_use=100)], threshold=50
    )
    assert result.adoption_pct == Decimal("10.9")
    assert result.flagged is True


def test_an_unreported_license_is_left_out_and_nothing_reported_is_never_flagged():
    result = adoption([Figures(seats=100), Figures(seats=50, seats_in_use=40)], threshold=90)
    assert (result.seats, result.adoption_pct) == (50, Decimal("80.0"))
    nothing = adoption([Figures(seats=100)], threshold=90)
    assert (nothing.adoption_pct, nothing.advanced_pct, nothing.flagged) == (None, None, False)


def test_exactly_at_the_threshold_is_not_flagged():
    assert adoption([Figures(seats=10, seats_in_use=5)], threshold=50).flagged is False
    assert adoption([Figures(seats=10, seats_in_use=4)], threshold=50).flagged is True


# --- Reporting ------------------------------------------------------------------------------


def test_a_second_report_for_a_month_replaces_the_first_and_keeps_it_in_history(cast, sales):
    license = acme_license(cast, sales.product)
    actions.do_report_usage(
        license, period=dt.date(2026, 1, 17), seats_in_use=60, basic_users=10, actor=cast.admin
    )
    usage = LicenseUsage.objects.get(license=license)
    assert (usage.period, usage.seats_in_use, usage.basic_users, usage.advanced_users) == (
        JAN,
        60,
        10,
        0,
    )
    last = SuccessEvent.objects.filter(type="license_usage_reported").order_by("-id").first()
    assert last is not None
    assert last.data["previous"] == {"seats_in_use": 80, "basic_users": 30, "advanced_users": 50}
    assert last.organization_id == cast.acme.pk


def test_the_latest_month_counts(cast, sales):
    license = acme_license(cast, sales.product)
    actions.do_report_usage(license, period=FEB, seats_in_use=20, actor=cast.admin)
    response = cast.client_for(cast.manager).get(f"/api/v1/licenses/{license.pk}/")
    body = response.json()
    assert body["latest"]["period"] == "2026-02-01"
    assert (body["adoption_pct"], body["flagged"]) == ("20.0", True)


def test_usage_above_the_seats_is_refused_unless_the_license_allows_it(cast, sales):
    license = acme_license(cast, sales.product)
    with pytest.raises(ValidationError) as refused:
        actions.do_report_usage(license, period=FEB, seats_in_use=101, actor=cast.admin)
    assert "seats_in_use" in refused.value.message_dict
    assert not LicenseUsage.objects.filter(license=license, period=FEB).exists()
    open_license = _license(cast.acme, sales.product, 10, cast.admin, allow_overuse=True)
    usage = actions.do_report_usage(open_license, period=FEB, seats_in_use=12, actor=cast.admin)
    assert usage.seats_in_use == 12


# --- The API --------------------------------------------------------------------------------


def test_a_manager_sells_a_license_and_reports_its_usage_through_the_api(cast, sales):
    client = cast.client_for(cast.manager)
    response = _post(
        client,
        "/api/v1/licenses/",
        {
            "organization": cast.acme.pk,
            "product": sales.product.pk,
            "edition": "Enterprise",
            "seats": 100,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["adoption_pct"] is None
    body = {"period": "2026-03-05", "seats_in_use": 80, "basic_users": 30, "advanced_users": 50}
    response = _post(client, f"/api/v1/licenses/{pk}/usage/", body)
    assert response.status_code == 200, response.json()
    out = response.json()
    assert (out["adoption_pct"], out["basic_pct"], out["advanced_pct"]) == ("80.0", "37.5", "62.5")
    assert out["latest"]["period"] == "2026-03-01"
    assert SuccessEvent.objects.filter(type="license_created", organization=cast.acme).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-03-01", "seats_in_use": -1}, "seats_in_use"),
        ({"period": "2026-03-01", "seats_in_use": 101}, "seats_in_use"),
        ({"period": "2026-03-01", "seats_in_use": 5, "basic_users": -3}, "basic_users"),
        ({"period": "March", "seats_in_use": 5}, "period"),
    ],
)
def test_bad_usage_is_a_400_beside_the_field_and_writes_nothing(cast, sales, body, field):
    license = acme_license(cast, sales.product)
    before = SuccessEvent.objects.count()
    response = _post(cast.client_for(cast.manager), f"/api/v1/licenses/{license.pk}/usage/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert SuccessEvent.objects.count() == before
    assert LicenseUsage.objects.filter(license=license).count() == 1


def test_a_license_without_seats_is_refused(cast, sales):
    body = {
        "organization": cast.acme.pk,
        "product": sales.product.pk,
        "edition": "Enterprise",
        "seats": 0,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }
    response = _post(cast.client_for(cast.manager), "/api/v1/licenses/", body)
    assert response.status_code == 400
    assert "seats" in response.json()["errors"]
    body |= {"seats": 5, "ends_on": "2025-12-31"}
    response = _post(cast.client_for(cast.manager), "/api/v1/licenses/", body)
    assert response.status_code == 400
    assert not License.objects.exists()


def test_an_agent_reads_licenses_but_cannot_sell_or_report(cast, sales):
    license = acme_license(cast, sales.product)
    client = cast.client_for(cast.agent)
    assert client.get("/api/v1/licenses/").status_code == 200
    body = {"period": "2026-03-01", "seats_in_use": 1}
    assert _post(client, f"/api/v1/licenses/{license.pk}/usage/", body).status_code == 403


# --- Isolation --------------------------------------------------------------------------------


def test_a_contact_sees_only_their_organizations_licenses(cast, sales):
    acme = acme_license(cast, sales.product)
    globex = _license(cast.globex, sales.product, 5, cast.admin)
    client = cast.client_for(cast.contact)
    listed = client.get("/api/v1/licenses/").json()
    assert [row["id"] for row in listed] == [acme.pk]
    assert client.get(f"/api/v1/licenses/{globex.pk}/").status_code == 404
    assert client.get(f"/api/v1/licenses/{acme.pk}/").status_code == 200
    outsider = cast.client_for(cast.outsider)
    assert outsider.get(f"/api/v1/licenses/{acme.pk}/").status_code == 404
    body = {"period": "2026-03-01", "seats_in_use": 1}
    assert _post(client, f"/api/v1/licenses/{acme.pk}/usage/", body).status_code == 403


def test_the_portal_page_shows_the_contacts_own_licenses_only(cast, sales):
    acme_license(cast, sales.product)
    other = actions.do_create_license(
        organization=cast.globex,
        product=sales.product,
        edition="Globex only",
        seats=5,
        starts_on=JAN,
        ends_on=dt.date(2026, 12, 31),
        actor=cast.admin,
    )
    response = cast.client_for(cast.contact).get("/portal/licenses/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enterprise" in page and "80.0 %" in page and "62.5 %" in page
    assert other.edition not in page


# --- The console ------------------------------------------------------------------------------


def test_the_console_lists_flagged_organizations_first(cast, sales, django_assert_max_num_queries):
    acme_license(cast, sales.product)  # 80 %
    low = _license(cast.globex, sales.product, 100, cast.admin)
    actions.do_report_usage(low, period=JAN, seats_in_use=10, actor=cast.admin)  # 10 %
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(15):
        response = client.get("/console/success/licenses/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = page[page.index('id="licenses-h"') :]
    assert rows.index(cast.globex.name) < rows.index(cast.acme.name)
    assert "flagged" in rows
    assert "Report usage" not in page  # agents read only


def test_the_console_usage_form_refuses_usage_above_the_seats_beside_the_field(cast, sales):
    license = acme_license(cast, sales.product)
    client = cast.client_for(cast.manager)
    form = {"license": license.pk, "period": "2026-02-01", "seats_in_use": 150}
    response = client.post("/console/success/licenses/usage/", form)
    assert response.status_code == 400
    assert "more than the 100 seats sold" in response.content.decode()
    assert not LicenseUsage.objects.filter(period=FEB).exists()
    form["seats_in_use"] = 90
    response = client.post("/console/success/licenses/usage/", form)
    assert response.status_code == 302
    assert LicenseUsage.objects.get(period=FEB).seats_in_use == 90


def test_the_console_adds_a_license(cast, sales):
    form = {
        "organization": cast.acme.pk,
        "product": sales.product.pk,
        "edition": "Team",
        "seats": 25,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }
    response = cast.client_for(cast.manager).post("/console/success/licenses/new/", form)
    assert response.status_code == 302
    assert License.objects.get(edition="Team").seats == 25
    bad = form | {"seats": 0}
    response = cast.client_for(cast.manager).post("/console/success/licenses/new/", bad)
    assert response.status_code == 400
