"""One rule per operation whatever the door: the console page and the API refuse the same
actors with a 403, validate the same way and convert units in one place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retainer.contracts import actions, checks
from retainer.contracts.choices import EntryKind, Preset, QuantityUnit
from retainer.contracts.models import Contract, ContractEvent, EntitlementDecision, LedgerEntry
from retainer.lib.errors import InvalidInput, NotPermitted

from .conftest import TODAY
from .helpers import post


def _sell(cast, shop, **terms) -> Contract:
    return actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], terms=terms, actor=cast.admin,
    )  # fmt: skip


@pytest.fixture
def bank(cast, shop) -> Contract:
    return _sell(cast, shop)


@pytest.fixture
def hours(cast, shop) -> Contract:
    return _sell(cast, shop, unit="hours", quantity=600)


def _state(contract: Contract) -> tuple[int, int, int]:
    contract.refresh_from_db()
    return (
        contract.balance,
        LedgerEntry.objects.filter(contract=contract).count(),
        ContractEvent.objects.filter(contract=contract).count(),
    )


def test_an_agent_is_refused_a_top_up_with_403_at_every_door(cast, bank) -> None:
    client = cast.client_for(cast.agent)
    before = _state(bank)
    console = client.post(f"/console/contracts/{bank.pk}/top-up/", {"quantity": 1, "key": "k"})
    api = post(client, "contract_top_up", bank.pk, quantity=1, key="k")
    assert (console.status_code, api.status_code) == (403, 403)
    assert api.json()["code"] == "permission_denied"
    assert _state(bank) == before


def test_a_refused_actor_learns_nothing_about_a_bad_body(cast, bank) -> None:
    client = cast.client_for(cast.agent)
    assert client.post(f"/console/contracts/{bank.pk}/top-up/", {}).status_code == 403
    assert post(client, "contract_top_up", bank.pk).status_code == 403


def test_an_agent_is_refused_renewal_and_cancellation_at_every_door(cast, bank) -> None:
    client = cast.client_for(cast.agent)
    before = _state(bank)
    answers = [
        client.post(f"/console/contracts/{bank.pk}/renew/").status_code,
        post(client, "contract_renew", bank.pk).status_code,
        client.post(f"/console/contracts/{bank.pk}/cancel/", {"reason": "x"}).status_code,
        post(client, "contract_cancel", bank.pk, reason="x").status_code,
    ]
    assert answers == [403, 403, 403, 403]
    assert _state(bank) == before
    with pytest.raises(NotPermitted):
        checks.check_renew_contract(cast.agent, bank)


def test_a_cancellation_needs_a_reason_at_every_door(cast, bank) -> None:
    client = cast.client_for(cast.manager)
    before = _state(bank)
    page = client.post(f"/console/contracts/{bank.pk}/cancel/", {"reason": " "}, follow=True)
    api = post(client, "contract_cancel", bank.pk)
    assert "needs a reason" in page.content.decode()
    assert api.status_code == 400 and "reason" in api.json()["errors"]
    assert _state(bank) == before


def test_the_console_tops_up_an_hour_bank_in_hours(cast, hours) -> None:
    client = cast.client_for(cast.billing)
    client.post(f"/console/contracts/{hours.pk}/top-up/", {"quantity": "1.5", "key": "c-1"})
    entry = LedgerEntry.objects.get(contract=hours, kind=EntryKind.TOP_UP)
    assert entry.quantity == 90


def test_the_api_tops_up_in_minutes_or_in_hours_when_it_says_so(cast, hours) -> None:
    client = cast.client_for(cast.billing)
    minutes = post(client, "contract_top_up", hours.pk, quantity=90, key="a-1")
    in_hours = post(client, "contract_top_up", hours.pk, quantity="1.5", unit="hours", key="a-2")
    assert minutes.json()["entry"]["quantity"] == 90
    assert in_hours.json()["entry"]["quantity"] == 90


def test_hours_are_refused_on_an_incident_bank(cast, bank) -> None:
    response = post(
        cast.client_for(cast.billing), "contract_top_up", bank.pk, quantity=1, unit="hours", key="k"
    )
    assert response.status_code == 400 and response.json()["code"] == "unit_mismatch"
    with pytest.raises(InvalidInput):
        checks.check_top_up(
            cast.billing, bank, quantity=1, unit=QuantityUnit.HOURS, key="console-top-up:1"
        )


def test_a_part_of_a_minute_is_refused(cast, hours) -> None:
    response = post(
        cast.client_for(cast.billing), "contract_top_up", hours.pk, quantity="0.5", key="k"
    )
    assert response.status_code == 400 and "quantity" in response.json()["errors"]


def test_a_top_up_without_any_key_is_refused(cast, bank) -> None:
    response = post(cast.client_for(cast.billing), "contract_top_up", bank.pk, quantity=1)
    assert response.status_code == 400 and response.json()["code"] == "key_required"


def test_an_adjustment_in_hours_is_stored_in_minutes(cast, hours) -> None:
    movement = checks.check_adjust_balance(
        cast.billing, hours, quantity=Decimal(-2), unit="hours", key="adj-1", reason="Recount"
    )
    assert movement.entry.quantity == -120


def test_a_customer_cannot_override_a_decision(cast, bank) -> None:
    decision = EntitlementDecision(organization=cast.acme, decided_on=TODAY)  # never saved
    with pytest.raises(NotPermitted):
        checks.check_override_decision(
            cast.contact.user, decision, new_outcome="covered", contract=bank, reason="please"
        )
