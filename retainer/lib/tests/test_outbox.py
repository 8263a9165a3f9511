"""Typed events and the outbox: written with the action, delivered after commit, once."""

from __future__ import annotations

import datetime as dt
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from retainer.accounts.models import AccountEvent
from retainer.lib import outbox
from retainer.lib.events import Audience, event_class, parse, record, record_many
from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage
from retainer.lib.tests.outbox_probe import FAILING, ProbeTicked
from retainer.lib.tests.test_jobs import worker_environ

ROOT = Path(__file__).resolve().parents[3]


def _effects() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT message_id FROM outbox_probe ORDER BY message_id")
        return [row[0] for row in cursor.fetchall()]


def _tick(*numbers: int) -> list[AccountEvent]:
    with transaction.atomic():
        return record_many(AccountEvent, [(ProbeTicked(number=n), {}) for n in numbers])


# --- Typed events -----------------------------------------------------------------------------


def test_a_history_row_reads_back_as_its_typed_event(db: None) -> None:
    with transaction.atomic():
        row = record(AccountEvent, ProbeTicked(number=7, secret="s"), actor=None)
    row.refresh_from_db()
    assert row.type == "probe_ticked"
    assert parse(row) == ProbeTicked(number=7, secret="s")
    assert event_class("accounts.accountevent", "probe_ticked") is ProbeTicked


def test_customers_see_only_the_fields_the_type_allows() -> None:
    event = ProbeTicked(number=1, secret="agent only")
    assert event.visible_to(Audience.CUSTOMER) == {"number": 1}
    assert event.visible_to(Audience.STAFF) == {"number": 1, "secret": "agent only"}


def test_a_missing_or_unknown_payload_key_fails_where_the_event_is_made() -> None:
    with pytest.raises(TypeError):
        ProbeTicked()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ProbeTicked(number=1, colour="red")  # type: ignore[call-arg]


def test_an_event_is_recorded_only_inside_a_transaction(transactional_db: None) -> None:
    with pytest.raises(RuntimeError):
        record(AccountEvent, ProbeTicked(number=1))


# --- Written with the action ------------------------------------------------------------------


def test_each_history_row_gets_one_outbox_message_in_the_same_transaction(db: None) -> None:
    rows = _tick(1, 2, 3)
    messages = list(OutboxMessage.objects.order_by("id"))
    assert [(m.source, m.source_id) for m in messages] == [
        ("accounts.accountevent", row.pk) for row in rows
    ]
    assert [m.payload["number"] for m in messages] == [1, 2, 3]
    assert {m.topic for m in messages} == {"probe.ticked"}


