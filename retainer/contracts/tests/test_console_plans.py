"""The plan catalogue's forms: create a plan on a preset's terms, change it (a new
version), field errors from ``PlanTerms``, and who may use them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from retainer.contracts import actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract, SupportPlan
from retainer.contracts.terms import preset_terms

from .conftest import TODAY


def plan_form(preset: str, **changes: Any) -> dict[str, Any]:
    """What the form sends for ``preset``'s default terms, with ``changes``."""
    terms = preset_terms(preset)
    per_unit = 60 if terms.unit == "hours" else 1
    data: dict[str, Any] = {
        "preset": preset, "name": "Gold", "code": "gold", "tier": "gold",
        "unit": terms.unit, "quantity": terms.quantity / per_unit,
        "term_months": terms.term_months or "", "term_days": terms.term_days or "",
        "decrement_point": "", "exhaustion_policy": terms.exhaustion_policy,
        "overage_rate": terms.overage_rate, "low_balance_kind": terms.low_balance_kind,
        "low_balance_threshold": terms.low_balance_threshold, "rollover_cap": "",
        "allowance_expires": "on", "channels": list(terms.channels),
        "authorization_policy": terms.authorization_policy, "max_named_contacts": "",
        "required_course": "", "price_basis": terms.price_basis,
        "price_amount": terms.price_amount, "price_percent": terms.price_percent,
        "named_engineer_price": "0", "extra_contact_price": "0",
        "uplift_percent": terms.uplift_percent, "currency": "EUR",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_new_plan_page_offers_every_preset(cast):
    page = cast.client_for(cast.billing).get("/console/plans/new/").content.decode()
    for preset in Preset.values:
        assert f"?preset={preset}" in page


@pytest.mark.parametrize("preset", Preset.values)
def test_a_plan_is_created_on_each_preset_from_its_form(cast, shop, preset):
    client = cast.client_for(cast.billing)
    assert client.get(f"/console/plans/new/?preset={preset}").status_code == 200
    form = plan_form(preset, products=[shop.product.pk])
    response = client.post("/console/plans/new/", form)
    assert response.status_code == 302, response.content.decode()
    plan = SupportPlan.objects.get(code="gold")
    assert (plan.preset, plan.version, plan.tier) == (preset, 1, "gold")
    assert list(plan.products.all()) == [shop.product]


def test_an_hour_plan_states_its_allowance_and_threshold_in_hours(cast, shop):
    form = plan_form(
        Preset.BANK, unit="hours", quantity="40", low_balance_threshold=2, price_amount="6000",
        rollover_cap="5.5", low_balance_kind="absolute",
    )  # fmt: skip
    cast.client_for(cast.billing).post("/console/plans/new/", form)
    terms = SupportPlan.objects.get(code="gold").plan_terms
    assert (terms.quantity, terms.rollover_cap, terms.low_balance_threshold) == (2400, 330, 2)
    assert terms.decrement_point == "time_entry"  # follows the unit
    assert terms.low_balance_at() == 120  # 2:00 left, in ledger minutes


def test_terms_that_make_no_sense_come_back_beside_their_fields(cast):
    client = cast.client_for(cast.manager)
    response = client.post("/console/plans/new/", plan_form(Preset.PAY_AS_YOU_GO, overage_rate="0"))
    assert response.status_code == 400
    assert "Billing overage needs a positive overage rate." in response.content.decode()
    page = client.post("/console/plans/new/", plan_form(Preset.BANK, channels=[])).content.decode()
    assert "This field is required." in page  # no channel
    form = plan_form(Preset.BANK, unit="incidents", quantity="2.5")
    page = client.post("/console/plans/new/", form).content.decode()
    assert "Give a whole number of incidents." in page
    form = plan_form(Preset.BANK, authorization_policy="trained")
    page = client.post("/console/plans/new/", form).content.decode()
    assert "names the required course" in page
    assert not SupportPlan.objects.exists()


def test_a_code_already_used_is_refused_beside_the_code(cast):
    actions.do_create_plan(code="gold", name="Gold", terms=preset_terms(Preset.BANK), actor=None)
    response = cast.client_for(cast.admin).post("/console/plans/new/", plan_form(Preset.BANK))
    assert response.status_code == 400
    assert "A plan with this code exists" in response.content.decode()


def test_changing_a_plan_saves_its_next_version_and_sold_contracts_keep_theirs(cast, shop):
    plan = actions.do_create_plan(
        code="gold", name="Gold", terms=preset_terms(Preset.BANK, quantity=10),
        products=[shop.product], actor=cast.admin,
    )  # fmt: skip
    sold = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, plan=plan, start_date=TODAY, actor=None
    )
    client = cast.client_for(cast.billing)
    page = client.get(f"/console/plans/{plan.pk}/edit/").content.decode()
    assert 'value="10"' in page and "version 2" in page
    form = plan_form(
        Preset.BANK, quantity=12, name="Gold 2027", uplift_percent="4", products=[shop.product.pk]
    )
    del form["code"]
    response = client.post(f"/console/plans/{plan.pk}/edit/", form)
    assert response.status_code == 302
    new = SupportPlan.objects.get(is_current=True)
    assert (new.version, new.name, new.plan_terms.quantity) == (2, "Gold 2027", 12)
    assert new.plan_terms.uplift_percent == Decimal(4)
    assert list(new.products.all()) == [shop.product]
    assert Contract.objects.get(pk=sold.pk).plan_terms.quantity == 10
    again = client.post(f"/console/plans/{plan.pk}/edit/", form)  # v1 is no longer current
    assert again.status_code == 400
    assert "Only the current version" in again.content.decode()


def test_an_agent_may_not_open_or_send_the_plan_forms(cast):
    plan = actions.do_create_plan(
        code="gold", name="Gold", terms=preset_terms(Preset.BANK), actor=None
    )
    client = cast.client_for(cast.agent)
    assert client.get("/console/plans/new/?preset=bank").status_code == 403
    assert client.get(f"/console/plans/{plan.pk}/edit/").status_code == 403
    assert client.post("/console/plans/new/", plan_form(Preset.BANK, code="x")).status_code == 403
    assert client.post(f"/console/plans/{plan.pk}/edit/", plan_form(Preset.BANK)).status_code == 403
    assert SupportPlan.objects.count() == 1
    assert "New plan" not in client.get("/console/plans/").content.decode()
