"""Case intake over HTTP: clients open cases against a gunicorn server, each request taking
the entitlement decision and writing the ledger.

    python bench/intake.py --db sqlite --clients 8 --seconds 30
    python bench/intake.py --db postgres --clients 8 --seconds 30

The database is created for the run (see ``targets.py``: a temporary SQLite file, or a
new PostgreSQL database on ``--database-url``/``DATABASE_URL`` or a throwaway cluster).

Budget (cases issue), on the 2-core machine: SQLite >= 200 cases/s with p99 <= 150 ms,
PostgreSQL >= 100 cases/s, no "database is locked" errors. Prints, last:
    intake db=… clients=… cases_per_s=… p50_ms=… p99_ms=… errors=…
and before it the same machine's raw SQLite insert rate, for scale, and a check that
every acknowledged case was stored and consumed exactly once.

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
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from targets import Target, free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
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


def client(
    port: int,
    email: str,
    product: int,
    release: int,
    seconds: float,
    same_keys: bool,
    retry: bool,
    ready: threading.Barrier,
    out: multiprocessing.Queue,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cookies: dict[str, str] = {}

    def request(
        method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ):
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        return response.status, data

    try:
        request("GET", "/login/")
        form = f"username={email}&password={PASSWORD}&csrfmiddlewaretoken={cookies['csrftoken']}"
        status, _ = request(
            "POST", "/login/", form.replace("@", "%40").encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/login/"},
        )  # fmt: skip
        if status != 302:
            raise RuntimeError(f"status {status}")
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
        body = json.dumps(
            {
                "product": product,
                "release": release,
                "subject": f"Bench case {n}",
                "description": "load",
                "severity": 3,
            }
        ).encode()
        key = f"bench-{n}" if same_keys else str(uuid.uuid4())
        started = time.perf_counter()
        while True:
            try:
                status, data = request(
                    "POST", "/api/v1/cases/", body,
                    {"Content-Type": "application/json", "X-CSRFToken": cookies["csrftoken"],
                     "Idempotency-Key": key, "Referer": f"http://127.0.0.1:{port}/"},
                )  # fmt: skip
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, repr(exc).encode()
                conn.close()  # the next request connects again
            # With --restart-postgres a failed request is sent again with its key, as a
            # client that does not know whether it took effect must.
            if status == 201 or not retry or time.monotonic() > deadline + 30:
                break
            retried += 1
            time.sleep(0.05)
        latencies.append(time.perf_counter() - started)
        if status != 201:
            errors.append(f"{status}: {data[:200]!r}")
        elif same_keys:
            cases[n] = json.loads(data)["id"]
        n += 1
    out.put((latencies, errors, cases, retried))


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
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "retainer.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
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
                    args.same_keys,
                    args.restart_postgres,
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
    print(
        f"intake db={args.db} clients={args.clients} cases_per_s={rate:.0f} p50_ms={p50:.0f} p99_ms={p99:.0f} "
        f"errors={len(errors)} locked={locked} seconds={elapsed:.0f}"
    )
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
