"""Case intake over HTTP: clients open cases against a gunicorn server, each request taking
the entitlement decision, writing the ledger entry, starting the SLA clocks and writing the
events with their outbox rows.

    python bench/intake.py --db sqlite --clients 8 --seconds 30
    python bench/intake.py --db postgres --clients 8 --seconds 30
    python bench/intake.py --db sqlite --form      # the portal's form instead of the API

The database is created for the run (see ``targets.py``: a temporary SQLite file, or a
new PostgreSQL database on ``--database-url``/``DATABASE_URL`` or a throwaway cluster).
The server is ``retainer serve`` (the product's own gunicorn command line) with
``--workers`` workers, and it also answers a trivial JSON view (``hello_settings.py``).

Machines differ from run to run by several times, so the budget is a ratio to a reference
measured in the same run, on the same server: first the same number of clients call the
hello view for ``--hello-seconds``, then they open cases. Budget (performance issue):
intake at >= 15% of the hello rate, p99 <= 4 x p50, nothing lost or doubled. Prints, last:
    intake db=… mode=… clients=… cases_per_s=… hello_per_s=… pct_of_hello=… p50_ms=…
    p99_ms=… bytes_per_case=… errors=0 lost=0 doubled=0
(one line), where ``bytes_per_case`` is what the server's processes wrote to storage during
the run (``/proc/<pid>/io``) per created case; before it the verdict on the budget, the
raw SQLite insert rate for scale, and a check that every acknowledged case was stored and
consumed exactly once. The exit status is 1 on an error or an inconsistency only.

``--same-keys``: every client signs in as the same contact and sends the same requests
with the same ``Idempotency-Key``s at the same time; each key must make exactly one
case, and every client must get that case back.

``--restart-postgres`` (PostgreSQL on a throwaway cluster): the cluster is restarted
halfway through; clients send a failed request again with its key until it succeeds,
and every acknowledged case must still be stored and consumed exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from targets import Target, free_port
from web import (
    PYTHON,
    ROOT,
    Session,
    hello_env,
    process_tree,
    start_server,
    written_bytes,
)

PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway database

SEED = """
import datetime as dt
from decimal import Decimal
from django.contrib.auth.hashers import make_password
from retainer.accounts import actions as people
from retainer.accounts.choices import Role
from retainer.catalog import actions as catalog
from retainer.contracts import actions as contracts
from retainer.cases.models import BusinessCalendar, SlaTarget
from django.contrib.auth import get_user_model
admin = people.do_create_staff_user(email="admin@bench.test", full_name="Admin", roles=[Role.ADMIN], actor=None)
product = catalog.do_save_product(None, actor=admin, name="Bench", code="bench", currency="EUR")
release = catalog.do_save_release(None, actor=admin, product=product, version="1.0", ga_date=dt.date(2025, 1, 1))
catalog.do_save_scope_policy(None, actor=admin, product=product)
org = people.do_create_organization(name="Bench Corp", domains=["bench.test"], actor=admin)
for n in range({clients}):
    people.do_create_contact(organization=org, full_name=f"Client {{n}}", email=f"c{{n}}@bench.test",
                             portal_password="{password}", actor=admin)
contracts.do_create_contract(organization=org, preset="bank", start_date=dt.date(2026, 1, 1),
                             covered_products=[product], terms={{"quantity": 10_000_000}}, actor=admin)
calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
for severity in range(1, 5):
    SlaTarget.objects.create(severity=severity, calendar=calendar, first_response_minutes=60, resolution_minutes=480)
print(product.pk, release.pk)
"""

COUNT = """
from retainer.cases.models import Case
from retainer.contracts.models import Contract, LedgerEntry
from django.db.models import Sum
c = Contract.objects.get()
print(Case.objects.count(), LedgerEntry.objects.filter(kind="consume").count(), c.balance,
      LedgerEntry.objects.aggregate(s=Sum("quantity"))["s"])
