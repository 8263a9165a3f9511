"""Billing fixtures: a product, contracts sold through the contracts' actions, cases and
time logged through the cases' actions, and helpers to run billing through the API.

Jobs run inline here (huey's immediate mode), so a run started through the API is
executed when its transaction's commit callbacks run: ``run_billing`` runs them after
the request, as the job worker would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from retainer.accounts.models import Organization
from retainer.billing import rules
from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.models import Contract


@pytest.fixture(autouse=True)
def _jobs_run_immediately() -> Iterator[None]:
    """Enqueued jobs run inline against a fresh in-memory queue (see lib's conftest)."""
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous


@pytest.fixture
def product(cast) -> Product:
    return catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(50000),
        currency="EUR",
    )


def this_period() -> rules.Period:
    return rules.period_of(timezone.localdate())


def sell(
    cast,
    product: Product,
    preset: str,
    *,
    organization: Organization | None = None,
    start: dt.date | None = None,
    **terms: Any,
) -> Contract:
    return contract_actions.do_create_contract(
        organization=organization or cast.acme,
        preset=preset,
        start_date=start or timezone.localdate().replace(month=1, day=1),
        covered_products=[product],
        terms=terms,
        actor=cast.admin,
    )


def open_case(cast, product: Product, contact=None) -> Case:
    contact = contact or cast.contact
    return case_actions.check_open_case(
        contact=contact,
        product=product,
        subject="Posting fails",
        description="The nightly job stops.",
        channel="web",
        actor=contact.user,
    )


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def post(client: Client, route: str, *args: Any, key: str | None = None, **data: Any) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(url(route, *args), data, content_type="application/json", headers=headers)


def run_billing(client: Client, period: str | None = None, **data: Any) -> dict[str, Any]:
    """Start a run through the API, let the job worker execute it (the request's commit
    callbacks), and return the run as the API shows it afterwards."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(client, "billing_run_list", period=period or this_period().label, **data)
    assert response.status_code == 202, response.json()
    detail = client.get(url("billing_run_detail", response.json()["id"]))
    assert detail.status_code == 200, detail.json()
    return detail.json()


def invoices(client: Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get(url("invoice_list"), params)
    assert response.status_code == 200, response.json()
    return [
        client.get(url("invoice_detail", row["id"])).json() for row in response.json()["results"]
    ]
