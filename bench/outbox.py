"""Event delivery throughput of the outbox: a burst of SLA events, delivered by real job
workers to the real subscribers.

    python bench/outbox.py [--db sqlite|postgres] [--database-url URL] [--messages 5000]
                           [--workers 2] [--in-process] [--profile FILE] [--timeout 600]

The database is a new one for the run (``bench/targets.py``). It gets an organization
with a contract, a staff member in a team and 200 cases opened by the real intake; every
tenth case is assigned to the staff member, the rest are not, as after a burst of API
intake. Then ``--messages`` SLA events (``case.sla_warning`` and ``case.sla_breached``,
half each) are written through the real publish API (``lib.events.record_many``), ten
per transaction as the SLA scan writes them, with the project's own subscribers
(``retainer/subscriptions.py``): the e-mail channel queues a staff notice for each event
of an assigned case and reads the case for the others.

Delivery is what production runs: ``--workers`` job consumers (``retainer worker``, one of
them with the scheduler and its minute's sweep of the outbox, the others ``-n``), each one
worker thread, started once every event is written. ``per_s`` is the messages over the
time from their start until no message is left undispatched (``--timeout`` stops the
wait; ``settled`` then says how far it got). ``--in-process`` runs the dispatch job in
this process instead, one run after the other, as a single worker would, and
``--profile FILE`` writes its cProfile statistics there (and prints the top functions).

The reference, measured in the same run on the same database: one transaction per
message that inserts a delivery-like row and marks it done (``UPDATE``), the least a
design that settles one message per transaction costs. Budget: dispatch at least
``BUDGET_RATIO[db]`` × that reference, the subscribers' own work included. The ratios
differ because the reference does: a SQLite commit (WAL, ``synchronous=NORMAL``) does not
sync the file and takes a few microseconds, a PostgreSQL commit waits for its WAL flush.
One dispatch transaction per message and a job that stopped after 500 messages measured
0.002 (SQLite) and 0.013 (PostgreSQL); batched claims measure about 0.02 and 0.08 to
0.14 (the PostgreSQL reference varies most with the machine's load).

The last line is ``outbox db=… messages=… per_s=… reference_per_s=… ratio=…``, followed by
the workers, what was settled and delivered, the budget and the verdict.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from targets import Target

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PYTHON = str(ROOT / ".venv" / "bin" / "python")
BUDGET_RATIO = {"sqlite": 0.01, "postgres": 0.05}  # dispatch messages/s over the reference's
CASES = 200
PER_TRANSACTION = 10


def _django(env: dict[str, str | None]) -> None:
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    os.environ["DJANGO_SETTINGS_MODULE"] = "retainer.settings"
    import django

    django.setup()


def _seed() -> list[int]:
    """Migrate; the people, contract and cases the events are about. Returns case ids."""
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from retainer.accounts.actions import (
        do_create_contact,
        do_create_organization,
        do_create_staff_user,
        do_save_team,
    )
    from retainer.accounts.choices import Role
    from retainer.cases.actions import do_open_case, do_update_case, plan_intake
    from retainer.catalog.actions import do_save_product
    from retainer.contracts.actions import do_create_contract

    agent = do_create_staff_user(
        email="agent@outbox.test", full_name="Agent", roles=[Role.AGENT], actor=None
    )
    do_save_team(None, name="First line", members=[agent], actor=None)
    organization = do_create_organization(
        name="Outbox Ltd", domains=["outbox.test"], currency="EUR", actor=None
    )
    contact = do_create_contact(
        organization=organization, full_name="Client", email="client@outbox.test", actor=None
    )
    product = do_save_product(
        None, actor=None, name="Bench", code="bench", list_price=Decimal(1), currency="EUR"
    )
    do_create_contract(
        organization=organization,
        preset="subscription",
        start_date=dt.date.today() - dt.timedelta(days=30),  # noqa: DTZ011 - a date only
        covered_products=[product],
        actor=None,
    )
    ids = []
    for n in range(CASES):
        plan = plan_intake(
            contact=contact,
            product=product,
            subject=f"Export {n} fails",
            description="It stops with an error.",
            channel="api",
            actor=None,
        )
        case = do_open_case(plan, actor=None)
        if n % 10 == 0:
            do_update_case(case, actor=None, assignee=agent)
        ids.append(case.pk)
    return ids


def _drain_in_process() -> None:
    from retainer.lib.models import OutboxMessage
    from retainer.lib.tasks import dispatch_outbox_task

    while (
        dispatch_outbox_task.call()
        and OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    ):
        pass


def _publish(case_ids: list[int], count: int) -> float:
    """Write ``count`` SLA events; returns the seconds it took."""
    from django.db import transaction
    from django.utils import timezone

    from retainer.cases.events import CaseSlaBreached, CaseSlaWarning
    from retainer.cases.models import CaseEvent
    from retainer.lib.events import record_many

    due = timezone.now().isoformat()
    started = time.monotonic()
    for first in range(0, count, PER_TRANSACTION):
        items = []
        for n in range(first, min(first + PER_TRANSACTION, count)):
            kind = CaseSlaWarning if n % 2 == 0 else CaseSlaBreached
            event = kind(clock="first_response", due_at=due)
            case = case_ids[n % len(case_ids)]
            items.append((event, {"case_id": case, "actor": None, "is_internal": True}))
        with transaction.atomic():
            record_many(CaseEvent, items)
    return time.monotonic() - started


def _pending() -> int:
    from retainer.lib.models import OutboxMessage

    return OutboxMessage.objects.filter(dispatched_at__isnull=True).count()


def _workers(count: int, log: Path) -> list[subprocess.Popen[bytes]]:
    """``retainer worker``: the first with the scheduler, every further one ``-n``."""
    procs = []
    for n in range(count):
        options = ["-w", "1", "-k", "thread"] + (["-n"] if n else [])
        procs.append(
            subprocess.Popen(
                [PYTHON, "-m", "retainer", "worker", *options],
                cwd=ROOT,
                env=dict(os.environ),
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def _deliver_with_workers(count: int, total: int, timeout: float, log: Path) -> float:
    started = time.monotonic()
    procs = _workers(count, log)
    try:
        while _pending():
            if time.monotonic() - started > timeout:
                break
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(f"outbox: a worker stopped:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        return time.monotonic() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _deliver_in_process(timeout: float, profile: str | None) -> float:
    from retainer.lib.tasks import dispatch_outbox_task

    profiler = cProfile.Profile() if profile else None
    started = time.monotonic()
    if profiler:
        profiler.enable()
    while _pending() and time.monotonic() - started < timeout:
        dispatch_outbox_task.call()
    if profiler:
        profiler.disable()
    seconds = time.monotonic() - started
    if profiler and profile:
        profiler.dump_stats(profile)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return seconds


def _reference(count: int) -> float:
    """Seconds for ``count`` transactions of one insert and one update each."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_outbox_reference (id integer PRIMARY KEY, message_id bigint, "
            "status varchar(10), updated_at varchar(40))"
        )
    started = time.monotonic()
    for n in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_outbox_reference (id, message_id, status, updated_at) "
                "VALUES (%s, %s, 'retrying', %s)",
                [n, n, str(n)],
            )
            cursor.execute(
                "UPDATE bench_outbox_reference SET status = 'delivered' WHERE id = %s", [n]
            )
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_outbox_reference")
    return seconds


