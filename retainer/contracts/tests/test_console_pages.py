"""Contracts in the console: list, detail with ledger, top-up (once per form), renew,
cancel, and the plan catalogue."""

from __future__ import annotations

import datetime as dt

import pytest

from retainer.contracts import actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import Contract, LedgerEntry


@pytest.fixture
def bank(cast, shop) -> Contract:
    return actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=dt.date(2026, 1, 1),
        covered_products=[shop.product], actor=cast.admin,
    )  # fmt: skip


def test_the_list_and_detail_show_the_ledger(cast, bank):
    client = cast.client_for(cast.agent)
    assert "Acme — Incident bank 2026" in client.get("/console/contracts/").content.decode()
    page = client.get(f"/console/contracts/{bank.pk}/").content.decode()
    assert "Grant" in page and "10 incidents" in page


def test_a_top_up_form_submitted_twice_tops_up_once(cast, bank):
    client = cast.client_for(cast.manager)
    form = {"quantity": 5, "price": "500", "key": "console-top-up:abc"}
    client.post(f"/console/contracts/{bank.pk}/top-up/", form)
    client.post(f"/console/contracts/{bank.pk}/top-up/", form)
    bank.refresh_from_db()
    assert bank.balance == 15
    assert LedgerEntry.objects.filter(contract=bank, kind="top_up").count() == 1


def test_an_agent_cannot_top_up_and_nothing_changes(cast, bank):
    response = cast.client_for(cast.agent).post(
        f"/console/contracts/{bank.pk}/top-up/", {"quantity": 5, "key": "k"}
    )
    assert response.status_code == 403
    bank.refresh_from_db()
    assert bank.balance == 10


def test_cancel_needs_a_reason_and_a_cancelled_contract_takes_no_top_up(cast, bank):
    client = cast.client_for(cast.manager)
    refused = client.post(f"/console/contracts/{bank.pk}/cancel/", {"reason": ""}, follow=True)
    assert "needs a reason" in refused.content.decode()
    client.post(f"/console/contracts/{bank.pk}/cancel/", {"reason": "Customer left"})
    bank.refresh_from_db()
    assert bank.status == "cancelled"
    entries = LedgerEntry.objects.filter(contract=bank).count()
    page = client.post(
        f"/console/contracts/{bank.pk}/top-up/", {"quantity": 1, "key": "k2"}, follow=True
    )
    assert "cancelled" in page.content.decode().lower()
    assert LedgerEntry.objects.filter(contract=bank).count() == entries


def test_renewing_opens_the_next_term(cast, bank):
    response = cast.client_for(cast.manager).post(f"/console/contracts/{bank.pk}/renew/")
    renewal = Contract.objects.exclude(pk=bank.pk).get()
    assert response["Location"] == f"/console/contracts/{renewal.pk}/"
    assert renewal.term_number == 2


def test_customers_get_no_console_contract_pages(cast, bank):
    client = cast.client_for(cast.customer_admin)
    assert client.get("/console/contracts/").status_code == 404
    assert client.get(f"/console/contracts/{bank.pk}/").status_code == 404
    assert client.get("/console/plans/").status_code == 404
