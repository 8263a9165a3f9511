"""Contracts fixtures: a small catalog (one product with releases and a scope policy, and
the service offerings), built through the catalog's actions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest

from retainer.catalog import actions as catalog_actions
from retainer.catalog.choices import OfferingKind, PriceUnit
from retainer.catalog.models import Product, Release, ServiceOffering

TODAY = dt.date(2026, 3, 2)


@dataclass
class Shop:
    product: Product
    other: Product
    releases: list[Release]
    backport: ServiceOffering


@pytest.fixture
def shop(cast) -> Shop:
    admin = cast.admin
    product = catalog_actions.do_save_product(
        None,
        actor=admin,
        name="Ledgerline Server",
        code="ledgerline",
        list_price=Decimal("50000"),
        net_price=Decimal("42000"),
        currency="EUR",
    )
    other = catalog_actions.do_save_product(
        None,
        actor=admin,
        name="Fieldkit SDK",
        code="fieldkit",
        list_price=Decimal("12000"),
        net_price=Decimal("9600"),
        currency="EUR",
    )
    releases = [
        catalog_actions.do_save_release(
            None,
            actor=admin,
            product=product,
            version=version,
            order=order,
            ga_date=dt.date(2022 + order // 2, 1 + (order % 2) * 6, 1),
        )
        for order, version in enumerate(["4.0", "4.1", "4.2", "5.0", "5.1"], start=1)
    ]
    catalog_actions.do_save_scope_policy(
        None,
        actor=admin,
        product=product,
        supported_previous_releases=2,
        honour_end_of_support_dates=True,
    )
    backport = catalog_actions.do_save_offering(
        None,
        actor=admin,
        kind=OfferingKind.BACKPORT,
        name="Backport a fix",
        price=Decimal("2400"),
        currency="EUR",
        unit=PriceUnit.FIXED,
    )
    return Shop(product=product, other=other, releases=releases, backport=backport)
