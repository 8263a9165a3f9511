"""The announcement that a contract is about to end (``contract.expiring``): once per
contract and end date, whatever the runs, also from two workers at once; a renewal is
announced again for its own end."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from retainer.contracts import actions
from retainer.contracts.choices import ContractEventType, Preset
from retainer.contracts.models import Contract, ContractEvent
from retainer.contracts.tests.conftest import TODAY
from retainer.lib.models import OutboxMessage
from retainer.periodic import announce_expiring_contracts_task


def sell(cast, shop, *, ends: dt.date, organization=None) -> Contract:
    return actions.do_create_contract(
        organization=organization or cast.acme,
        preset=Preset.BANK,
        terms={"currency": (organization or cast.acme).currency},
        start_date=ends - dt.timedelta(days=300),
        end_date=ends,
        covered_products=[shop.product],
        actor=cast.admin,
    )


def announcements() -> list[tuple[int, dict]]:
    rows = ContractEvent.objects.filter(type=ContractEventType.CONTRACT_EXPIRING).order_by("id")
    return [(row.contract_id or 0, row.data) for row in rows]


def test_contracts_ending_within_the_window_are_announced_once(cast, shop):
    soon = sell(cast, shop, ends=TODAY + dt.timedelta(days=10))
    edge = sell(cast, shop, ends=TODAY + dt.timedelta(days=30), organization=cast.globex)
    later = sell(cast, shop, ends=TODAY + dt.timedelta(days=31))
    sell(cast, shop, ends=TODAY - dt.timedelta(days=1))  # ended yesterday
    cancelled = sell(cast, shop, ends=TODAY + dt.timedelta(days=5))
    actions.do_cancel_contract(cancelled, reason="Lost", actor=cast.admin)

    assert actions.do_announce_expiring_contracts(today=TODAY) == [soon.pk, edge.pk]
    assert actions.do_announce_expiring_contracts(today=TODAY) == []
    assert actions.do_announce_expiring_contracts(today=TODAY + dt.timedelta(days=1)) == [later.pk]
    assert announcements() == [
        (soon.pk, {"organization": cast.acme.pk, "end_date": "2026-03-12", "days_left": 10}),
        (edge.pk, {"organization": cast.globex.pk, "end_date": "2026-04-01", "days_left": 30}),
        (later.pk, {"organization": cast.acme.pk, "end_date": "2026-04-02", "days_left": 30}),
    ]
    message = OutboxMessage.objects.get(topic="contract.expiring", payload__refs__contract=soon.pk)
    assert message.payload["end_date"] == "2026-03-12"
    assert Contract.objects.get(pk=soon.pk).expiry_announced_for == soon.end_date


def test_the_window_is_a_setting(cast, shop, settings):
    settings.RETAINER_CONTRACT_EXPIRING_DAYS = 5
    sell(cast, shop, ends=TODAY + dt.timedelta(days=10))
    assert actions.do_announce_expiring_contracts(today=TODAY) == []
    settings.RETAINER_CONTRACT_EXPIRING_DAYS = 10
    assert len(actions.do_announce_expiring_contracts(today=TODAY)) == 1


def test_a_renewed_contract_is_announced_again_for_its_own_end(cast, shop):
    old = sell(cast, shop, ends=TODAY + dt.timedelta(days=10))
    assert actions.do_announce_expiring_contracts(today=TODAY) == [old.pk]
    renewal = actions.do_renew_contract(old, actor=cast.admin)
    assert renewal.end_date is not None
    near_its_end = renewal.end_date - dt.timedelta(days=20)
    assert actions.do_announce_expiring_contracts(today=near_its_end) == [renewal.pk]
    assert actions.do_announce_expiring_contracts(today=near_its_end) == []
    assert [contract for contract, _ in announcements()] == [old.pk, renewal.pk]
    assert announcements()[1][1]["end_date"] == renewal.end_date.isoformat()


def test_the_daily_job_announces_once(cast, shop):
    sell(cast, shop, ends=timezone.localdate() + dt.timedelta(days=3))
    assert announce_expiring_contracts_task.call_local() == 1
    assert announce_expiring_contracts_task.call_local() == 0
    assert len(announcements()) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_announce_each_contract_once(cast, shop):
    contracts = [sell(cast, shop, ends=TODAY + dt.timedelta(days=d)) for d in (3, 9, 20)]
    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(actions.do_announce_expiring_contracts(today=TODAY))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(pk for result in results for pk in result) == sorted(c.pk for c in contracts)
    assert sorted(contract for contract, _ in announcements()) == sorted(c.pk for c in contracts)
    assert OutboxMessage.objects.filter(topic="contract.expiring").count() == 3
