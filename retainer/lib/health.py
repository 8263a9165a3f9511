"""Liveness and readiness probes for load balancers and process supervisors."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks.base import TaskResultStatus
from huey.contrib.djhuey import HUEY

from retainer.lib.jobs import TASK_RECORD_PREFIX

logger = logging.getLogger(__name__)

#: The key under which the worker notes that it ran a job (see ``beat``).
HEARTBEAT_KEY = "retainer.worker.heartbeat"
#: The heartbeat job runs every minute; a worker silent for longer is reported down.
HEARTBEAT_STALE_AFTER = dt.timedelta(minutes=3)


def beat(now: dt.datetime | None = None) -> None:
    """Note that a worker is running jobs (called by a periodic job every minute)."""
    HUEY.put(HEARTBEAT_KEY, (now or timezone.now()).isoformat())


def worker_status(now: dt.datetime | None = None) -> dict[str, Any]:
    """Whether a worker ran its heartbeat job lately, how many jobs wait, and how long
    the oldest of them has waited. Reads the job queue only, never the database."""
    now = now or timezone.now()
    seen = HUEY.get(HEARTBEAT_KEY, peek=True)
    last_seen = None if seen is None else dt.datetime.fromisoformat(seen)
    waiting = HUEY.pending_count()
    oldest = None
    for job in HUEY.pending(limit=10):
        record = HUEY.get(TASK_RECORD_PREFIX + job.id, peek=True)
        if (
            isinstance(record, dict)
            and record.get("status") == TaskResultStatus.READY.value
            and record.get("enqueued_at")
        ):
            oldest = dt.datetime.fromisoformat(record["enqueued_at"])
            break
    return {
        "alive": last_seen is not None and now - last_seen <= HEARTBEAT_STALE_AFTER,
        "last_seen_seconds": None if last_seen is None else int((now - last_seen).total_seconds()),
        "queued": waiting,
        "oldest_queued_seconds": None if oldest is None else int((now - oldest).total_seconds()),
    }


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering, and what the job worker is doing; touches no
    database (the worker's state comes from the job queue). Always 200 while the web
    process answers: a stopped worker must not take the web servers out of a balancer."""
    try:
        worker: dict[str, Any] = worker_status()
    except Exception:  # the queue's store is unreachable: say so, keep answering
        logger.exception("job queue unreachable")
        worker = {"alive": False, "error": "job queue unreachable"}
    return JsonResponse({"status": "ok", "worker": worker})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers and every migration is applied."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any database failure means "not ready"; the reason stays in the logs
        logger.exception("readiness check failed")
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "pending_migrations": len(pending)},
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok", "pending_migrations": 0})
