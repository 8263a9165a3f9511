"""A probe event type and subscribers for the outbox tests (in process and in a worker)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from django.db import connection

from retainer.lib.events import Event
from retainer.lib.outbox import Message, Subscriber

FAILING: set[int] = set()


@dataclass(frozen=True, kw_only=True)
class ProbeTicked(Event):
    """Written only by the tests, into the accounts history table."""

    name = "probe.ticked"
    type = "probe_ticked"
    history = "accounts.accountevent"
    customer_fields = frozenset({"number"})

    number: int
    secret: str = ""


def record_effect(message: Message) -> None:
    """A handler whose effect is a database row (exactly once) and a pause, so a kill
    lands while it works."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO outbox_probe (message_id, pid) VALUES (%s, %s)", [message.id, os.getpid()]
        )
    time.sleep(float(os.environ.get("OUTBOX_PROBE_SLEEP", "0")))


def fail_sometimes(message: Message) -> None:
    if message.payload["number"] in FAILING:
        raise RuntimeError(f"cannot take {message.payload['number']}")


SUBSCRIBERS = (
    Subscriber(name="effects", handler=f"{__name__}.record_effect", topics=("probe.*",)),
)
