"""Failed jobs are retried, then shown; the Operations page shows and retries what failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings
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