"""


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def open_case(session: Session, form: bool, n: int, key: str, product: int, release: int):
    """One case, through the API (JSON, with an idempotency key) or the portal's form."""
    fields = {"product": product, "release": release, "subject": f"Bench case {n}",
              "description": "load", "severity": 3}  # fmt: skip
    if form:
        fields["csrfmiddlewaretoken"] = session.cookies["csrftoken"]
        status, data = session.request(
            "POST", "/portal/cases/new/", urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        return (201 if status == 302 else status), data
    return session.request(
        "POST", "/api/v1/cases/", json.dumps(fields).encode(),
        {"Content-Type": "application/json", "Idempotency-Key": key},
    )  # fmt: skip


def client(
    port: int,
    email: str,
    product: int,
    release: int,
    seconds: float,
    options: argparse.Namespace,
    ready: threading.Barrier,
    out: multiprocessing.Queue,
) -> None:
    session = Session(port)
    try:
        session.login(email, PASSWORD)
    except Exception as exc:
        ready.abort()
        out.put(([], [f"login failed for {email}: {exc!r}"], {}, 0))
        return
    # Every client starts once all are signed in (and a restart comes after that).
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=60)
    latencies: list[float] = []
    errors: list[str] = []
    cases: dict[int, str] = {}  # request number -> case id, with --same-keys
    retried = 0
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        key = f"bench-{n}" if options.same_keys else str(uuid.uuid4())
        started = time.perf_counter()
        while True:
            try:
                status, data = open_case(session, options.form, n, key, product, release)
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, repr(exc).encode()
            # With --restart-postgres a failed request is sent again with its key, as a
            # client that does not know whether it took effect must.
            if status == 201 or not options.restart_postgres or time.monotonic() > deadline + 30:
                break
            retried += 1
            time.sleep(0.05)
        latencies.append(time.perf_counter() - started)
        if status != 201:
            errors.append(f"{status}: {data[:200]!r}")
        elif options.same_keys:
            cases[n] = json.loads(data)["id"]
        n += 1
    out.put((latencies, errors, cases, retried))


def hello_client(port: int, seconds: float, out: multiprocessing.Queue) -> None:
    """The reference: a trivial JSON view through the same server and middleware."""
    session, done, deadline = Session(port), 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _ = session.request("GET", "/bench/hello")
        done += status == 200
    out.put(done)


def hello_rate(port: int, clients: int, seconds: float) -> float:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=hello_client, args=(port, seconds, queue))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    done = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return done / seconds


BUDGET_PCT_OF_HELLO = 15  # intake >= 15% of the hello view's rate in the same run


