"""Contracts have human names: generated at sale and renewal when none is given,
editable, and shown wherever a contract is (pages, the API, ``str``)."""

from __future__ import annotations

import pytest

from retainer.contracts import actions, checks
from retainer.contracts.choices import ContractEventType, Preset
from retainer.contracts.models import Contract
from retainer.contracts.terms import preset_terms

from .conftest import TODAY
from .helpers import create_contract


def sell(cast, shop, **values) -> Contract:
    values = {"organization": cast.acme, "preset": Preset.BANK, "start_date": TODAY,
              "covered_products": [shop.product], "actor": cast.admin, **values}  # fmt: skip
    return actions.do_create_contract(**values)


def test_a_name_is_made_of_organization_plan_or_kind_and_start_year(cast, shop):
    plan = actions.do_create_plan(
        code="gold", name="Gold", terms=preset_terms(Preset.BANK), actor=None
    )
    assert sell(cast, shop, plan=plan).name == "Acme — Gold 2026"
    assert sell(cast, shop).name == "Acme — Incident bank 2026"
    hours = sell(cast, shop, terms={"unit": "hours", "quantity": 600})
    assert hours.name == "Acme — Hour bank 2026"
    assert str(hours) == "Acme — Hour bank 2026"
    assert sell(cast, shop, preset=Preset.MAINTENANCE).name == "Acme — Maintenance 2026"
    assert sell(cast, shop, name="  Acme   support ").name == "Acme support"


def test_a_renewal_is_named_for_its_own_year_unless_a_name_is_given(cast, shop):
    first = sell(cast, shop)
    renewal = checks.check_renew_contract(cast.admin, first)
    assert renewal.name == "Acme — Incident bank 2027"
    named = checks.check_renew_contract(cast.admin, sell(cast, shop), name="Acme bank, year 2")
    assert named.name == "Acme bank, year 2"


def test_renaming_in_the_console_records_the_change(cast, shop):
    contract = sell(cast, shop)
    client = cast.client_for(cast.manager)
    client.post(f"/console/contracts/{contract.pk}/name/", {"name": "Acme — Platinum 2026"})
    contract.refresh_from_db()
    assert contract.name == "Acme — Platinum 2026"
    event = contract.events.get(type=ContractEventType.CONTRACT_RENAMED)
    assert event.data == {"old": "Acme — Incident bank 2026", "new": "Acme — Platinum 2026"}
    refused = client.post(f"/console/contracts/{contract.pk}/name/", {"name": " "}, follow=True)
    assert "needs a name" in refused.content.decode() or "required" in refused.content.decode()
    assert (
        cast.client_for(cast.agent)
        .post(f"/console/contracts/{contract.pk}/name/", {"name": "Mine"})
        .status_code
        == 403
    )
    contract.refresh_from_db()
    assert contract.name == "Acme — Platinum 2026"


def test_pages_and_the_api_show_the_name_not_a_number(cast, shop):
    contract = sell(cast, shop)
    client = cast.client_for(cast.agent)
    for url in (
        "/console/contracts/",
        f"/console/contracts/{contract.pk}/",
        f"/console/organizations/{cast.acme.pk}/",
    ):
        page = client.get(url).content.decode()
        assert "Acme — Incident bank 2026" in page, url
        assert f"#{contract.pk}" not in page, url
    body = cast.client_for(cast.contact).get(f"/api/v1/contracts/{contract.pk}/").json()
    assert body["name"] == "Acme — Incident bank 2026"


def test_the_api_takes_a_name_at_sale(cast, shop):
    body = create_contract(
        cast.client_for(cast.billing), organization=cast.acme.pk, preset="bank",
        start_date="2026-03-01", covered_products=[shop.product.pk], name="Acme priority bank",
    )  # fmt: skip
    assert body["name"] == "Acme priority bank"


@pytest.mark.parametrize("name", ["", "x" * 201])
def test_a_name_is_one_to_200_characters(cast, shop, name):
    contract = sell(cast, shop)
    with pytest.raises(Exception, match="name"):
        checks.check_rename_contract(cast.admin, contract, name=name)