def test_a_rolled_back_action_leaves_neither_event_nor_outbox_row(db: None) -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record(AccountEvent, ProbeTicked(number=1))
        _ = 1 / 0
    assert not AccountEvent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_topic_without_subscribers_is_born_settled(db: None) -> None:
    _tick(1)
    assert OutboxMessage.objects.get().dispatched_at is not None


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_picky")
def test_a_message_no_subscriber_wants_is_born_settled_and_each_gets_only_its_own(
    probe_table: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _tick(1)
    assert callbacks == []  # nobody wants 1: no dispatch job either
    assert OutboxMessage.objects.get().dispatched_at is not None

    _tick(3, 4, 13)
    pending = OutboxMessage.objects.filter(dispatched_at__isnull=True)
    assert sorted(m.payload["number"] for m in pending) == [4, 13]
    assert outbox.dispatch() == 2
    delivered = OutboxDelivery.objects.values_list("message__payload__number", "subscriber")
    assert sorted(delivered) == [(4, "even"), (13, "large")]
    assert len(_effects()) == 1  # "even" (the recording handler) had only 4


# --- Delivered after commit -------------------------------------------------------------------


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_dispatch_is_enqueued_once_per_commit_and_delivers_to_every_subscriber(
    probe_table: None, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _tick(1, 2)
    assert len(callbacks) == 1
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 2

    assert outbox.dispatch() == 2
    ids = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))
    assert _effects() == ids
    assert OutboxDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 4
    # Running again delivers nothing twice.
    assert outbox.dispatch() == 0
    assert _effects() == ids


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_a_failing_subscriber_is_retried_with_back_off_then_shown_as_failed(
    probe_table: None,
) -> None:
    FAILING.add(13)
    try:
        _tick(13)
        start = OutboxMessage.objects.get().occurred_at
        outbox.dispatch(now=start)
        flaky = OutboxDelivery.objects.get(subscriber="flaky")
        assert flaky.status == DeliveryStatus.RETRYING
        assert "cannot take 13" in flaky.last_error
        # The other subscriber got it, and keeps it: its effect is not repeated.
        assert len(_effects()) == 1

        # Not before the back-off has passed.
        outbox.dispatch(now=start + dt.timedelta(seconds=1))
        assert OutboxDelivery.objects.get(subscriber="flaky").attempts == 1

        later = start
        for _ in range(outbox.MAX_ATTEMPTS):
            later += dt.timedelta(hours=2)
            outbox.dispatch(now=later)
        flaky.refresh_from_db()
        assert flaky.status == DeliveryStatus.FAILED
        assert flaky.attempts == outbox.MAX_ATTEMPTS
        # Settled: a failed delivery does not hold up the messages behind it.
        assert OutboxMessage.objects.get().dispatched_at is not None
        assert len(_effects()) == 1

        FAILING.clear()
        outbox.retry_failed(flaky)
        assert OutboxMessage.objects.get().dispatched_at is None
        outbox.dispatch()
        flaky.refresh_from_db()
        assert flaky.status == DeliveryStatus.DELIVERED
        assert len(_effects()) == 1
    finally:
        FAILING.clear()


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_a_delivery_someone_else_made_is_not_made_again(probe_table: None) -> None:
    _tick(5)
    message = OutboxMessage.objects.get()
    # Another worker delivered it between this one's read and its attempt.
    stale = list(OutboxMessage.objects.all())
    OutboxDelivery.objects.create(
        message=message,
        subscriber="effects",
        status=DeliveryStatus.DELIVERED,
        attempts=1,
        updated_at=message.occurred_at,
    )
    assert stale
    outbox.dispatch()
    assert _effects() == []
    assert OutboxDelivery.objects.get(subscriber="flaky").status == DeliveryStatus.DELIVERED