def raw_sqlite_inserts(path: Path, seconds: float = 2.0) -> float:
    """Single-row committed inserts per second into a WAL database, for scale."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t (body) VALUES (?)", ("x" * 200,))
        db.execute("COMMIT")
        n += 1
    return n / seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--form", action="store_true", help="the portal's form, not the API")
    parser.add_argument(
        "--hello-seconds", type=float, default=10, help="length of the reference measurement"
    )
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    parser.add_argument(
        "--same-keys", action="store_true", help="all clients race with the same keys"
    )
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="restart the throwaway PostgreSQL cluster halfway; clients retry with their keys",
    )
    args = parser.parse_args()
    if args.restart_postgres and (args.db != "postgres" or args.database_url):
        parser.error("--restart-postgres needs --db postgres on a throwaway cluster")
    if args.form and (args.same_keys or args.restart_postgres):
        parser.error("--form sends no idempotency key: not with --same-keys or --restart-postgres")

    tmp = Path(tempfile.mkdtemp(prefix="retainer-intake-"))
    tmp.chmod(0o755)  # a throwaway cluster runs as the postgres user and must reach it
    target = Target(
        args.db, args.database_url, tmp, purpose="intake", own_cluster=args.restart_postgres
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({k: v for k, v in target.env.items() if v is not None})
    env["RETAINER_MODE"] = "demo"
    server = None
    try:
        manage(env, "migrate", "-v0")
        product, release = manage(
            env, "shell", "-v0", "-c", SEED.format(clients=args.clients, password=PASSWORD)
        ).split()
        port = free_port()
        server = start_server(hello_env(env), port, args.workers)
        hello_per_s = hello_rate(port, args.clients, args.hello_seconds)
        queue: multiprocessing.Queue = multiprocessing.Queue()
        ready = multiprocessing.Barrier(args.clients + 1)
        procs = [
            multiprocessing.Process(
                target=client,
                args=(
                    port,
                    "c0@bench.test" if args.same_keys else f"c{n}@bench.test",
                    int(product),
                    int(release),
                    args.seconds,
                    args,
                    ready,
                    queue,
                ),
            )
            for n in range(args.clients)
        ]
        for p in procs:
            p.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=60)
        pids = process_tree(server.pid)
        written_before = written_bytes(pids)
        started = time.monotonic()
        if args.restart_postgres:
            time.sleep(args.seconds / 2)
            restart_started = time.monotonic()
            target.restart()
            print(f"restarted postgres in {time.monotonic() - restart_started:.1f} s")
        # A client that died without reporting fails the run instead of hanging it.
        results = [queue.get(timeout=args.seconds + 120) for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
        written = written_bytes(pids) - written_before
        latencies = sorted(x for lat, _, _, _ in results for x in lat)
        errors = [e for _, errs, _, _ in results for e in errs]
        retried = sum(r for _, _, _, r in results)
        answers: dict[int, set[str]] = {}
        for _, _, cases_by_request, _ in results:
            for n, case_id in cases_by_request.items():
                answers.setdefault(n, set()).add(case_id)
        cases, consumed, balance, ledger_sum = manage(env, "shell", "-v0", "-c", COUNT).split()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        target.close()
    ok = len(latencies) - len(errors)
    if args.same_keys:
        # One case per key, and every client that sent the key got that case back.
        split = sum(len(ids) > 1 for ids in answers.values())
        ok = len(answers)
        print(f"same_keys requests={len(latencies)} keys={ok} answered_differently={split}")
        if split:
            errors.append(f"{split} keys answered with different cases")
    if args.restart_postgres:
        print(f"restart retried_requests={retried}")
    locked = sum("locked" in e for e in errors)
    for error in sorted(set(errors))[:5]:
        print("error:", error)
    print(
        f"raw_sqlite inserts_per_s={raw_sqlite_inserts(tmp / 'raw.sqlite3'):.0f} (one committed row per transaction)"
    )
    consistent = int(cases) == ok == int(consumed) and balance == ledger_sum
    print(
        f"check cases={cases} acknowledged={ok} consumed={consumed} balance={balance} ledger_sum={ledger_sum} "
        f"{'ok' if consistent else 'MISMATCH'}"
    )
    if not consistent:
        errors.append("stored cases, acknowledged cases and consumption differ")
    p50 = statistics.median(latencies) * 1000 if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
    rate = ok / args.seconds
    pct = 100 * rate / hello_per_s if hello_per_s else 0
    lost, doubled = max(0, ok - int(cases)), max(0, int(consumed) - int(cases))
    met = pct >= BUDGET_PCT_OF_HELLO and p99 <= 4 * p50
    print(
        f"budget pct_of_hello>={BUDGET_PCT_OF_HELLO} p99<=4*p50: {'met' if met else 'MISSED'} "
        f"(locked={locked} seconds={elapsed:.0f} written_mib={written / 2**20:.1f})"
    )
    print(
        f"intake db={args.db} mode={'form' if args.form else 'api'} clients={args.clients} "
        f"cases_per_s={rate:.0f} hello_per_s={hello_per_s:.0f} pct_of_hello={pct:.1f} "
        f"p50_ms={p50:.0f} p99_ms={p99:.0f} bytes_per_case={written / max(ok, 1):.0f} "
        f"errors={len(errors)} lost={lost} doubled={doubled}"
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
