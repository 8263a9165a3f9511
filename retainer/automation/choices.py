"""Constants of automation. Labels are for people; values are the data keys."""

from django.db import models


class DeliveryStatus(models.TextChoices):
    """A webhook delivery: ``pending`` (waiting for its first or next attempt after a
    replay), ``failed`` (the last attempt failed; another one is scheduled),
    ``delivered`` (the receiver answered 2xx), ``given_up`` (no attempt left)."""

    PENDING = "pending", "Pending"
    FAILED = "failed", "Failed, will retry"
    DELIVERED = "delivered", "Delivered"
    GIVEN_UP = "given_up", "Given up"


class AutomationEventType(models.TextChoices):
    ENDPOINT_CREATED = "endpoint_created"
    ENDPOINT_CHANGED = "endpoint_changed"
    ENDPOINT_DISABLED = "endpoint_disabled"
    ENDPOINT_ENABLED = "endpoint_enabled"
    SECRET_ROTATED = "secret_rotated"  # noqa: S105 - an event type, not a secret
    DELIVERY_REPLAYED = "delivery_replayed"
    MACRO_SAVED = "macro_saved"
