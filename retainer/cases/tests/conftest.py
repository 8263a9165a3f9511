"""Cases fixtures: a product with releases and a scope policy, and contracts for Acme."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product, Release
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import AuthorizationPolicy, DecrementPoint, ExhaustionPolicy, Preset
from retainer.contracts.models import Contract


@dataclass
class Desk:
    product: Product
    other: Product
    releases: list[Release]
    current: Release
    old: Release


@pytest.fixture
def desk(cast) -> Desk:
    admin = cast.admin
    product = catalog_actions.do_save_product(
        None,
        actor=admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(50000),
        currency="EUR",
    )
    other = catalog_actions.do_save_product(
        None, actor=admin, name="Fieldkit", code="fieldkit", currency="EUR"
    )
    today = timezone.localdate()
    releases = [
        catalog_actions.do_save_release(
            None,
            actor=admin,
            product=product,
            version=v,
            ga_date=today - dt.timedelta(days=400 * (5 - n)),
        )
        for n, v in enumerate(["1.0", "2.0", "3.0", "4.0", "5.0"])
    ]
    catalog_actions.do_save_scope_policy(
        None, actor=admin, product=product, supported_previous_releases=2
    )
    catalog_actions.do_save_offering(
        None, actor=admin, kind="backport", name="Backport", price=Decimal(2400)
    )
    return Desk(
        product=product, other=other, releases=releases, current=releases[-1], old=releases[0]
    )


def make_contract(cast, desk: Desk, preset: str, **terms: Any) -> Contract:
    named = terms.pop("named_contacts", ())
    return contract_actions.do_create_contract(
        organization=cast.acme,
        preset=preset,
        start_date=timezone.localdate() - dt.timedelta(days=30),
        covered_products=[desk.product],
        named_contacts=named,
        terms=terms,
        actor=cast.admin,
    )


@pytest.fixture
def incident_bank(cast, desk) -> Contract:
    """10 incidents, named contacts only (the customer admin and the contact)."""
    return make_contract(
        cast,
        desk,
        Preset.BANK,
        authorization_policy=AuthorizationPolicy.NAMED,
        named_contacts=[cast.customer_admin, cast.contact],
    )


@pytest.fixture
def hour_bank(cast, desk) -> Contract:
    """A bank of 60 minutes, billed beyond that at 120/h."""
    return make_contract(
        cast,
        desk,
        Preset.BANK,
        unit="hours",
        quantity=60,
        decrement_point=DecrementPoint.TIME_ENTRY,
        exhaustion_policy=ExhaustionPolicy.BILL,
        overage_rate=Decimal(120),
        low_balance_threshold=0,
    )


def open_case(client: Client, desk: Desk, key: str | None = None, **data: object) -> Any:
    payload = {
        "product": desk.product.pk,
        "release": desk.current.pk,
        "subject": "Posting fails",
        "description": "The nightly posting job stops with error 42.",
        "severity": 2,
        **data,
    }
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/cases/", payload, content_type="application/json", headers=headers)


def post(client: Client, url: str, **data: Any) -> Any:
    return client.post(url, data, content_type="application/json")
