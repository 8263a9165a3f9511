"""Background jobs: the django-tasks API, executed by huey.

Application code declares jobs with ``django_tasks.task`` (``django.tasks`` from Django 6 on)
in its app's ``tasks.py``, names them ``<verb>_<noun>_task``, passes only JSON values (ids,
not model instances) and makes them idempotent, because a job may run again after a crash.

State changes enqueue their jobs with :func:`enqueue_on_commit`, so a job never runs against
a row its transaction has not committed yet, and never runs at all if that transaction rolls
back.

Periodic schedules are declared in exactly one module, ``retainer/periodic.py``. The huey
classes below load it in consumer processes (``manage.py run_huey``) only; web processes
never need it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import huey
import huey.api
import huey.constants
import huey.storage
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks.base import Task, TaskResultStatus
from django_tasks.utils import normalize_json

P = ParamSpec("P")
T = TypeVar("T")

#: Prefix under which huey's django-tasks backend keeps one status record per job.
TASK_RECORD_PREFIX = "djt."

_FINISHED = {TaskResultStatus.SUCCESSFUL.value, TaskResultStatus.FAILED.value}


def enqueue_on_commit(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits.

    Outside a transaction (autocommit) it is enqueued at once. If the transaction rolls
    back, nothing is enqueued. The task and its arguments are validated now, so a task that
    cannot be enqueued (not module-level, arguments that are not JSON) fails at the call
    site rather than after the commit, when nobody can handle the error any more.
    """
    task.get_backend().validate_task(task)
    normalize_json([list(args), kwargs])  # raises TypeError for values JSON cannot carry
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs), robust=False)


def enqueue_unless_queued(task: Task[[], Any], flag: str) -> bool:
    """Enqueue ``task`` unless a run of it enqueued under ``flag`` is still waiting in the
    queue; returns whether it enqueued one. The task calls :func:`job_started` with the
    same flag before it reads anything.

    For jobs that do everything pending when they run (the outbox's dispatch): a caller
    that finds the flag set has committed its rows before that queued run starts, so the
    run will read them, and one queue write is saved. The flag is a key in the queue's
    own storage (SQLite file or Redis), so every process sees it. Checking it costs a
    read; two callers that both find it unset both enqueue, which is harmless."""
    storage = _queue().storage
    if storage.peek_data(flag) is not huey.constants.EmptyData:
        return False
    storage.put_data(flag, b"1")
    try:
        task.enqueue()
    except BaseException:
        storage.pop_data(flag)
        raise
    return True


def job_started(flag: str) -> None:
    """A job enqueued by :func:`enqueue_unless_queued` runs: the next caller enqueues
    again, since this run may already have read past what they commit."""
    _queue().storage.pop_data(flag)


def _queue() -> huey.Huey:
    from huey.contrib.djhuey import HUEY

    queue: huey.Huey = HUEY
    return queue


