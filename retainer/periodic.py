"""The one place that declares periodic schedules.

Schedules fire in every huey consumer that runs the scheduler, so exactly one consumer may
run without ``-n`` (see docs/operations.md); declaring them all here keeps that promise
checkable in one file. The module is loaded by the consumer (``retainer.lib.jobs``), not by
web processes.

The SLA clock scan is here; billing runs will join it. A
periodic job does little itself: it enqueues or performs idempotent work, so a schedule
that fires late, or twice after a consumer restart, does no harm.

Crontab times are in UTC (``HUEY["utc"] = True``).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from retainer.lib.jobs import prune_job_results

#: How long the status of a finished job stays readable through ``get_result``.
JOB_RESULT_RETENTION = timedelta(days=7)


@db_periodic_task(crontab(minute="17", hour="3"))
def prune_job_results_task() -> int:
    """Daily: forget the status records of jobs finished more than a week ago."""
    return prune_job_results(HUEY, now=timezone.now(), older_than=JOB_RESULT_RETENTION)


@db_periodic_task(crontab(minute="*"))
def scan_sla_clocks_task() -> dict[str, int]:
    """Every minute: one warning and one breach event per SLA clock that reached them."""
    from retainer.cases.tasks import scan_sla_clocks

    return scan_sla_clocks()
