"""Catalog API: bad input is refused with nothing saved; the scope check answers why."""

import datetime as dt
from decimal import Decimal

import pytest

from retainer.catalog import actions
from retainer.catalog.models import CatalogEvent, Product, Release, ServiceOffering


@pytest.fixture
def ledger(cast):
    product = actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledger",
        code="ledger",
        list_price=Decimal(50000),
        currency="EUR",
    )
    for n, version in enumerate(["1.0", "1.1", "2.0", "2.1"], start=1):
        actions.do_save_release(
            None,
            actor=cast.admin,
            product=product,
            version=version,
            ga_date=dt.date(2022 + n, 1, 1),
        )
    env_ok = actions.do_save_environment(None, actor=cast.admin, name="Ubuntu", version="24.04")
    env_bad = actions.do_save_environment(None, actor=cast.admin, name="Solaris", version="11")
    policy = actions.do_save_scope_policy(
        None,
        actor=cast.admin,
        product=product,
        supported_previous_releases=2,
        supported_environments=[env_ok],
    )
    actions.do_save_offering(
        None, actor=cast.admin, kind="backport", name="Backport", price=Decimal(2400)
    )
    return {"product": product, "env_ok": env_ok, "env_bad": env_bad, "policy": policy}


def snapshot():
    return (
        Product.objects.count(),
        Release.objects.count(),
        ServiceOffering.objects.count(),
        CatalogEvent.objects.count(),
    )


def test_a_release_version_that_breaks_the_ordering_is_refused(cast, ledger):
    before = snapshot()
    response = cast.client_for(cast.manager).post(
        f"/api/v1/products/{ledger['product'].pk}/releases/",
        {"version": "1.5", "ga_date": "2027-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["version"] == [
        "Version 1.5 must be higher than 2.1, the release ordered before it."
    ]
    assert snapshot() == before


def test_a_release_whose_ga_date_goes_backwards_is_refused(cast, ledger):
    response = cast.client_for(cast.manager).post(
        f"/api/v1/products/{ledger['product'].pk}/releases/",
        {"version": "3.0", "ga_date": "2020-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "ga_date" in response.json()["errors"]


def test_end_of_support_before_ga_is_refused(cast, ledger):
    response = cast.client_for(cast.manager).post(
        f"/api/v1/products/{ledger['product'].pk}/releases/",
        {"version": "3.0", "ga_date": "2030-01-01", "end_of_support_date": "2029-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "End of support cannot be before the GA date." in response.json()["detail"]


def test_a_release_placed_between_others_must_fit_there(cast, ledger):
    client = cast.client_for(cast.manager)
    releases = {r.version: r for r in Release.objects.filter(product=ledger["product"])}
    response = client.patch(
        f"/api/v1/releases/{releases['1.1'].pk}/",
        {"version": "2.5"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "must be lower than 2.0" in response.json()["detail"]


@pytest.mark.parametrize(
    ("url", "payload"),
    [
        ("/api/v1/service-offerings/", {"kind": "training", "name": "Course", "price": "-1"}),
        ("/api/v1/products/", {"name": "Neg", "code": "neg", "list_price": "-0.01"}),
    ],
)
def test_negative_prices_are_refused(cast, ledger, url, payload):
    before = snapshot()
    response = cast.client_for(cast.manager).post(url, payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "greater than or equal to 0" in response.json()["detail"]
    assert snapshot() == before


def test_the_database_itself_refuses_a_negative_price(ledger):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceOffering.objects.filter(kind="backport").update(price=Decimal(-5))


def test_an_agent_cannot_change_the_catalog(cast, ledger):
    response = cast.client_for(cast.agent).patch(
        f"/api/v1/products/{ledger['product'].pk}/",
        {"name": "Renamed"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Product.objects.get().name == "Ledger"


def test_the_scope_check_explains_why_and_names_the_offering(cast, ledger):
    old = Release.objects.get(version="1.0")
    response = cast.client_for(cast.contact).get(
        f"/api/v1/products/{ledger['product'].pk}/scope-check/",
        {"release": old.pk, "environment": ledger["env_bad"].pk, "date": "2026-06-01"},
    )
    body = response.json()
    assert response.status_code == 200
    assert body["in_scope"] is False
    assert [f["code"] for f in body["findings"]] == ["release_too_old", "environment_unsupported"]
    assert body["findings"][0]["offering"]["name"] == "Backport"
    assert body["findings"][1]["offering"] is None


def test_the_scope_check_says_yes_for_a_supported_combination(cast, ledger):
    current = Release.objects.get(version="2.1")
    response = cast.client_for(cast.agent).get(
        f"/api/v1/products/{ledger['product'].pk}/scope-check/",
        {"release": current.pk, "environment": ledger["env_ok"].pk, "date": "2026-06-01"},
    )
    assert response.json()["in_scope"] is True
    assert response.json()["current_release"] == current.pk


def test_the_scope_check_rejects_unknown_ids_and_bad_dates(cast, ledger):
    client = cast.client_for(cast.agent)
    url = f"/api/v1/products/{ledger['product'].pk}/scope-check/"
    assert client.get(url, {"release": 999999}).json()["code"] == "unknown_release"
    assert client.get(url, {"date": "yesterday"}).status_code == 400


def test_a_scope_policy_needs_a_release_rule(cast, ledger):
    response = cast.client_for(cast.manager).put(
        f"/api/v1/products/{ledger['product'].pk}/scope-policy/",
        {"supported_previous_releases": None, "honour_end_of_support_dates": False},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Choose at least one release rule" in response.json()["detail"]


def test_versions_sort_the_way_people_read_them():
    from retainer.catalog.versions import version_key

    assert sorted(["2.10", "2.9", "10.0", "2.9.1"], key=version_key) == [
        "2.9",
        "2.9.1",
        "2.10",
        "10.0",
    ]


def test_the_scope_of_support_page_lists_supported_and_out_of_scope_releases(client, cast, ledger):
    response = client.get("/scope-of-support/")
    html = response.content.decode()
    assert "Ledger" in html and "out of scope" in html and "Backport" in html
