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
