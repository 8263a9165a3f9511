"""The event catalogue: every history type is a typed event, documented, customer-safe."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction

from retainer.lib import catalogue
from retainer.lib.events import Audience, Event, event_class, parse, record
from retainer.lib.models import OutboxMessage

TYPES = catalogue.load_all()
HISTORIES = sorted({cls.history for cls in TYPES.values()})


def _history_choices(label: str) -> list[str]:
    model = apps.get_model(label)
    return [str(value) for value, _ in model._meta.get_field("type").choices or []]


@pytest.mark.parametrize("label", HISTORIES)
def test_every_type_a_history_row_can_have_is_a_typed_event(label: str) -> None:
    missing = [t for t in _history_choices(label) if event_class(label, t) is None]
    assert not missing, f"{label}: no event class for {missing}"


def test_every_app_history_is_covered() -> None:
    assert HISTORIES == [
        "accounts.accountevent",
        "automation.automationevent",
        "billing.billingevent",
        "cases.caseevent",
        "catalog.catalogevent",
        "contracts.contractevent",
        "kb.kbevent",
        "mail.mailevent",
        "success.successevent",
    ]


def test_the_documented_catalogue_is_the_one_the_code_declares() -> None:
    document = catalogue.DOC.read_text()
    assert catalogue.BEGIN in document and catalogue.END in document
    assert catalogue.rendered(document) == document, (
        "docs/events.md is out of date: run "
        '`python manage.py shell -c "from retainer.lib.catalogue import write; write()"`'
    )


def _sample(cls: type[Event]) -> Event:
    """An instance with a recognisable value in every field."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        hint = str(hints[field.name])
        if "int" in hint and "str" not in hint:
            values[field.name] = 424242
        elif "bool" in hint:
            values[field.name] = True
        elif "list" in hint or "tuple" in hint:
            values[field.name] = []
        elif "dict" in hint or "Mapping" in hint:
            values[field.name] = {}
        else:
            values[field.name] = f"sentinel-{field.name}"
    return cls(**values)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_each_event_reads_back_as_itself_and_customers_get_only_the_allow_list(
    name: str,
) -> None:
    cls = TYPES[name]
    event = _sample(cls)
    assert cls.from_data(event.data) == event
    assert set(event.visible_to(Audience.CUSTOMER)) == set(cls.customer_fields)
    assert set(event.visible_to(Audience.STAFF)) == {f.name for f in dataclasses.fields(cls)}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_neither_history_nor_outbox() -> None:
    cls = TYPES["organization.created"]
    model = apps.get_model(cls.history)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(model, _sample(cls))
        _ = 1 / 0
    assert not model.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_parse_gives_none_for_a_type_nobody_declares() -> None:
    class Row:
        type = "no_such_type"
        data: dict[str, Any] = {}

        class _meta:  # stands in for a model's options
            label_lower = "cases.caseevent"

    assert parse(Row()) is None
