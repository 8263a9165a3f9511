"""Background jobs of the shared helpers."""

from __future__ import annotations

from django_tasks import task

from retainer.lib import outbox
from retainer.lib.jobs import job_started

#: Set while a dispatch job waits in the queue (``jobs.enqueue_unless_queued``).
DISPATCH_QUEUED = "retainer.outbox.dispatch-queued"


@task()
def dispatch_outbox_task() -> int:
    """Hand pending outbox messages to their subscribers (idempotent; any number of
    these may run at once, each claiming its own batches). One pass over everything
    pending; a pass longer than ``outbox.JOB_SECONDS`` queues the next job for the rest.
    Returns how many messages were settled."""
    job_started(DISPATCH_QUEUED)
    return outbox.dispatch()
