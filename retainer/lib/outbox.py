"""The transactional outbox: publishing events and handing them to subscribers.

An action's events are written with one :class:`~retainer.lib.models.OutboxMessage` each,
in the action's own transaction (``lib/events.py``). After commit a dispatch job runs
:func:`dispatch`; a periodic sweep runs it too, so a message whose job was lost (a crash
between commit and enqueue) is still delivered.

Subscribers are declared at project level, in the module named by the
``RETAINER_SUBSCRIPTIONS`` setting (``retainer/subscriptions.py``): a lower app exposes a
handler, the wiring names it, and the app that writes the event never imports it.

Delivery is at least once. A dispatcher claims a batch of pending messages in one
transaction (row locks taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so another
dispatcher takes the next batch instead of waiting; SQLite has one writer at a time),
calls each subscriber's handler in a savepoint, writes the ``delivered`` marks and the
settled messages in bulk, and commits: the handlers' own database writes and their marks
commit together, so they happen exactly once even when the worker is killed (the whole
batch rolls back and is handed over again) or two workers race (neither sees the other's
claimed messages, and the unique delivery row would refuse a second mark). A batch's
transaction lasts at most ``TRANSACTION_SECONDS``, so it never keeps other writers waiting
for long. Effects outside the database (an e-mail, a webhook) may repeat after a kill;
they carry the message id so the receiver can drop repeats. A handler that raises is
retried with back-off, then marked ``failed`` and shown to operators; the messages behind
it go on meanwhile. Messages are handed over in id order within a pass; two dispatchers
running at once work on different batches, so order across them is not promised (nor
was it for a retried delivery).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.module_loading import import_string

from retainer.lib import compiled
from retainer.lib.jobs import enqueue_unless_queued
from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage
from retainer.lib.snapshots import tokens_read_once

logger = logging.getLogger(__name__)

#: Attempts before a delivery is given up and shown as failed.
MAX_ATTEMPTS = 8
#: Messages claimed and settled per transaction.
BATCH = 100
#: A batch's transaction stops taking messages after this long (the rest stay pending).
TRANSACTION_SECONDS = 0.25
#: A dispatch job stops after this long and queues the next one for the rest.
JOB_SECONDS = 20.0


@dataclasses.dataclass(frozen=True)
class Message:
    """What a subscriber receives: the outbox row, read-only."""

    id: int
    topic: str
    payload: Mapping[str, Any]
    occurred_at: dt.datetime

    @property
    def refs(self) -> Mapping[str, Any]:
        """The ids of what the event is about (``case``, ``contract``, ``actor`` …)."""
        refs: Mapping[str, Any] = self.payload.get("refs", {})
        return refs

    def event(self) -> Any:
        """The typed event (``lib/events.py``) this message carries."""
        from retainer.lib.events import event_types

        return event_types()[self.topic].from_data(self.payload)


Handler = Callable[[Message], None]


Wants = Callable[[str, Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True)
class Subscriber:
    """A named handler and the topics it takes: exact names (``case.opened``), a prefix
    (``case.*``) or everything (``*``). The name is stored on each delivery row, so it
    must stay stable once messages were delivered to it.

    ``wants`` (optional) names a function ``(topic, payload) -> bool`` that says, while
    the event is written, whether this subscriber has anything to do with it: the
    e-mail channel acknowledges only cases opened by e-mail, webhooks only go out for
    topics an active endpoint subscribes to. A message no subscriber wants is written
    as dispatched, so it costs no dispatch job and no worker time. The function must
    be cheap (it runs in the writing transaction) and may err towards ``True``: the
    handler still decides what to do."""

    name: str
    handler: str  # dotted path, imported on first delivery
    topics: tuple[str, ...]
    wants: str = ""  # dotted path of a Wants function; empty: every message of the topics

    def takes(self, topic: str) -> bool:
        return any(
            pattern == "*"
            or pattern == topic
            or (pattern.endswith(".*") and topic.startswith(pattern[:-1]))
            for pattern in self.topics
        )

    def wants_message(self, topic: str, payload: Mapping[str, Any]) -> bool:
        return not self.wants or _wants(self.wants)(topic, payload)


@dataclasses.dataclass(frozen=True)
class Publication:
    topic: str
    source: str
    source_id: int
    payload: dict[str, Any]
    occurred_at: dt.datetime


def subscribers() -> tuple[Subscriber, ...]:
    """Every subscriber declared by the project (``settings.RETAINER_SUBSCRIPTIONS``)."""
    return _subscribers(settings.RETAINER_SUBSCRIPTIONS)


@cache
def _subscribers(module: str) -> tuple[Subscriber, ...]:
    declared: Iterable[Subscriber] = import_module(module).SUBSCRIBERS
    result = tuple(declared)
    names = [s.name for s in result]
    if len(names) != len(set(names)):
        raise ValueError(f"{module}: subscriber names must be unique.")
    return result


def subscribers_for(topic: str, payload: Mapping[str, Any] | None = None) -> list[Subscriber]:
    """The subscribers that take ``topic`` and, given a ``payload``, want that message."""
    return [
        s
        for s in subscribers()
        if s.takes(topic) and (payload is None or s.wants_message(topic, payload))
    ]


@cache
def _wants(path: str) -> Wants:
    wants: Wants = import_string(path)
    return wants


@cache
def _handler(path: str) -> Handler:
    handler: Handler = import_string(path)
    return handler


# --- Publishing -------------------------------------------------------------------------------


def publish(publications: list[Publication]) -> None:
    """Write the outbox rows of an action's events, in its transaction, and have them
    dispatched once it commits. A topic nobody subscribes to is written as dispatched."""
    if not publications:
        return
    pending = False
    rows = []
    with tokens_read_once():  # one read per snapshot however many events ask about it
        wanted = [bool(subscribers_for(pub.topic, pub.payload)) for pub in publications]
    for pub, subscribed in zip(publications, wanted, strict=True):
        pending = pending or subscribed
        rows.append(
            OutboxMessage(
                topic=pub.topic,
                source=pub.source,
                source_id=pub.source_id,
                payload=pub.payload,
                occurred_at=pub.occurred_at,
                dispatched_at=None if subscribed else pub.occurred_at,
            )
        )
    compiled.insert_many(rows)
    if pending:
        _dispatch_after_commit()


def _dispatch_after_commit() -> None:
    """Enqueue one dispatch job when the outermost transaction commits (once, however
    many events it published)."""
    conn = transaction.get_connection()
    if any(func is _enqueue_dispatch for _ids, func, _robust in conn.run_on_commit):
        return
    # robust: a queue that cannot be reached must not fail a committed action; the
    # periodic sweep delivers the message then.
    transaction.on_commit(_enqueue_dispatch, robust=True)


def _enqueue_dispatch() -> None:
    from retainer.lib.tasks import DISPATCH_QUEUED, dispatch_outbox_task

    # Under load a dispatch job is nearly always waiting already: it will read this
    # transaction's rows, so one queue write per action is saved.
    enqueue_unless_queued(dispatch_outbox_task, DISPATCH_QUEUED)


# --- Dispatching ------------------------------------------------------------------------------


def dispatch(
    *, now: dt.datetime | None = None, batch: int = BATCH, seconds: float = JOB_SECONDS
) -> int:
    """Hand pending messages to their subscribers; returns how many were settled.

    One pass over the pending messages in id order, ``batch`` at a time, each batch
    claimed and settled in one transaction (see the module docstring). A message is
    settled (``dispatched_at`` set) once each of its subscribers has it or has failed for
    good; a failed delivery stays visible and can be retried. A message waiting for a
    retry is left alone until it is due. After ``seconds`` the pass stops and queues the
    next dispatch job for the rest, so one backlog never holds a worker for long.
    Idempotent and safe to run in several workers at once.
    """
    now = now or timezone.now()
    started = time.monotonic()
    after, settled, isolated = 0, 0, False
    while True:
        try:
            with transaction.atomic():
                claimed = _claim(after=after, now=now, limit=batch)
                if not claimed:
                    return settled
                done, last = _dispatch_claimed(claimed, now, isolated=isolated)
        except _HandlerFailed:
            # Nothing of the batch was kept: hand it over again, each delivery in a
            # savepoint of its own, so the failure is recorded and the others commit.
            isolated = True
            continue
        settled, after, isolated = settled + done, last, False
        if last == claimed[-1].pk and len(claimed) < batch:
            return settled  # nothing was left behind this batch
        if time.monotonic() - started > seconds:
            _dispatch_after_commit()
            return settled


def _claim(*, after: int, now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Lock the next pending messages after ``after`` for this transaction; not those
    another dispatcher holds (PostgreSQL skips them, SQLite has one writer at a time
    anyway) nor those whose failed delivery waits for its next attempt."""
    waiting = OutboxDelivery.objects.filter(
        message=OuterRef("pk"), status=DeliveryStatus.RETRYING, next_attempt_at__gt=now
    )
    pending = OutboxMessage.objects.filter(dispatched_at__isnull=True, pk__gt=after).exclude(
        Exists(waiting)
    )
    if connection.features.has_select_for_update_skip_locked:
        pending = pending.select_for_update(skip_locked=True)
    return list(pending.order_by("id")[:limit])


