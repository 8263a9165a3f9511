"""Selling a contract in the console: on a plan or a preset, for an organization, with a
price override; the same rule (``check_create_contract``) as the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from retainer.contracts import actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract
from retainer.contracts.terms import preset_terms

from .conftest import TODAY


def sale(**values: Any) -> dict[str, Any]:
    return {"start_date": TODAY.isoformat(), "extra_named_contacts": 0, **values}


@pytest.mark.parametrize("preset", Preset.values)
def test_each_preset_is_sold_from_the_form(cast, shop, preset):
    client = cast.client_for(cast.billing)
    form = sale(organization=cast.acme.pk, preset=preset, covered_products=[shop.product.pk])
    response = client.post("/console/contracts/new/", form)
    contract = Contract.objects.get()
    assert response["Location"] == f"/console/contracts/{contract.pk}/"
    assert (contract.preset, contract.organization) == (preset, cast.acme)
    assert contract.name.startswith("Acme — ") and contract.name.endswith(" 2026")


def test_a_contract_sold_on_a_plan_is_named_after_it_and_may_override_the_price(cast, shop):
    plan = actions.do_create_plan(
        code="gold", name="Gold", terms=preset_terms(Preset.MAINTENANCE),
        products=[shop.product], actor=None,
    )  # fmt: skip
    client = cast.client_for(cast.manager)
    form = sale(organization=cast.acme.pk, plan=plan.pk, price="7500", reference="PO-7")
    client.post("/console/contracts/new/", form)
    contract = Contract.objects.get()
    assert (contract.name, contract.plan, contract.reference) == ("Acme — Gold 2026", plan, "PO-7")
    assert contract.price == Decimal(7500)  # instead of 18 % of 50,000
    assert list(contract.covered_products.all()) == [shop.product]  # the plan's


def test_a_refused_sale_comes_back_with_the_reason_and_sells_nothing(cast, shop):
    client = cast.client_for(cast.billing)
    euro = sale(organization=cast.globex.pk, preset=Preset.BANK, covered_products=[shop.product.pk])
    response = client.post("/console/contracts/new/", euro)  # Globex is invoiced in USD
    assert response.status_code == 400
    assert "the organization is invoiced in USD" in response.content.decode()
    neither = client.post("/console/contracts/new/", sale(organization=cast.acme.pk))
    assert "Choose a plan, or the kind of contract." in neither.content.decode()
    no_product = sale(organization=cast.acme.pk, preset=Preset.BANK)
    assert (
        "at least one product"
        in client.post("/console/contracts/new/", no_product).content.decode()
    )
    assert not Contract.objects.exists()


def test_the_organization_page_and_the_list_lead_to_the_form(cast):
    client = cast.client_for(cast.billing)
    page = client.get(f"/console/organizations/{cast.acme.pk}/").content.decode()
    assert f"/console/contracts/new/?organization={cast.acme.pk}" in page
    assert "/console/contracts/new/" in client.get("/console/contracts/").content.decode()
    form = client.get(f"/console/contracts/new/?organization={cast.acme.pk}").content.decode()
    assert f'<option value="{cast.acme.pk}" selected>' in form


def test_an_agent_may_not_sell(cast, shop):
    client = cast.client_for(cast.agent)
    assert client.get("/console/contracts/new/").status_code == 403
    form = sale(organization=cast.acme.pk, preset=Preset.BANK, covered_products=[shop.product.pk])
    assert client.post("/console/contracts/new/", form).status_code == 403
    assert not Contract.objects.exists()
    page = client.get(f"/console/organizations/{cast.acme.pk}/").content.decode()
    assert "/console/contracts/new/" not in page
