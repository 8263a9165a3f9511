"""Failed jobs are retried, then shown; the Operations page shows and retries what failed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from huey.contrib.djhuey import HUEY

from retainer.accounts.models import AccountEvent
from retainer.lib import jobs, outbox
from retainer.lib.events import record
from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage
from retainer.lib.tests.outbox_probe import FAILING, ProbeTicked

RUNS: list[int] = []


@task()
def flaky_task(succeed_on: int) -> int:
    """Fails until its ``succeed_on``-th run."""
    RUNS.append(succeed_on)
    if len(RUNS) < succeed_on:
        raise RuntimeError(f"run {len(RUNS)} failed")
    return len(RUNS)


@pytest.fixture(autouse=True)
def _no_runs() -> None:
    RUNS.clear()


def test_a_failed_job_is_retried_until_it_succeeds() -> None:
    first = flaky_task.enqueue(2)
    assert flaky_task.get_result(first.id).status == TaskResultStatus.FAILED
    assert jobs.retry_failed_jobs(HUEY) == 1
    assert len(RUNS) == 2
    # The retry succeeded: nothing is left to retry, and the failure shows as retried.
    assert jobs.retry_failed_jobs(HUEY) == 0
    (shown,) = jobs.failed_jobs(HUEY)
    assert shown.id == first.id and shown.retried_as is not None


def test_a_job_that_keeps_failing_stops_after_three_runs_and_stays_visible() -> None:
    flaky_task.enqueue(99)
    while jobs.retry_failed_jobs(HUEY):
        pass
    assert len(RUNS) == jobs.MAX_JOB_ATTEMPTS
    last = next(j for j in jobs.failed_jobs(HUEY) if j.retried_as is None)
    assert last.attempt == jobs.MAX_JOB_ATTEMPTS
    assert last.error == f"RuntimeError: run {jobs.MAX_JOB_ATTEMPTS} failed"
    assert last.task_path.endswith("flaky_task")


def test_an_operator_retries_a_job_by_hand(cast, db: None) -> None:
    flaky_task.enqueue(99)
    while jobs.retry_failed_jobs(HUEY):
        pass
    last = next(j for j in jobs.failed_jobs(HUEY) if j.retried_as is None)
    client = cast.client_for(cast.admin)
    page = client.get("/console/operations/")
    assert page.status_code == 200
    assert last.id in page.content.decode()
    response = client.post(f"/console/operations/jobs/{last.id}/retry/")
    assert response.status_code == 302
    assert len(RUNS) == jobs.MAX_JOB_ATTEMPTS + 1
    # Retried once: the same failure cannot be queued twice.
    client.post(f"/console/operations/jobs/{last.id}/retry/")
    assert len(RUNS) == jobs.MAX_JOB_ATTEMPTS + 1


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_an_operator_sees_a_failed_delivery_and_retries_it(
    cast, db: None, probe_table: None
) -> None:
    FAILING.add(3)
    try:
        with transaction.atomic():
            record(AccountEvent, ProbeTicked(number=3))
        message = OutboxMessage.objects.get(topic=ProbeTicked.name)
        OutboxDelivery.objects.create(
            message=message,
            subscriber="flaky",
            status=DeliveryStatus.FAILED,
            attempts=outbox.MAX_ATTEMPTS,
            last_error="RuntimeError: cannot take 3",
            updated_at=message.occurred_at,
        )
        client = cast.client_for(cast.admin)
        assert "cannot take 3" in client.get("/console/operations/").content.decode()
        FAILING.clear()
        delivery = OutboxDelivery.objects.get(subscriber="flaky")
        client.post(f"/console/operations/deliveries/{delivery.pk}/retry/")
        outbox.dispatch()
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DELIVERED
    finally:
        FAILING.clear()


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 302), ("contact", 404), ("agent", 403), ("manager", 403), ("admin", 200)],
)
def test_only_admins_reach_the_operations_page(cast, db: None, who: str | None, status: int):
    user = None if who is None else getattr(cast, who)
    assert cast.client_for(user).get("/console/operations/").status_code == status


def test_retrying_is_post_only(cast, db: None, tmp_path: Path) -> None:
    client = cast.client_for(cast.admin)
    assert client.get("/console/operations/jobs/x/retry/").status_code == 405


def test_the_page_shows_each_periodic_job_with_its_last_run(cast, db: None) -> None:
    from retainer import periodic

    periodic.worker_heartbeat_task()  # runs inline here, through the consumer's signals
    jobs.note_periodic_run(
        HUEY, "sweep_outbox_task", outcome="running", now=timezone.now() - timedelta(minutes=1)
    )
    jobs.note_periodic_run(
        HUEY, "sweep_outbox_task", outcome="failed", error="OperationalError: gone",
        now=timezone.now(),
    )  # fmt: skip
    shown = {job.name: job for job in jobs.periodic_jobs(HUEY)}
    assert shown["worker_heartbeat_task"].outcome == "succeeded"
    assert shown["worker_heartbeat_task"].runs == 1
    assert shown["worker_heartbeat_task"].schedule == "Every minute"
    assert shown["sweep_outbox_task"].error == "OperationalError: gone"
    assert shown["bill_previous_month_task"].outcome == ""  # never ran
    page = cast.client_for(cast.admin).get("/console/operations/").content.decode()
    assert "bill_previous_month_task" in page and "not run yet" in page
    assert "OperationalError: gone" in page


def test_a_job_left_running_by_a_killed_consumer_is_shown_as_interrupted(cast, db: None) -> None:
    started = timezone.now() - timedelta(hours=2)
    HUEY.put_result(
        jobs.TASK_RECORD_PREFIX + "lost-job",
        {"id": "lost-job", "task_path": "retainer.lib.tasks.dispatch_outbox_task",
         "status": TaskResultStatus.RUNNING.value, "started_at": started.isoformat(),
         "worker_ids": ["host-1.4242"], "errors": []},
    )  # fmt: skip
    (running,) = jobs.running_jobs(HUEY)
    assert (running.id, running.worker) == ("lost-job", "host-1.4242")
    page = cast.client_for(cast.admin).get("/console/operations/").content.decode()
    assert "dispatch_outbox_task" in page and "interrupted?" in page