def prune_job_results(queue: huey.Huey, *, now: datetime, older_than: timedelta) -> int:
    """Delete the status records of jobs that finished before ``now - older_than``.

    huey's django-tasks backend keeps one record per job (status, arguments, errors) for
    ``get_result``; nothing removes them, so they grow without bound. Records of jobs that
    have not finished (queued, scheduled, running) are kept whatever their age. ``now`` is
    an aware datetime. Returns the number of records deleted.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    cutoff = now - older_than
    deleted = 0
    for key in list(queue.storage.result_items()):
        if not key.startswith(TASK_RECORD_PREFIX):
            continue
        record = queue.get(key, peek=True)
        if not isinstance(record, dict) or record.get("status") not in _FINISHED:
            continue
        finished_at = record.get("finished_at")
        if finished_at is None or datetime.fromisoformat(finished_at) >= cutoff:
            continue
        queue.delete(key)
        deleted += 1
    return deleted


def _load_schedules(create: Callable[..., Any], **options: Any) -> Any:
    # Importing the module registers its periodic tasks with the consumer's scheduler. It
    # is imported here, not from settings or an AppConfig, because it needs the huey
    # instance that is being built from the settings. It is named by a setting because it
    # lives at project level (it schedules every app's jobs), which lib never imports.
    importlib.import_module(settings.RETAINER_PERIODIC_MODULE)

    return create(**options)


class _SqliteStorage(huey.storage.SqliteStorage):
    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        # The database's own durability (retainer/settings.py): in WAL mode a commit
        # is written but not flushed to the disk; a power cut may lose the last jobs
        # enqueued, never corrupt the file. Each request that enqueues a job then pays no
        # fsync. The jobs that matter are found again by the periodic sweeps (the outbox,
        # queued mail, billing runs).
        conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(huey.SqliteHuey):
    """The embedded queue: a SQLite file of its own. Loads the schedules in consumers."""

    storage_class = _SqliteStorage

    def create_consumer(self, **options: Any) -> Any:
        return _load_schedules(super().create_consumer, **options)


class RedisHuey(huey.RedisHuey):
    """The scale-out queue on Redis (``REDIS_URL``). Loads the schedules in consumers."""

    def create_consumer(self, **options: Any) -> Any:
        return _load_schedules(super().create_consumer, **options)


# --- Failed jobs: retried, then shown -------------------------------------------------------

#: How often a failed job runs in all (the first run and the retries) before it is left
#: failed for an operator to see and retry by hand.
MAX_JOB_ATTEMPTS = 3
_ATTEMPT_PREFIX = "retainer.attempt."


@dataclass(frozen=True)
class JobRecord:
    """A job as the queue remembers it (see huey's django-tasks backend)."""

    id: str
    task_path: str
    status: str
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    attempt: int
    retried_as: str | None
    #: ``host.pid`` of the consumer that ran it last.
    worker: str


def _record(queue: huey.Huey, job_id: str) -> dict[str, Any] | None:
    record = queue.get(TASK_RECORD_PREFIX + job_id, peek=True)
    return record if isinstance(record, dict) else None


def _attempt(queue: huey.Huey, job_id: str) -> int:
    return int(queue.get(_ATTEMPT_PREFIX + job_id, peek=True) or 1)


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _as_job(queue: huey.Huey, record: dict[str, Any]) -> JobRecord:
    errors = record.get("errors") or []
    return JobRecord(
        id=record["id"],
        task_path=record.get("task_path", ""),
        status=record.get("status", ""),
        enqueued_at=_when(record.get("enqueued_at")),
        started_at=_when(record.get("started_at")),
        finished_at=_when(record.get("finished_at")),
        # The last line of the last traceback: the exception and its message.
        error=errors[-1][1].strip().splitlines()[-1] if errors else "",
        attempt=_attempt(queue, record["id"]),
        retried_as=record.get("retried_as"),
        worker=(record.get("worker_ids") or [""])[-1],
    )


def _jobs_with_status(queue: huey.Huey, status: TaskResultStatus) -> list[JobRecord]:
    jobs = []
    for key in list(queue.storage.result_items()):
        if key.startswith(TASK_RECORD_PREFIX):
            record = queue.get(key, peek=True)
            if isinstance(record, dict) and record.get("status") == status.value:
                jobs.append(_as_job(queue, record))
    return jobs


_NEVER = datetime.min.replace(tzinfo=UTC)


def failed_jobs(queue: huey.Huey, *, limit: int = 50) -> list[JobRecord]:
    """The most recently failed jobs, newest first (those not retried yet first)."""
    jobs = _jobs_with_status(queue, TaskResultStatus.FAILED)
    jobs.sort(key=lambda j: (j.retried_as is None, j.finished_at or _NEVER), reverse=True)
    return jobs[:limit]


def running_jobs(queue: huey.Huey, *, limit: int = 50) -> list[JobRecord]:
    """The jobs a consumer is running, longest-running first. A job whose consumer was
    killed stays "running" here: its record is never finished (the sweeps redo its work);
    the operations page says so once it has run for longer than any job should."""
    jobs = _jobs_with_status(queue, TaskResultStatus.RUNNING)
    jobs.sort(key=lambda j: j.started_at or _NEVER)
    return jobs[:limit]


# --- Periodic jobs: their last run -------------------------------------------------------------

_PERIODIC_PREFIX = "retainer.periodic."


@dataclass(frozen=True)
class PeriodicJob:
    """A periodic schedule and how its last run went (``None``: not run since the queue
    was created)."""

    name: str
    schedule: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str = ""  # "running", "succeeded" or "failed"
    error: str = ""
    runs: int = 0


def note_periodic_run(
    queue: huey.Huey, name: str, *, outcome: str, error: str = "", now: datetime
) -> None:
    """Record the start (``outcome="running"``) or the end (``"succeeded"``/``"failed"``)
    of a run of periodic job ``name``, in the queue's storage where every consumer and
    web process reads it. Called by the consumer's signal handler (retainer/periodic.py).
    Two runs of one job at once (there is one scheduler) may miscount ``runs`` by one."""
    key = _PERIODIC_PREFIX + name
    stored = queue.storage.peek_data(key)
    record = {} if stored is huey.constants.EmptyData else json.loads(stored)
    if outcome == "running":
        record.update(started_at=now.isoformat(), finished_at=None, error="")
        record["runs"] = record.get("runs", 0) + 1
    else:
        record.update(finished_at=now.isoformat(), error=error[:500])
    record["outcome"] = outcome
    queue.storage.put_data(key, json.dumps(record).encode())


def periodic_jobs(queue: huey.Huey) -> list[PeriodicJob]:
    """Every schedule of ``RETAINER_PERIODIC_MODULE`` with its last run, in the order the
    module declares them. The schedule is the first sentence of the job's docstring
    ("Every minute", "Daily", …)."""
    module = importlib.import_module(settings.RETAINER_PERIODIC_MODULE)
    found = []
    for value in vars(module).values():
        if isinstance(value, huey.api.TaskWrapper) and issubclass(
            value.task_class, huey.api.PeriodicTask
        ):
            found.append(value)
    result = []
    for wrapper in found:
        name = wrapper.task_class.__name__
        doc = (wrapper.func.__doc__ or "").strip()
        stored = queue.storage.peek_data(_PERIODIC_PREFIX + name)
        record = {} if stored is huey.constants.EmptyData else json.loads(stored)
        result.append(
            PeriodicJob(
                name=name,
                schedule=doc.split(": ", 1)[0] if ": " in doc else "",
                started_at=_when(record.get("started_at")),
                finished_at=_when(record.get("finished_at")),
                outcome=record.get("outcome", ""),
                error=record.get("error", ""),
                runs=record.get("runs", 0),
            )
        )
    return result


def retry_job(queue: huey.Huey, job_id: str) -> str | None:
    """Enqueue a failed job again with the same arguments; returns the new job's id
    (``None`` when the job is unknown, did not fail, or was retried already)."""
    record = _record(queue, job_id)
    if record is None or record.get("status") != TaskResultStatus.FAILED.value:
        return None
    if record.get("retried_as"):
        return None
    task: Task[Any, Any] = import_string(record["task_path"])
    again = task.enqueue(*record.get("args", []), **record.get("kwargs", {}))
    queue.put(_ATTEMPT_PREFIX + again.id, _attempt(queue, job_id) + 1)
    queue.put_result(TASK_RECORD_PREFIX + job_id, {**record, "retried_as": again.id})
    return again.id


def retry_failed_jobs(queue: huey.Huey, *, max_attempts: int = MAX_JOB_ATTEMPTS) -> int:
    """Retry every failed job that has run fewer than ``max_attempts`` times (jobs are
    idempotent, so a retry is safe); returns how many were enqueued again."""
    retried = 0
    for job in failed_jobs(queue, limit=1000):
        if job.retried_as is None and job.attempt < max_attempts and retry_job(queue, job.id):
            retried += 1
    return retried
