"""Case intake over HTTP: clients open cases against a gunicorn server, each request taking
the entitlement decision and writing the ledger.

    python bench/intake.py --db sqlite --clients 8 --seconds 30
    python bench/intake.py --db postgres --clients 8 --seconds 30   # throwaway cluster, or DATABASE_URL

Budget (cases issue), on the 2-core machine: SQLite >= 200 cases/s with p99 <= 150 ms,
PostgreSQL >= 100 cases/s, no "database is locked" errors. Prints, last:
    intake db=… clients=… cases_per_s=… p50_ms=… p99_ms=… errors=…
and before it the same machine's raw SQLite insert rate, for scale.
"""

from __future__ import annotations

import argparse
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
import time
import uuid
from pathlib import Path

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def client(
    port: int, email: str, product: int, release: int, seconds: float, out: multiprocessing.Queue
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

    request("GET", "/login/")
    form = (
        f"username={email}&password={PASSWORD}&csrfmiddlewaretoken={cookies['csrftoken']}".replace(
            "@", "%40"
        )
    )
    status, _ = request(
        "POST", "/login/", form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/login/"},
    )  # fmt: skip
    assert status == 302, f"login failed for {email}: {status}"
    latencies: list[float] = []
    errors: list[str] = []
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
        started = time.perf_counter()
        status, data = request(
            "POST", "/api/v1/cases/", body,
            {"Content-Type": "application/json", "X-CSRFToken": cookies["csrftoken"],
             "Idempotency-Key": str(uuid.uuid4()), "Referer": f"http://127.0.0.1:{port}/"},
        )  # fmt: skip
        latencies.append(time.perf_counter() - started)
        if status != 201:
            errors.append(f"{status}: {data[:200]!r}")
        n += 1
    out.put((latencies, errors))


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
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="retainer-intake-"))
    tmp.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" or args.db == "postgres"}
    env.update(RETAINER_VAR_DIR=str(tmp / "var"), RETAINER_MODE="demo")
    pg_dir = None
    if args.db == "postgres" and not env.get("DATABASE_URL"):
        pg_dir = tmp / "pg"
        env["DATABASE_URL"] = subprocess.run(
            ["bash", "scripts/pg-throwaway.sh", "start", str(pg_dir), str(free_port())],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        subprocess.run([PYTHON, "-c", _CREATE_DB, env["DATABASE_URL"]], check=True)
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
        procs = [
            multiprocessing.Process(
                target=client,
                args=(port, f"c{n}@bench.test", int(product), int(release), args.seconds, queue),
            )
            for n in range(args.clients)
        ]
        started = time.monotonic()
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
        latencies = sorted(x for lat, _ in results for x in lat)
        errors = [e for _, errs in results for e in errs]
        cases, consumed, balance, ledger_sum = manage(env, "shell", "-v0", "-c", COUNT).split()
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        if pg_dir is not None:
            subprocess.run(
                ["bash", "scripts/pg-throwaway.sh", "stop", str(pg_dir)], cwd=ROOT, check=False
            )
    ok = len(latencies) - len(errors)
    locked = sum("locked" in e for e in errors)
    for error in sorted(set(errors))[:5]:
        print("error:", error)
    print(
        f"raw_sqlite inserts_per_s={raw_sqlite_inserts(tmp / 'raw.sqlite3'):.0f} (one committed row per transaction)"
    )
    print(
        f"check cases={cases} acknowledged={ok} consumed={consumed} balance={balance} ledger_sum={ledger_sum} "
        f"{'ok' if int(cases) == ok == int(consumed) and balance == ledger_sum else 'MISMATCH'}"
    )
    p50 = statistics.median(latencies) * 1000 if latencies else 0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0
    rate = ok / args.seconds
    print(
        f"intake db={args.db} clients={args.clients} cases_per_s={rate:.0f} p50_ms={p50:.0f} p99_ms={p99:.0f} "
        f"errors={len(errors)} locked={locked} seconds={elapsed:.0f}"
    )
    return 0 if not errors else 1


_CREATE_DB = """
import sys, psycopg
url = sys.argv[1]
base, name = url.rsplit("/", 1)
with psycopg.connect(base + "/postgres", autocommit=True) as c:
    c.execute(f'CREATE DATABASE "{name}"')
"""

if __name__ == "__main__":
    sys.exit(main())
