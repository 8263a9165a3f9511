"""Background jobs: enqueued after commit, executed by huey, in-process and in a real consumer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from huey.contrib.djhuey import HUEY

from conftest import require_program
from retainer.lib import jobs
from retainer.lib.jobs import TASK_RECORD_PREFIX, enqueue_on_commit, prune_job_results

ROOT = Path(__file__).resolve().parents[3]
DEADLINE_SECONDS = 30


@task()
def write_marker_task(path: str, text: str) -> int:
    """Writes ``text`` and the number of applied migrations (proves database access)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations")
        (migrations,) = cursor.fetchone()
    Path(path).write_text(f"{text} {migrations}")
    return int(migrations)


@task()
def failing_task() -> None:
    raise RuntimeError("boom")


# --- In-process (immediate mode, set by conftest) -------------------------------------------


def test_a_job_enqueued_in_a_transaction_runs_only_after_commit(
    db: None, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    marker = tmp_path / "marker"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            enqueue_on_commit(write_marker_task, str(marker), "done")
            assert not marker.exists()
        assert not marker.exists(), "ran before the outermost transaction committed"
    assert len(callbacks) == 1
    assert marker.read_text().startswith("done ")


def test_a_rolled_back_transaction_enqueues_nothing(
    db: None, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    marker = tmp_path / "marker"
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        enqueue_on_commit(write_marker_task, str(marker), "done")
        _ = 1 / 0
    assert callbacks == []
    assert not marker.exists()


def test_arguments_json_cannot_carry_fail_at_the_call_site(db: None) -> None:
    with pytest.raises(TypeError):
        enqueue_on_commit(write_marker_task, object(), "x")  # type: ignore[arg-type]


def test_the_result_of_a_job_is_readable_by_id(db: None, tmp_path: Path) -> None:
    result = write_marker_task.enqueue(str(tmp_path / "m"), "x")
    stored = write_marker_task.get_result(result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.return_value == result.return_value
    assert isinstance(stored.return_value, int) and stored.return_value > 0


def test_a_failing_job_is_recorded_as_failed() -> None:
    result = failing_task.enqueue()
    stored = failing_task.get_result(result.id)
    assert stored.status == TaskResultStatus.FAILED
    assert stored.errors[0].exception_class is RuntimeError


@task()
def noop_task() -> None:
    jobs.job_started("test.noop-queued")


@pytest.fixture
def file_queue(tmp_path: Path) -> Iterator[jobs.huey.Huey]:
    """The project's huey on a SQLite file of this test's, not running jobs inline."""
    previous = HUEY.storage
    HUEY.immediate = False
    HUEY.storage = jobs._SqliteStorage(name="test", filename=str(tmp_path / "jobs.sqlite3"))
    try:
        yield HUEY
    finally:
        HUEY.storage = previous
        HUEY.immediate = True


def test_a_job_that_does_everything_pending_is_queued_once_until_it_starts(file_queue) -> None:
    assert file_queue.storage.conn.execute("pragma synchronous").fetchone() == (1,)  # NORMAL
    assert [jobs.enqueue_unless_queued(noop_task, "test.noop-queued") for _ in range(3)] == [
        True,
        False,
        False,
    ]
    assert file_queue.pending_count() == 1
    noop_task.call()  # the job starts: the next caller enqueues again
    assert jobs.enqueue_unless_queued(noop_task, "test.noop-queued")
    assert file_queue.pending_count() == 2


def test_a_failed_enqueue_leaves_no_flag_behind(file_queue, monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(file_queue.storage, "enqueue", refuse)
    with pytest.raises(ConnectionError):
        jobs.enqueue_unless_queued(noop_task, "test.noop-queued")
    monkeypatch.undo()
    assert jobs.enqueue_unless_queued(noop_task, "test.noop-queued")


def test_pruning_forgets_only_finished_jobs_older_than_the_retention(
    db: None, tmp_path: Path
) -> None:
    result = write_marker_task.enqueue(str(tmp_path / "m"), "x")
    HUEY.put_result(f"{TASK_RECORD_PREFIX}pending", {"status": "READY", "finished_at": None})
    now = timezone.now()

    assert prune_job_results(HUEY, now=now, older_than=timedelta(days=7)) == 0
    assert prune_job_results(HUEY, now=now + timedelta(days=8), older_than=timedelta(days=7)) == 1

    remaining = set(HUEY.storage.result_items())
    assert remaining == {f"{TASK_RECORD_PREFIX}pending"}
    assert f"{TASK_RECORD_PREFIX}{result.id}" not in remaining


def test_pruning_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        prune_job_results(
            HUEY,
            now=timezone.now().replace(tzinfo=None),
            older_than=timedelta(days=1),
        )


def test_the_housekeeping_job_is_a_periodic_task() -> None:
    from retainer import periodic

    assert periodic.prune_job_results_task.task_class in HUEY._registry._periodic_tasks


# --- Real consumer processes ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def worker_environ(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker process on its own var dir (``extra`` wins)."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "RETAINER_JOBS_IMMEDIATE", "RETAINER_MEDIA_DIR")
    }
    environ.update(
        RETAINER_VAR_DIR=str(var_dir),
        RETAINER_JOBS_IMMEDIATE="false",
        DJANGO_SETTINGS_MODULE="retainer.settings",
    )
    environ.update(extra)
    return environ


def _manage(environ: dict[str, str], *args: str) -> str:
    """Runs a management command; returns the last line it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture(scope="module")
def migrated_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var_dir = tmp_path_factory.mktemp("jobs") / "var"
    _manage(worker_environ(var_dir), "migrate", "--no-input", "-v", "0")
    return var_dir


def _run_a_job_through_a_consumer(environ: dict[str, str], tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    log = (tmp_path / "consumer.log").open("w")
    consumer = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "-w", "1", "-k", "thread", "-d", "0.1"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        result_id = _manage(
            environ,
            "shell",
            "--no-imports",
            "-c",
            "from retainer.lib.tests.test_jobs import write_marker_task;"
            f"print(write_marker_task.enqueue({str(marker)!r}, 'done').id)",
        ).strip()
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not marker.exists() and time.monotonic() < deadline:
            assert consumer.poll() is None, (tmp_path / "consumer.log").read_text()
            time.sleep(0.1)
        assert marker.exists(), (tmp_path / "consumer.log").read_text()
        assert marker.read_text().startswith("done ")

        # The status record is written just after the function returns.
        status = ""
        while status != "SUCCESSFUL" and time.monotonic() < deadline:
            status = _manage(
                environ,
                "shell",
                "-c",
                "from retainer.lib.tests.test_jobs import write_marker_task;"
                f"print(write_marker_task.get_result({result_id!r}).status)",
            ).strip()
        assert status == "SUCCESSFUL"
    finally:
        # SIGINT is huey's graceful stop: finish the running job, then exit.
        consumer.send_signal(signal.SIGINT)
        try:
            consumer.wait(timeout=15)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
        log.close()
    output = (tmp_path / "consumer.log").read_text()
    # The consumer loaded the one module of periodic schedules.
    assert "prune_job_results_task" in output, output


@pytest.mark.slow
def test_a_consumer_on_the_embedded_sqlite_queue_runs_an_enqueued_job(
    migrated_var_dir: Path, tmp_path: Path
) -> None:
    environ = worker_environ(migrated_var_dir)
    _run_a_job_through_a_consumer(environ, tmp_path)
    assert (migrated_var_dir / "jobs.sqlite3").exists()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = require_program("redis-server", "redis-server", "test the Redis queue")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not listen"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_a_consumer_on_redis_runs_an_enqueued_job(
    migrated_var_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    _run_a_job_through_a_consumer(worker_environ(migrated_var_dir, REDIS_URL=redis_url), tmp_path)
    # The job went through Redis, not the embedded file.
    keys = redis.Redis.from_url(redis_url).keys("huey.*.retainer*")
    assert keys, "nothing of the queue is in Redis"
