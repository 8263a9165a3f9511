"""The typed events of the catalog: each type round-trips through its history row with
one outbox message, a save writes one event, and a refused save writes none."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from retainer.catalog import actions, events
from retainer.catalog.choices import CatalogEventType
from retainer.catalog.models import CatalogEvent
from retainer.lib.events import Audience, parse, record
from retainer.lib.models import OutboxMessage

CLASSES = [
    events.ProductSaved,
    events.ReleaseSaved,
    events.EnvironmentSaved,
    events.ScopePolicySaved,
    events.OfferingSaved,
]


def history() -> tuple[int, int]:
    return CatalogEvent.objects.count(), OutboxMessage.objects.count()


def test_every_catalog_event_type_has_a_class():
    assert {cls.type for cls in CLASSES} == set(CatalogEventType.values)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.name)
def test_each_event_reads_back_from_its_history_row(db, cls):
    event = cls(created=True, changes={"name": {"old": None, "new": "Ledger"}})
    with transaction.atomic():
        row = record(CatalogEvent, event, actor=None, object_repr="Ledger")
    row.refresh_from_db()
    assert parse(row) == event
    assert row.object_repr == "Ledger"
    message = OutboxMessage.objects.get(source="catalog.catalogevent", source_id=row.pk)
    assert message.topic == cls.name


def test_the_published_catalog_history_is_readable_by_customers():
    event = events.ProductSaved(changes={"name": {"old": "A", "new": "B"}})
    assert event.visible_to(Audience.CUSTOMER) == event.visible_to(Audience.STAFF)


def test_a_new_scope_policy_with_environments_is_one_event(cast):
    product = actions.do_save_product(None, actor=cast.admin, name="Ledger", code="ledger")
    ubuntu = actions.do_save_environment(None, actor=cast.admin, name="Ubuntu", version="24.04")
    before = history()
    policy = actions.do_save_scope_policy(
        None, actor=cast.admin, product=product, supported_environments=[ubuntu]
    )
    assert history() == (before[0] + 1, before[1] + 1)
    row = CatalogEvent.objects.get(type=CatalogEventType.SCOPE_POLICY_SAVED)
    event = parse(row)
    assert isinstance(event, events.ScopePolicySaved) and event.created
    assert event.changes["supported_environments"] == {"old": [], "new": [ubuntu.pk]}
    assert row.product_id == product.pk and row.object_repr == str(policy)


def test_saving_without_a_change_writes_no_event(cast):
    product = actions.do_save_product(None, actor=cast.admin, name="Ledger", code="ledger")
    before = history()
    actions.do_save_product(product, actor=cast.admin, name="Ledger")
    assert history() == before


def test_a_refused_save_writes_nothing(cast):
    product = actions.do_save_product(
        None, actor=cast.admin, name="Ledger", code="ledger", list_price=Decimal(10)
    )
    before = history()
    with pytest.raises(ValidationError):
        actions.do_save_product(product, actor=cast.admin, name="Renamed", code="Not A Slug")
    product.refresh_from_db()
    assert (product.name, product.code) == ("Ledger", "ledger")
    assert history() == before


def test_a_rolled_back_action_leaves_neither_history_nor_outbox_row(cast):
    before = history()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.do_save_environment(None, actor=cast.admin, name="Solaris", version="11")
        _ = 1 / 0
    assert history() == before
