"""Subscribers for the in-process outbox tests: one that records, one that can fail."""

from __future__ import annotations

from retainer.lib.outbox import Subscriber

SUBSCRIBERS = (
    Subscriber(
        name="effects",
        handler="retainer.lib.tests.outbox_probe.record_effect",
        topics=("probe.ticked",),
    ),
    Subscriber(
        name="flaky",
        handler="retainer.lib.tests.outbox_probe.fail_sometimes",
        topics=("probe.*",),
    ),
)