def _dispatch_claimed(
    rows: list[OutboxMessage], now: dt.datetime, *, isolated: bool
) -> tuple[int, int]:
    """Deliver claimed messages in id order, in the caller's transaction, until they are
    done or ``TRANSACTION_SECONDS`` have passed (the rest stay pending and are released
    at commit). Returns the messages settled and the id of the last one handled.

    Unless ``isolated``, handlers run without a savepoint each (two round trips fewer per
    delivery) and the first one that raises fails the whole batch (``_HandlerFailed``)."""
    deliveries: dict[tuple[int, str], OutboxDelivery] = {
        (d.message_id, d.subscriber): d
        for d in OutboxDelivery.objects.filter(message__in=[m.pk for m in rows])
    }
    with tokens_read_once():  # before any handler runs: one token read per snapshot
        targets = [subscribers_for(row.topic, row.payload) for row in rows]
    marks = _Marks(now=timezone.now())
    settled: list[int] = []
    started = time.monotonic()
    last = rows[0].pk
    for row, subscribers_of_row in zip(rows, targets, strict=True):
        message = Message(row.pk, row.topic, row.payload, row.occurred_at)
        results = [
            _deliver(message, subscriber, deliveries.get((row.pk, subscriber.name)), now, marks)
            if isolated
            else _deliver_in_batch(
                message, subscriber, deliveries.get((row.pk, subscriber.name)), now, marks
            )
            for subscriber in subscribers_of_row
        ]
        if all(results):
            settled.append(row.pk)
        last = row.pk
        if time.monotonic() - started > TRANSACTION_SECONDS:
            break
    marks.write()
    OutboxMessage.objects.filter(pk__in=settled, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    return len(settled), last


@dataclasses.dataclass
class _Marks:
    """The ``delivered`` marks of one batch, written together before it commits."""

    now: dt.datetime
    new: list[OutboxDelivery] = dataclasses.field(default_factory=list)
    again: list[OutboxDelivery] = dataclasses.field(default_factory=list)

    def add(
        self, message: Message, subscriber: Subscriber, delivery: OutboxDelivery | None
    ) -> None:
        if delivery is None:
            self.new.append(
                OutboxDelivery(
                    message_id=message.id,
                    subscriber=subscriber.name,
                    status=DeliveryStatus.DELIVERED,
                    attempts=1,
                    updated_at=self.now,
                )
            )
        else:
            self.again.append(delivery)

    def write(self) -> None:
        # A row someone else wrote meanwhile fails the unique constraint and rolls the
        # whole batch back, handlers' writes included: the claim makes that impossible,
        # the constraint makes it harmless.
        compiled.insert_many(self.new)
        for delivery in self.again:
            OutboxDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED,
                attempts=delivery.attempts + 1,
                next_attempt_at=None,
                updated_at=self.now,
            )


