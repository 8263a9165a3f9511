import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from huey.contrib.djhuey import HUEY

from retainer.lib.health import beat
from retainer.lib.jobs import TASK_RECORD_PREFIX


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@HUEY.task()
def _idle_job() -> None:
    pass


def _queued_job(enqueued_at: dt.datetime) -> None:
    """A job waiting in the queue, as the django-tasks backend leaves it."""
    job = _idle_job.s()
    HUEY.storage.enqueue(HUEY.serialize_task(job))
    HUEY.put(
        TASK_RECORD_PREFIX + job.id,
        {"status": TaskResultStatus.READY.value, "enqueued_at": enqueued_at.isoformat()},
    )


@pytest.mark.django_db
def test_healthz_says_the_worker_is_alive_and_how_long_the_oldest_job_waits(client):
    now = timezone.now()
    beat(now - dt.timedelta(seconds=40))
    _queued_job(now - dt.timedelta(minutes=2))
    _queued_job(now - dt.timedelta(seconds=5))
    worker = client.get("/healthz").json()["worker"]
    assert worker["alive"] is True
    assert 40 <= worker["last_seen_seconds"] < 60
    assert worker["queued"] == 2
    assert 120 <= worker["oldest_queued_seconds"] < 140


@pytest.mark.django_db
def test_healthz_says_so_when_no_worker_ran_lately(client):
    worker = client.get("/healthz").json()["worker"]
    assert worker == {
        "alive": False,
        "last_seen_seconds": None,
        "queued": 0,
        "oldest_queued_seconds": None,
    }
    beat(timezone.now() - dt.timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"]["alive"] is False


@pytest.mark.django_db
def test_readyz_reports_a_reachable_and_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "pending_migrations": 0}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused to postgres://user:secret@db")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert b"secret" not in response.content


@pytest.mark.django_db
def test_readyz_reports_pending_migrations(client, monkeypatch):
    from django.db.migrations import executor

    monkeypatch.setattr(
        executor.MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)]
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pending_migrations"] == 1


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