# --- Batches ----------------------------------------------------------------------------------


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_one_pass_takes_batch_after_batch_until_nothing_is_pending(probe_table: None) -> None:
    _tick(1, 2, 3, 4, 5)
    assert outbox.dispatch(batch=2) == 5
    assert len(_effects()) == 5
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_a_failing_handler_fails_only_its_own_delivery_in_a_batch(probe_table: None) -> None:
    FAILING.add(2)
    try:
        rows = _tick(1, 2, 3)
        assert outbox.dispatch() == 2  # 1 and 3; 2 waits for the flaky one's retry
        ids = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))
        assert _effects() == ids  # the batch was handed over again: still once each
        flaky = OutboxDelivery.objects.get(subscriber="flaky", status=DeliveryStatus.RETRYING)
        assert flaky.message.source_id == rows[1].pk
        assert flaky.attempts == 1
        # Waiting for its retry, it is not even claimed.
        assert outbox.dispatch() == 0
        assert OutboxDelivery.objects.get(pk=flaky.pk).attempts == 1
        assert _effects() == ids
    finally:
        FAILING.clear()


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe_flaky")
def test_a_long_pass_hands_the_rest_to_the_next_job(
    probe_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tick(1, 2, 3, 4, 5)
    queued: list[bool] = []
    monkeypatch.setattr(outbox, "_dispatch_after_commit", lambda: queued.append(True))
    assert outbox.dispatch(batch=2, seconds=0) == 2
    assert queued == [True]  # the next dispatch job, queued once this one's work commits
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 3


@pytest.fixture
def committed_probe_table(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The probe's effects table outside a test transaction; events written in it are
    left for the test to dispatch (no dispatch job runs after their commit)."""
    monkeypatch.setattr(outbox, "_dispatch_after_commit", lambda: None)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE outbox_probe (message_id bigint, pid integer)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE outbox_probe")


def _in_thread(target: Callable[[], object], results: list[object]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(target())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
def test_a_dispatcher_skips_the_batch_another_one_holds(committed_probe_table: None) -> None:
    _tick(*range(6))
    ids = list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))
    results: list[object] = []
    with transaction.atomic():
        held = outbox._claim(after=0, now=timezone.now(), limit=3)
        assert [m.pk for m in held] == ids[:3]
        other = _in_thread(lambda: outbox.dispatch(batch=2), results)
        other.join(10)
        assert not other.is_alive(), "the second dispatcher waited for the held batch"
        assert results == [3]
    assert _effects() == ids[3:]
    assert outbox.dispatch() == 3
    assert _effects() == ids


@override_settings(RETAINER_SUBSCRIPTIONS="retainer.lib.tests.outbox_probe")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
def test_two_dispatchers_at_once_deliver_each_message_once(
    committed_probe_table: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOX_PROBE_SLEEP", "0.002")
    with transaction.atomic():
        record_many(AccountEvent, [(ProbeTicked(number=n), {}) for n in range(200)])
    results: list[object] = []
    threads = [_in_thread(lambda: outbox.dispatch(batch=10), results) for _ in range(2)]
    for thread in threads:
        thread.join(60)
    assert sum(results) == 200  # type: ignore[arg-type]
    assert all(results), "both dispatchers delivered part of the messages"
    effects = _effects()
    assert len(effects) == len(set(effects)) == 200
    assert OutboxDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 200
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


# --- Once, across a killed worker -------------------------------------------------------------


def _manage(environ: dict[str, str], code: str | None = None, *args: str) -> str:
    command = [
        sys.executable,
        "manage.py",
        *(("shell", "--no-imports", "-c", code) if code else args),
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


SETUP = """
from django.db import connection, transaction
from retainer.accounts.models import AccountEvent
from retainer.lib.events import record_many
from retainer.lib.tests.outbox_probe import ProbeTicked
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE outbox_probe (message_id bigint, pid integer)")
with transaction.atomic():
    record_many(AccountEvent, [(ProbeTicked(number=n), {}) for n in range(60)])
"""


def _state(var_dir: Path) -> tuple[int, int, int, int, int]:
    """Pending messages, effect rows, distinct messages with an effect, distinct worker
    pids, delivered rows — read straight from the worker's SQLite file."""
    with sqlite3.connect(var_dir / "retainer.sqlite3", timeout=20) as db:
        pending = db.execute(
            "SELECT COUNT(*) FROM lib_outboxmessage WHERE dispatched_at IS NULL"
        ).fetchone()[0]
        effects, distinct, pids = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT message_id), COUNT(DISTINCT pid) FROM outbox_probe"
        ).fetchone()
        delivered = db.execute(
            "SELECT COUNT(*) FROM lib_outboxdelivery WHERE status = 'delivered'"
        ).fetchone()[0]
    return pending, effects, distinct, pids, delivered


def _consumer(environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "-n", "-w", "1", "-k", "thread", "-d", "0.1"],
        cwd=ROOT,
        env=environ,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_every_message_reaches_its_subscriber_once_across_a_killed_worker(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    environ = worker_environ(
        var_dir,
        DJANGO_SETTINGS_MODULE="retainer.lib.tests.settings_outbox",
        OUTBOX_PROBE_SLEEP="0.05",
    )
    _manage(environ, None, "migrate", "--no-input", "-v", "0")
    # Writing the events enqueues their dispatch job; no worker runs yet.
    _manage(environ, SETUP)
    log = tmp_path / "worker.log"

    first = _consumer(environ, log)
    deadline = time.monotonic() + 60
    while True:
        pending, effects, *_ = _state(var_dir)
        if effects >= 5:
            break
        assert first.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    pending, effects, *_ = _state(var_dir)
    assert 0 < pending < 60, "the worker was not killed half-way"

    second = _consumer(environ, log)
    try:
        # The killed worker's job is gone; the minute's sweep would enqueue the next one.
        _manage(environ, "from retainer.lib.tasks import dispatch_outbox_task as t; t.enqueue()")
        while True:
            pending, effects, distinct, pids, delivered = _state(var_dir)
            if pending == 0:
                break
            assert second.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
    assert (effects, distinct, delivered) == (60, 60, 60), log.read_text()
    assert pids == 2, "both workers delivered part of the messages"