class _HandlerFailed(Exception):
    """A handler raised in a batch run without savepoints."""


def _due(delivery: OutboxDelivery | None, now: dt.datetime) -> bool | None:
    """``None`` when the delivery is to be attempted now; else what ``_deliver`` returns
    without attempting it."""
    if delivery is None:
        return None
    if delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return True
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return False
    return None


def _deliver_in_batch(
    message: Message,
    subscriber: Subscriber,
    delivery: OutboxDelivery | None,
    now: dt.datetime,
    marks: _Marks,
) -> bool:
    """:func:`_deliver` without a savepoint: a handler that raises fails the batch."""
    skip = _due(delivery, now)
    if skip is not None:
        return skip
    try:
        _handler(subscriber.handler)(message)
    except Exception as exc:
        raise _HandlerFailed from exc
    marks.add(message, subscriber, delivery)
    return True


def _deliver(
    message: Message,
    subscriber: Subscriber,
    delivery: OutboxDelivery | None,
    now: dt.datetime,
    marks: _Marks,
) -> bool:
    """Deliver one message to one subscriber unless done; ``True`` once nothing more will
    be attempted (delivered, or failed for good)."""
    skip = _due(delivery, now)
    if skip is not None:
        return skip
    try:
        with transaction.atomic():  # a savepoint: a failing handler leaves nothing behind
            _handler(subscriber.handler)(message)
    except Exception as exc:
        logger.exception("Delivering %s #%s to %s failed", message.topic, message.id, subscriber)
        return _record_failure(message, subscriber, exc)
    marks.add(message, subscriber, delivery)
    return True


def _record_failure(message: Message, subscriber: Subscriber, exc: Exception) -> bool:
    """Count a failed attempt; ``True`` when it was the last one."""
    now = timezone.now()
    with transaction.atomic():
        delivery, _created = OutboxDelivery.objects.select_for_update().get_or_create(
            message_id=message.id,
            subscriber=subscriber.name,
            defaults={"status": DeliveryStatus.RETRYING, "updated_at": now},
        )
        if delivery.status == DeliveryStatus.DELIVERED:
            return True
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.updated_at = now
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save()
    return delivery.status == DeliveryStatus.FAILED


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: 30 s, 1 min, 2 min … at most one hour."""
    return dt.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def retry_failed(delivery: OutboxDelivery) -> None:
    """Give a failed delivery a new round of attempts (an operator's decision)."""
    with transaction.atomic():
        reset = OutboxDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.RETRYING,
            attempts=0,
            next_attempt_at=None,
            updated_at=timezone.now(),
        )
        if reset:
            OutboxMessage.objects.filter(pk=delivery.message_id).update(dispatched_at=None)
            _dispatch_after_commit()
