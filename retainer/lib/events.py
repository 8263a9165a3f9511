"""Typed events: one class per event type, written with its outbox row in one transaction.

Each app declares its event types in ``<app>/events.py`` as frozen dataclasses that
subclass :class:`Event`::

    @dataclass(frozen=True, kw_only=True)
    class CaseAssigned(Event):
        name = "case.assigned"
        type = CaseEventType.ASSIGNED
        customer_fields = frozenset({"assignee_name"})

        assignee: int | None
        assignee_name: str

The dataclass fields are the payload: writers construct the class (a missing or unknown
key fails at the call site), readers get the same class back with :meth:`Event.from_data`.
``customer_fields`` is the allow-list of what a customer may read of it; staff read every
field. A customer-facing rendering calls :meth:`Event.visible_to`, never the raw ``data``.

:func:`record` writes the app's history row (``CaseEvent``, ``ContractEvent`` …) and its
:class:`~retainer.lib.models.OutboxMessage` in the caller's transaction; after commit the
dispatcher (``lib/outbox.py``) hands the message to its subscribers. A rolled-back action
leaves neither row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self, TypeVar

from django.db import models, transaction
from django.utils import timezone

from retainer.lib import compiled

M = TypeVar("M", bound=models.Model)


class Audience(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


_TYPES: dict[str, type[Event]] = {}
_BY_HISTORY_TYPE: dict[tuple[str, str], type[Event]] = {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event type. Subclasses set ``name`` (``<noun>.<verb>``, the outbox
    topic), ``type`` (the history row's type constant) and ``customer_fields``."""

    name: ClassVar[str]
    type: ClassVar[str]
    customer_fields: ClassVar[frozenset[str]] = frozenset()
    #: The model whose ``type`` column holds ``type`` (set by the app's base class).
    history: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return  # an abstract base, e.g. one app's common class
        if name in _TYPES and _TYPES[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"Event name {name!r} is declared twice.")
        _TYPES[name] = cls
        _BY_HISTORY_TYPE[(cls.history, str(cls.type))] = cls

    def __post_init__(self) -> None:
        unknown = self.customer_fields - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"{type(self).__name__}.customer_fields names {sorted(unknown)}.")

    @property
    def data(self) -> dict[str, Any]:
        """The payload as JSON values (what the history row's ``data`` holds)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def visible_to(self, audience: Audience) -> dict[str, Any]:
        """The payload one audience may read: staff everything, customers the allow-list."""
        data = self.data
        if audience is Audience.STAFF:
            return data
        return {key: value for key, value in data.items() if key in self.customer_fields}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild the event from a stored payload. Keys written by an older version of the
        type that it no longer has are dropped; a field added since reads as its default."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


def event_types() -> dict[str, type[Event]]:
    """Every declared event type by name (the catalogue ``docs/events.md`` documents)."""
    return dict(_TYPES)


def event_class(history: str, type: str) -> type[Event] | None:
    """The event type of a history row (``history`` is its model label)."""
    return _BY_HISTORY_TYPE.get((history, type))


def parse(row: Any) -> Event | None:
    """The typed event of a history row (``None`` for a type no class declares)."""
    cls = event_class(row._meta.label_lower, row.type)
    return None if cls is None else cls.from_data(row.data)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, dt.timedelta)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def _refs(fields: Mapping[str, Any]) -> dict[str, Any]:
    """What a history row points at, as ids (``case``, ``contract``, ``actor`` …)."""
    refs: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, models.Model):
            refs[key] = value.pk
        elif key.endswith("_id"):
            refs[key.removesuffix("_id")] = value
    return refs


def record(model: type[M], event: Event, **fields: Any) -> M:
    """Write one history row of ``model`` for ``event`` and its outbox message.

    ``fields`` are the row's other columns (``case=…``, ``actor=…``, ``is_internal=…``).
    Runs in the caller's transaction; call it from inside an action.
    """
    return record_many(model, [(event, fields)])[0]


def record_many(model: type[M], items: Sequence[tuple[Event, Mapping[str, Any]]]) -> list[M]:
    """:func:`record` for several events at once: two inserts, whatever their number."""
    from retainer.lib import outbox

    _check_history(model, items)
    now = timezone.now()
    rows = [
        model(type=event.type, data=event.data, **{"created_at": now, **fields})
        for event, fields in items
    ]
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Events are recorded inside the action's transaction.")
    compiled.insert_many(rows)
    outbox.publish(
        [
            outbox.Publication(
                topic=event.name,
                source=model._meta.label_lower,
                source_id=row.pk,
                payload={**event.data, "refs": _refs(fields)},
                occurred_at=row.created_at,  # type: ignore[attr-defined]
            )
            for row, (event, fields) in zip(rows, items, strict=True)
        ]
    )
    return rows


def _check_history(
    model: type[models.Model], items: Sequence[tuple[Event, Mapping[str, Any]]]
) -> None:
    label = model._meta.label_lower
    for event, _fields in items:
        if event.history != label:
            raise TypeError(f"{type(event).__name__} is not an event of {label}.")
