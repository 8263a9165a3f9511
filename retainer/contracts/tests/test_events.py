"""The typed events of contracts: every type round-trips through its history row, each
row has its outbox message, and a refused or rolled-back action leaves neither."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from retainer.contracts import actions, events
from retainer.contracts.choices import ContractEventType, Preset
from retainer.contracts.models import ContractEvent
from retainer.lib.errors import DomainError
from retainer.lib.events import Audience, Event, event_class, parse, record
from retainer.lib.models import OutboxMessage

from .conftest import TODAY

SAMPLES: list[Event] = [
    events.PlanCreated(code="gold", version=1),
    events.PlanVersioned(code="gold", version=2, changes={"quantity": {"old": 6000, "new": 3000}}),
    events.ContractCreated(preset=Preset.BANK, price="4500.0000", currency="EUR"),
    events.ContractRenewed(old_status="active", renewal=7, price="4635.0000", rolled_over=2),
    events.ContractCancelled(old="active", reason="Customer left", expired=3),
    events.ContractExpired(expired=4),
    events.ContractExpiring(organization=3, end_date="2026-04-01", days_left=30),
    events.ContractToppedUp(quantity=600, price="1500", currency="EUR", entry=11),
    events.ContractRenamed(old="Acme — Incident bank 2026", new="Acme — Gold 2026"),
    events.NamedContactsChanged(old=[1, 2], new=[2, 3]),
    events.LedgerAdjusted(quantity=-2, reason="Counted twice", entry=12),
    events.LowBalance(balance=2, threshold=2, entry=13),
    events.ExhaustedBalance(balance=0, entry=15),
    events.NegativeBalance(balance=-1, entry=14),
    events.DecisionRecorded(outcome="covered", reason="chosen", source_type="case", source_id="5"),
    events.DecisionOverridden(
        old={"outcome": "not_entitled", "contract": None},
        new={"outcome": "covered", "contract": 3},
        reason="Goodwill",
    ),
    events.TrainingRecorded(contact=5, course="Ledgerline Admin", completed_on="2026-02-01"),
]


def _counts() -> tuple[int, int]:
    return ContractEvent.objects.count(), OutboxMessage.objects.count()


def test_every_contract_event_type_has_exactly_one_class() -> None:
    declared = {type(sample).type for sample in SAMPLES}
    assert declared == set(ContractEventType.values)
    for value in ContractEventType.values:
        assert event_class("contracts.contractevent", value) is not None


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
@pytest.mark.django_db
def test_each_event_reads_back_from_its_row_with_one_outbox_message(event: Event) -> None:
    with transaction.atomic():
        row = record(ContractEvent, event, actor=None)
    assert parse(ContractEvent.objects.get(pk=row.pk)) == event
    message = OutboxMessage.objects.get(source="contracts.contractevent", source_id=row.pk)
    assert message.topic == event.name


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_customers_see_only_the_allow_list(event: Event) -> None:
    every = {f.name for f in dataclasses.fields(event)}
    assert set(event.visible_to(Audience.STAFF)) == every
    assert set(event.visible_to(Audience.CUSTOMER)) == set(type(event).customer_fields)


def test_why_a_contract_was_cancelled_or_a_decision_overridden_is_staff_only() -> None:
    assert "reason" not in events.ContractCancelled.customer_fields
    assert not events.DecisionOverridden.customer_fields
    assert not events.PlanVersioned.customer_fields


def test_every_history_row_of_a_contract_has_one_outbox_message(cast, shop) -> None:
    contract = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], terms={"quantity": 3, "low_balance_threshold": 1},
        actor=cast.admin,
    )  # fmt: skip
    actions.do_consume(contract, quantity=2, key="k1", source_type="admin", actor=cast.admin)
    actions.do_top_up(contract, quantity=2, key="k2", price=Decimal(10), actor=cast.admin)
    actions.do_cancel_contract(contract, reason="Churned", actor=cast.admin)
    rows = ContractEvent.objects.filter(contract=contract)
    assert {row.type for row in rows} >= {
        ContractEventType.CONTRACT_CREATED,
        ContractEventType.LOW_BALANCE,
        ContractEventType.CONTRACT_TOPPED_UP,
        ContractEventType.CONTRACT_CANCELLED,
    }
    for row in rows:
        event = parse(row)
        assert event is not None
        messages = OutboxMessage.objects.filter(source="contracts.contractevent", source_id=row.pk)
        assert list(messages.values_list("topic", flat=True)) == [event.name]


def test_a_refused_top_up_writes_neither_history_nor_outbox(cast, shop) -> None:
    contract = actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=cast.admin,
    )  # fmt: skip
    before = _counts()
    with pytest.raises(DomainError) as refused:
        actions.do_top_up(contract, quantity=1, key="k", currency="USD", actor=cast.admin)
    assert refused.value.code == "currency_mismatch"
    assert _counts() == before


def test_a_rolled_back_action_leaves_neither_history_nor_outbox(cast, shop) -> None:
    before = _counts()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.do_record_training(
            contact=cast.contact, course="Admin", completed_on=dt.date(2026, 1, 5),
            actor=cast.admin,
        )  # fmt: skip
        assert _counts() == (before[0] + 1, before[1] + 1)
        raise RuntimeError("the caller's transaction fails afterwards")
    assert _counts() == before
