"""Settings for a worker process that delivers the outbox tests' probe events."""

from retainer.settings import *  # noqa: F403

RETAINER_SUBSCRIPTIONS = "retainer.lib.tests.outbox_probe"