def _delivered() -> tuple[int, int, int]:
    """Settled messages of the burst, deliveries made, staff notices queued."""
    from retainer.lib.models import DeliveryStatus, OutboxDelivery, OutboxMessage
    from retainer.mail.models import OutboundMessage

    burst = OutboxMessage.objects.filter(topic__in=["case.sla_warning", "case.sla_breached"])
    return (
        burst.filter(dispatched_at__isnull=False).count(),
        OutboxDelivery.objects.filter(message__in=burst, status=DeliveryStatus.DELIVERED).count(),
        OutboundMessage.objects.filter(kind__in=["sla_warning", "sla_breach"]).count(),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--profile", default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    db = "postgres" if args.database_url else args.db

    tmp = Path(tempfile.mkdtemp(prefix="retainer-outbox-"))
    target = Target(db, args.database_url, tmp, purpose="outbox")
    try:
        _django(target.env)
        case_ids = _seed()
        _drain_in_process()  # the intake's own events, so the burst is measured alone
        reference = _reference(args.messages)
        publish = _publish(case_ids, args.messages)
        log = tmp / "workers.log"
        if args.in_process or args.profile:
            seconds = _deliver_in_process(args.timeout, args.profile)
            workers = "in-process"
        else:
            seconds = _deliver_with_workers(args.workers, args.messages, args.timeout, log)
            workers = str(args.workers)
        settled, deliveries, notices = _delivered()
    finally:
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)
    per_s = settled / seconds
    reference_per_s = args.messages / reference
    ratio = per_s / reference_per_s
    budget = BUDGET_RATIO[db]
    ok = settled == args.messages and ratio >= budget
    print(
        f"{args.messages} events written in {publish:.1f} s ({args.messages / publish:.0f}/s); "
        f"{settled} settled in {seconds:.1f} s by {workers} worker(s), "
        f"{deliveries} deliveries, {notices} staff notices queued; "
        f"reference {args.messages} one-row transactions in {reference:.1f} s; "
        f"budget ≥ {budget:g} × reference"
    )
    print(
        f"outbox db={db} messages={args.messages} per_s={per_s:.1f} "
        f"reference_per_s={reference_per_s:.1f} ratio={ratio:.3f} workers={workers} "
        f"settled={settled} deliveries={deliveries} notices={notices} "
        f"budget={budget:g} verdict={'ok' if ok else 'FAILED'}"
    )
    return 0 if settled == args.messages else 1


if __name__ == "__main__":
    raise SystemExit(main())
