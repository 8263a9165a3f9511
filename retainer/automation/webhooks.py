"""Webhook delivery: the outbox subscriber that queues deliveries, and one attempt of one
delivery over HTTP.

At least once: the subscriber (``handle``) writes one ``WebhookDelivery`` per matching
active endpoint in the dispatcher's transaction (unique per endpoint and event, so a
message handed over twice queues once) and enqueues ``send_webhook_task`` after commit.
An attempt first *claims* the delivery in a short transaction (moves ``next_attempt_at``
past the attempt's longest duration, so another worker leaves it alone), then sends
without holding a transaction, then records the outcome. A worker killed mid-attempt
leaves the claim to expire, and the periodic ``send_due_webhooks`` sends it again: the
receiver may see an event twice, always with the same ``Retainer-Event-Id``.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from retainer.automation import conf
from retainer.automation.choices import DeliveryStatus
from retainer.automation.destinations import Destination, resolve_destination
from retainer.automation.models import WebhookDelivery, WebhookEndpoint
from retainer.automation.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature,
)
from retainer.lib.errors import DomainError
from retainer.lib.outbox import Message
from retainer.lib.snapshots import Snapshot

logger = logging.getLogger(__name__)

#: Topics of automation's own history: never offered to webhooks (see ``events.py``).
OWN_PREFIXES = ("webhook_endpoint.", "webhook_delivery.", "macro.", "rule.")
#: Deliveries one periodic pass sends.
BATCH = 200
#: The most of a response body kept as the error of a failed attempt.
BODY_EXCERPT = 200


def subscribable_topics() -> list[str]:
    """The event types an endpoint may subscribe to: the catalogue (docs/events.md)
    without automation's own."""
    from retainer.lib.catalogue import load_all

    return sorted(name for name in load_all() if not name.startswith(OWN_PREFIXES))


def webhook_topics() -> tuple[str, ...]:
    """The topics of the webhooks subscriber (``retainer/subscriptions.py``): every event
    type an endpoint may subscribe to. Automation's own events stay unsubscribed, so they
    are written as dispatched."""
    return tuple(subscribable_topics())


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failure: 30 s, 1 min, 2 min … at most 6 hours."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed): the same on every attempt."""
    envelope = {
        "id": delivery.event_id,
        "type": delivery.event_type,
        "occurred_at": delivery.payload.get("occurred_at"),
        "data": delivery.payload.get("data", {}),
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


# --- The subscriber ---------------------------------------------------------------------------


def _active_topics() -> frozenset[str]:
    return frozenset(
        topic
        for types in WebhookEndpoint.objects.filter(active=True).values_list(
            "event_types", flat=True
        )
        for topic in types
    )


#: The topics some active endpoint subscribes to, per process, reloaded when an endpoint
#: changes (the ``webhooks`` generation token, migration 0002).
_ACTIVE_TOPICS = Snapshot("webhooks", _active_topics)


def wants(topic: str, payload: Mapping[str, Any]) -> bool:
    """``Subscriber.wants``: only events some active endpoint subscribes to are handed
    to the subscriber (one primary-key read while the endpoints are unchanged)."""
    return topic in _ACTIVE_TOPICS.get()


def handle(message: Message) -> None:
    """Outbox handler for every topic: queue the event for each active endpoint that
    subscribes to it. One indexed read when nobody does."""
    if message.topic.startswith(OWN_PREFIXES):
        return
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if e.takes(message.topic)]
    if not endpoints:
        return
    payload = {"occurred_at": message.occurred_at.isoformat(), "data": dict(message.payload)}
    now = timezone.now()
    created = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    event_id=message.id,
                    event_type=message.topic,
                    payload=payload,
                    next_attempt_at=now,
                )
        except IntegrityError:
            continue  # queued by an earlier hand-over of the same message
        created.append(delivery.pk)
    send_after_commit(created)


def send_after_commit(ids: Iterable[int]) -> None:
    from retainer.automation.tasks import send_webhook_task

    for pk in ids:
        # robust: a queue that cannot be reached leaves the delivery to the periodic job.
        transaction.on_commit(functools.partial(send_webhook_task.enqueue, pk), robust=True)


# --- One attempt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    elapsed_ms: int
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(pk: int, now: dt.datetime, *, force: bool) -> WebhookDelivery | None:
    """Take the delivery for one attempt, or ``None`` when it is not due, done, claimed
    by another worker, or its endpoint is disabled."""
    lease = now + dt.timedelta(seconds=2 * conf.timeout_seconds() + 30)
    with transaction.atomic():
        due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
        claimed = (
            WebhookDelivery.objects.filter(
                pk=pk,
                status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
                endpoint__active=True,
            )
            .filter(Q() if force else due)
            .update(next_attempt_at=lease)
        )
        if not claimed:
            return None
        return WebhookDelivery.objects.select_related("endpoint").get(pk=pk)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the name resolves to by now."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate for the URL's host name."""

    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(
            destination.host,
            destination.port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
        self._address = destination.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` after checking the destination again (SSRF, rebinding).
    Redirects are not followed. Never raises for network trouble: it is the outcome."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        destination = resolve_destination(url)
    except DomainError as exc:
        return Outcome(None, elapsed(), f"Refused: {exc.detail}")
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(destination, conf.timeout_seconds())
    try:
        connection.request("POST", destination.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(BODY_EXCERPT).decode("utf-8", "replace")
        ok = 200 <= response.status < 300
        error = "" if ok else f"HTTP {response.status}: {excerpt}".strip()
        return Outcome(response.status, elapsed(), error)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, elapsed(), f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def headers_for(delivery: WebhookDelivery, body: bytes, *, now: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Retainer-Webhooks/1",
        SIGNATURE_HEADER: signature(delivery.endpoint.secret, now, body),
        EVENT_ID_HEADER: str(delivery.event_id),
        EVENT_TYPE_HEADER: delivery.event_type,
    }


def send(pk: int, *, force: bool = False) -> str | None:
    """One attempt of delivery ``pk`` if it is due (``force``: even before its time, as
    after a replay); returns its status afterwards, ``None`` when it was not attempted."""
    from retainer.automation.actions import do_record_attempt

    delivery = _claim(pk, timezone.now(), force=force)
    if delivery is None:
        return None
    body = body_of(delivery)
    outcome = post(delivery.endpoint.url, body, headers_for(delivery, body, now=int(time.time())))
    if not outcome.ok:
        logger.info("Webhook %s to %s failed: %s", delivery.pk, delivery.endpoint, outcome.error)
    return do_record_attempt(
        delivery,
        status_code=outcome.status_code,
        elapsed_ms=outcome.elapsed_ms,
        error=outcome.error,
    ).status


def send_due(*, limit: int = BATCH) -> int:
    """Attempt every delivery that is due (first attempts whose job was lost, retries
    after back-off, expired claims); returns how many were attempted."""
    due = list(
        WebhookDelivery.objects.filter(
            status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED),
            endpoint__active=True,
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if send(pk) is not None)
