"""Background jobs of the shared helpers."""

from __future__ import annotations

from django_tasks import task

from retainer.lib import outbox


@task()
def dispatch_outbox_task() -> int:
    """Hand pending outbox messages to their subscribers (idempotent; any number of
    these may run at once). Returns how many messages were settled."""
    return outbox.dispatch()
