"""One rule per catalog operation, whatever the door: the check function, the API and the
admin refuse the same actors with 403; a refused or malformed request changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from retainer.catalog import actions, checks
from retainer.catalog.models import CatalogEvent, Environment, Product, Release, ScopePolicy
from retainer.lib.errors import NotPermitted
from retainer.lib.models import OutboxMessage


@pytest.fixture
def product(cast):
    product = actions.do_save_product(None, actor=cast.admin, name="Ledger", code="ledger")
    actions.do_save_release(
        None, actor=cast.admin, product=product, version="1.0", ga_date=dt.date(2024, 1, 1)
    )
    return product


def state():
    return (
        list(Product.objects.values()),
        list(Release.objects.values()),
        list(ScopePolicy.objects.values()),
        CatalogEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_an_agent_may_not_change_a_product_through_any_door(cast, product):
    before = state()
    with pytest.raises(NotPermitted):
        checks.check_save_product(cast.agent, product, name="Renamed")
    api = cast.client_for(cast.agent).patch(
        f"/api/v1/products/{product.pk}/", {"name": "Renamed"}, content_type="application/json"
    )
    admin = cast.client_for(cast.agent).post(
        f"/admin/catalog/product/{product.pk}/change/", {"name": "Renamed", "code": "ledger"}
    )
    assert (api.status_code, admin.status_code) == (403, 403)
    assert state() == before


def test_an_agent_may_not_put_a_scope_policy_through_any_door(cast, product):
    before = state()
    with pytest.raises(NotPermitted):
        checks.check_save_scope_policy(cast.agent, None, product=product)
    api = cast.client_for(cast.agent).put(
        f"/api/v1/products/{product.pk}/scope-policy/", {}, content_type="application/json"
    )
    admin = cast.client_for(cast.agent).post(
        "/admin/catalog/scopepolicy/add/", {"product": product.pk}
    )
    assert (api.status_code, admin.status_code) == (403, 403)
    assert state() == before


def test_a_refusal_is_a_403_even_when_the_body_is_wrong_too(cast):
    response = cast.client_for(cast.agent).post(
        "/api/v1/environments/", {"kind": "no such kind"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_a_manager_saves_through_the_check(cast, product):
    environment = checks.check_save_environment(cast.manager, None, name="Ubuntu", version="24")
    checks.check_save_scope_policy(
        cast.manager, None, product=product, supported_environments=[environment]
    )
    assert list(product.scope_policy.supported_environments.all()) == [environment]


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("patch", "/api/v1/products/{product}/", {"id": 7}),
        ("post", "/api/v1/products/", {"name": "X", "code": "x", "created_at": "2020-01-01"}),
        ("patch", "/api/v1/releases/{release}/", {"product": 1}),
        (
            "post",
            "/api/v1/products/{product}/releases/",
            {"version": "2.0", "ga_date": "2025-01-01", "product": 1},
        ),
        ("put", "/api/v1/products/{product}/scope-policy/", {"product": 1}),
        ("post", "/api/v1/environments/", {"name": "Ubuntu", "id": 3}),
        (
            "post",
            "/api/v1/service-offerings/",
            {"kind": "training", "name": "T", "price": "1", "sold": True},
        ),
    ],
)
def test_every_write_refuses_fields_it_does_not_take(cast, product, method, url, payload):
    release = product.releases.get()
    before = state()
    response = getattr(cast.client_for(cast.manager), method)(
        url.format(product=product.pk, release=release.pk),
        payload,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "field_not_allowed"
    assert state() == before
    assert not Environment.objects.exists()
