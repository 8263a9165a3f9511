"""Subscribers for the outbox tests of ``Subscriber.wants``: one takes only even numbers,
one only numbers above 10."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retainer.lib.outbox import Subscriber


def even(topic: str, payload: Mapping[str, Any]) -> bool:
    return payload["number"] % 2 == 0


def large(topic: str, payload: Mapping[str, Any]) -> bool:
    return payload["number"] > 10


SUBSCRIBERS = (
    Subscriber(
        name="even",
        handler="retainer.lib.tests.outbox_probe.record_effect",
        topics=("probe.*",),
        wants=f"{__name__}.even",
    ),
    Subscriber(
        name="large",
        handler="retainer.lib.tests.outbox_probe.fail_sometimes",
        topics=("probe.*",),
        wants=f"{__name__}.large",
    ),
)
