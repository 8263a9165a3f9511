"""Helpers for actions that change model instances and record what changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value
    return str(value)


def apply_changes(
    instance: models.Model, changes: Mapping[str, Any], *, allowed: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Set ``changes`` on ``instance`` and return ``{field: {"old": …, "new": …}}``.

    Only fields in ``allowed`` may change; anything else is a programming error.
    Unchanged values are left out of the result.
    """
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))} here.")
    diff: dict[str, dict[str, Any]] = {}
    for field, new in changes.items():
        model_field = instance._meta.get_field(field)
        if model_field.many_to_one or model_field.one_to_one:
            # Compare keys: reading the relation of an unsaved instance would raise.
            old = getattr(instance, model_field.attname)  # type: ignore[union-attr]
            new_key = new.pk if isinstance(new, models.Model) else new
            changed = old != new_key
        else:
            old = getattr(instance, field)
            changed = old != new
        if changed:
            diff[field] = {"old": _plain(old), "new": _plain(new)}
            setattr(instance, field, new)
    return diff


def save_validated(instance: models.Model, **save_kwargs: Any) -> None:
    """Run model validation (fields, validators, constraints) and save.

    Every write path calls this, so the admin, the API, commands and the UI reject
    the same bad input with the same message.
    """
    instance.full_clean()
    instance.save(**save_kwargs)


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` and the response it got (see ``lib/idempotency.py``).

    The row is inserted last, with the response, inside the request's transaction, so
    of two concurrent requests with one key the later fails on the unique constraint,
    rolls back, and replays.
    """

    user = models.ForeignKey(  # led by the (user, key) unique index
        "accounts.User", on_delete=models.CASCADE, related_name="idempotency_keys", db_index=False
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="lib_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class Generation(models.Model):
    """The current token of a group of tables (see ``lib/snapshots.py``).

    Database triggers replace ``token`` with a random number whenever a row of the
    group's tables is inserted, updated or deleted (or a table truncated), inside the
    writing transaction; nothing in Python writes it.
    """

    name = models.CharField(primary_key=True, max_length=40)
    token = models.BigIntegerField()

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """One published event, written in the transaction of the action that caused it.

    The dispatcher (``lib/outbox.py``) hands it to every subscriber of its ``topic`` after
    commit and sets ``dispatched_at`` once all of them have it. A message whose topic had
    no subscriber when it was written is born dispatched. ``payload`` is the typed event's
    fields plus ``refs`` (the ids of what it is about) — enough for a subscriber to act
    without guessing.
    """

    topic = models.CharField(max_length=60, help_text="Event name, e.g. case.opened.")
    source = models.CharField(
        max_length=40, help_text="Model label of the history row, e.g. cases.caseevent."
    )
    source_id = models.BigIntegerField()
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="lib_outbox_pending",
            ),
            models.Index(fields=["topic", "id"], name="lib_outbox_topic"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="lib_outbox_one_per_row")
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class DeliveryStatus(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class OutboxDelivery(models.Model):
    """What became of one message for one subscriber.

    ``delivered`` is written in the same transaction as the subscriber's own database
    writes, so those happen exactly once; effects outside the database (an e-mail, a
    webhook) happen at least once and carry the message id for the receiver to drop
    repeats.
    """

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "subscriber"], name="lib_delivery_one_per_subscriber"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} of message {self.message_id}: {self.status}"

    @property
    def is_failed(self) -> bool:
        return self.status == DeliveryStatus.FAILED
