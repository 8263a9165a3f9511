"""The low-balance threshold is stated in the bank's unit: incidents, or hours."""

from __future__ import annotations

from retainer.contracts import actions
from retainer.contracts.choices import AllowanceUnit, ContractEventType, Preset, ThresholdKind
from retainer.contracts.terms import preset_terms

from .conftest import TODAY


def test_an_incident_threshold_counts_incidents() -> None:
    terms = preset_terms(Preset.BANK, unit=AllowanceUnit.INCIDENTS, low_balance_threshold=2)
    assert terms.low_balance_at() == 2


def test_an_hour_threshold_counts_hours_not_minutes() -> None:
    terms = preset_terms(
        Preset.BANK, unit=AllowanceUnit.HOURS, quantity=40 * 60, low_balance_threshold=2
    )
    assert terms.low_balance_at() == 120  # ledger minutes


def test_a_percent_threshold_is_a_share_of_the_allowance_in_any_unit() -> None:
    for unit, quantity in ((AllowanceUnit.HOURS, 6000), (AllowanceUnit.INCIDENTS, 10)):
        terms = preset_terms(
            Preset.BANK, unit=unit, quantity=quantity,
            low_balance_kind=ThresholdKind.PERCENT, low_balance_threshold=10,
        )  # fmt: skip
        assert terms.low_balance_at() == quantity // 10


def test_a_40_hour_bank_warns_at_2_hours_left(cast, shop) -> None:
    bank = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product],
        terms={"unit": "hours", "quantity": 40 * 60, "low_balance_threshold": 2},
        actor=cast.admin,
    )  # fmt: skip
    warnings = bank.events.filter(type=ContractEventType.LOW_BALANCE)
    actions.do_consume(bank, quantity=37 * 60, key="a", source_type="admin", actor=None)
    assert not warnings.exists()  # 3:00 left
    actions.do_consume(bank, quantity=61, key="b", source_type="admin", actor=None)
    assert warnings.get().data["balance"] == 119  # 1:59 left


def _sell_from_the_console(cast, shop, unit: str, quantity: str) -> int:
    """A plan made in the console with a threshold of 2 (in the bank's unit), and a
    contract sold on it; returns the contract's low-balance point in ledger units."""
    from retainer.contracts.models import Contract, SupportPlan

    from .test_console_plans import plan_form

    client = cast.client_for(cast.billing)
    form = plan_form(
        Preset.BANK, unit=unit, quantity=quantity, low_balance_kind="absolute",
        low_balance_threshold=2, products=[shop.product.pk],
    )  # fmt: skip
    assert client.post("/console/plans/new/", form).status_code == 302
    plan = SupportPlan.objects.get(code="gold")
    sale = {"organization": cast.acme.pk, "plan": plan.pk, "start_date": TODAY.isoformat()}
    assert client.post("/console/contracts/new/", sale).status_code == 302
    point = Contract.objects.get().low_balance_at
    assert point is not None
    return point


def test_a_threshold_of_2_on_a_40_hour_plan_from_the_form_is_2_hours(cast, shop) -> None:
    assert _sell_from_the_console(cast, shop, "hours", "40") == 120  # was 2 minutes


def test_a_threshold_of_2_on_an_incident_plan_from_the_form_is_2_incidents(cast, shop) -> None:
    assert _sell_from_the_console(cast, shop, "incidents", "10") == 2


def test_the_api_states_an_hour_threshold_in_hours(cast, shop) -> None:
    from .helpers import create_contract

    body = create_contract(
        cast.client_for(cast.billing), organization=cast.acme.pk, preset="bank",
        start_date="2026-03-01", covered_products=[shop.product.pk],
        terms={"unit": "hours", "quantity": 2400, "low_balance_threshold": 2},
    )  # fmt: skip
    assert body["terms"]["low_balance_threshold"] == 2
    assert body["low_balance_at"] == 120  # ledger minutes: 2:00 left


def test_the_contract_page_states_the_threshold_in_the_banks_unit(cast, shop) -> None:
    hours = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=None,
        terms={"unit": "hours", "quantity": 40 * 60, "low_balance_threshold": 2},
    )  # fmt: skip
    page = cast.client_for(cast.agent).get(f"/console/contracts/{hours.pk}/").content.decode()
    assert "2:00 h left" in page
