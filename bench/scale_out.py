"""Scale-out, end to end: two app servers and three job consumers on PostgreSQL and Redis,
one server and one worker killed with SIGKILL halfway.

    python bench/scale_out.py [--seconds 30] [--clients 6] [--database-url URL]

What runs, each a process of its own, as the deploy recipe (docs/deploy.md) runs them:

- PostgreSQL: a new database on ``--database-url``/``DATABASE_URL``, or on a throwaway
  cluster (``scripts/pg-throwaway.sh``); Redis: a throwaway ``redis-server`` for the queue.
- Two app servers (``retainer serve``, 2 gunicorn workers each) on their own ports, with
  their own ``RETAINER_VAR_DIR`` and one shared media folder and secret key.
- Two job workers (``retainer worker -n``) and exactly one scheduler (``retainer worker``).

The run: clients sign in on one server and send every other request to the other with
the same session cookie; each case is an API create with an ``Idempotency-Key``, and a
request that fails (its server died under it) is sent again with the same key to the
other server. An admin starts a billing run for the month on the first server once the
load runs. Halfway, the first server (master and workers) and the first job worker are
killed with SIGKILL. After the load, a second billing run is started on the surviving
server, several SLA scans are queued at once (the workers run them side by side), and the
run waits until the queue is drained and every event is delivered.

Then it checks what users rely on, and counts:

- ``lost``: acknowledged cases not stored, or stored without their consumption;
- ``doubled``: cases stored but never acknowledged (a retried request that made a second
  case), or consumed twice;
- ``jobs_doubled``: ledger entries billed twice, SLA clocks warned or breached twice,
  billing runs finished twice;
- ``stuck``: jobs left in the queue, events not delivered, billing runs not finished,
  consumptions left unbilled after the second run.

Its last line: ``scale_out servers=2 workers=2 cases=… lost=0 doubled=0 jobs_doubled=0
stuck=0`` (and the exit status 1 when any count is not 0). ``retainer/project/tests/
test_scale_out.py`` runs it in the PostgreSQL half of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from targets import Target, free_port  # noqa: E402
from web import PYTHON, ROOT, Session, process_tree, start_server  # noqa: E402

PASSWORD = "scale-out-password-1"  # noqa: S105 - a throwaway database
SECRET_KEY = "scale-out-" + "k" * 60  # both servers of one run sign with it

SEED = """
import datetime as dt
from retainer.accounts import actions as people
from retainer.accounts.choices import Role
from retainer.catalog import actions as catalog
from retainer.contracts import actions as contracts
from retainer.cases.models import BusinessCalendar, SlaTarget
admin = people.do_create_staff_user(email="admin@scale.test", full_name="Admin", roles=[Role.ADMIN],
                                    password="{password}", actor=None)
product = catalog.do_save_product(None, actor=admin, name="Scale", code="scale", currency="EUR")
release = catalog.do_save_release(None, actor=admin, product=product, version="1.0", ga_date=dt.date(2025, 1, 1))
catalog.do_save_scope_policy(None, actor=admin, product=product)
org = people.do_create_organization(name="Scale Corp", domains=["scale.test"], actor=admin)
for n in range({clients}):
    people.do_create_contact(organization=org, full_name=f"Client {{n}}", email=f"c{{n}}@scale.test",
                             portal_password="{password}", actor=admin)
# Every case consumes one incident, billed as overage: the billing runs bill each one once.
contracts.do_create_contract(organization=org, preset="payg", start_date=dt.date(2026, 1, 1),
                             covered_products=[product],
                             terms={{"unit": "incidents", "decrement_point": "case_creation",
                                     "overage_rate": "95"}}, actor=admin)
# Short targets, so that the SLA scans of the run have clocks to warn about and breach.
calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
for severity in range(1, 5):
    SlaTarget.objects.create(severity=severity, calendar=calendar, first_response_minutes=1,
                             resolution_minutes=600, warning_percent=50)
print(product.pk, release.pk)
"""

QUEUE_SCANS = """
from retainer.periodic import scan_sla_clocks_task
for _ in range({scans}):
    scan_sla_clocks_task()
"""

STATE = """
import json
from django.db.models import Count, Exists, OuterRef
from huey.contrib.djhuey import HUEY
from retainer.billing.models import BilledItem, BillingEvent, BillingRun
from retainer.cases.models import Case, CaseEvent, SlaClock
from retainer.contracts.models import LedgerEntry
from retainer.lib.models import OutboxDelivery, OutboxMessage

def doubles(qs, *fields):
    return sum(row["n"] - 1 for row in qs.values(*fields).annotate(n=Count("pk")).filter(n__gt=1))

consumed = LedgerEntry.objects.filter(kind="consume")
print(json.dumps({{
    "cases": list(Case.objects.values_list("public_id", flat=True)),
    "consumed": consumed.count(),
    "consumed_cases": consumed.values("case_id").distinct().count(),
    "billed_twice": doubles(BilledItem.objects.filter(released_at__isnull=True), "ledger_entry"),
    "unbilled": consumed.exclude(Exists(BilledItem.objects.filter(
        ledger_entry=OuterRef("pk"), released_at__isnull=True))).count(),
    "warned_twice": doubles(CaseEvent.objects.filter(type="sla_warning"), "case", "data__clock"),
    "breached_twice": doubles(CaseEvent.objects.filter(type="sla_breached"), "case", "data__clock"),
    "warned": SlaClock.objects.filter(warned_at__isnull=False).count(),
    "breached": SlaClock.objects.filter(breached_at__isnull=False).count(),
    "runs_finished_twice": doubles(BillingEvent.objects.filter(type="run_finished"), "run"),
    "runs_unfinished": BillingRun.objects.exclude(status="succeeded").count(),
    "queued": HUEY.pending_count(),
    "undispatched": OutboxMessage.objects.filter(dispatched_at__isnull=True).count(),
    "undelivered": OutboxDelivery.objects.exclude(status="delivered").count(),
}}))
"""


@dataclass
class Result:
    """What one run counted (see the module docstring)."""

    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    doubled: int = 0
    jobs_doubled: int = 0
    stuck: int = 0
    retried: int = 0
    failovers: int = 0
    served_by_both: int = 0
    clients: int = 0
    warned: int = 0
    breached: int = 0
    errors: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        counts = (self.lost, self.doubled, self.jobs_doubled, self.stuck)
        return not any(counts) and not self.errors

    def line(self) -> str:
        return (
            f"scale_out servers=2 workers=2 cases={self.stored} lost={self.lost} "
            f"doubled={self.doubled} jobs_doubled={self.jobs_doubled} stuck={self.stuck}"
        )


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway Redis for the queue: no persistence, loopback only."""
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return redis, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    redis.kill()
    raise RuntimeError("redis-server did not start")


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its children, as a dying machine would stop them."""
    for member in reversed(process_tree(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def client(
    ports: list[int],
    n: int,
    product: int,
    release: int,
    seconds: float,
    ready: Any,
    out: Any,
) -> None:
    """Sign in on one server, then alternate between both with the same cookies; a
    request whose server fails is sent again, with its key, to the other one."""
    home = n % 2
    sessions = [Session(port, timeout=15) for port in ports]
    try:
        sessions[home].login(f"c{n}@scale.test", PASSWORD)
    except Exception as exc:
        ready.abort()
        out.put({"errors": [f"sign-in of client {n} failed: {exc!r}"]})
        return
    sessions[1 - home].cookies = sessions[home].cookies  # one session, two servers
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait(timeout=120)
    acknowledged: list[str] = []
    errors: list[str] = []
    served = [0, 0]
    retried = failovers = 0
    down: set[int] = set()
    deadline = time.monotonic() + seconds
    request = 0
    while time.monotonic() < deadline:
        key = str(uuid.uuid4())
        body = json.dumps(
            {"product": product, "release": release, "subject": f"Scale case {n}.{request}",
             "description": "load", "severity": 3}
        ).encode()  # fmt: skip
        server = (home + request) % 2
        if server in down:
            server = 1 - server
        for attempt in range(20):
            try:
                status, data = sessions[server].request(
                    "POST", "/api/v1/cases/", body,
                    {"Content-Type": "application/json", "Idempotency-Key": key},
                )  # fmt: skip
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, repr(exc).encode()
            if status == 201:
                acknowledged.append(json.loads(data)["id"])
                served[server] += 1
                break
            if status not in (0, 502, 503, 504):
                errors.append(f"{status}: {data[:200]!r}")
                break
            # The server died under the request: the outcome is unknown, so the same
            # key goes to the other server, which answers with the case if it was made.
            retried += 1
            if status == 0 and server not in down:
                down.add(server)
                failovers += 1
            server = 1 - server
            time.sleep(0.05 * attempt)
        else:
            errors.append(f"request {n}.{request} failed on both servers")
        request += 1
    out.put(
        {"acknowledged": acknowledged, "errors": errors, "served": served,
         "retried": retried, "failovers": failovers}
    )  # fmt: skip


def admin_session(port: int) -> Session:
    session = Session(port, timeout=30)
    session.login("admin@scale.test", PASSWORD)
    return session


def start_billing_run(session: Session, period: str) -> int:
    status, data = session.request(
        "POST", "/api/v1/billing/runs/", json.dumps({"period": period}).encode(),
        {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    if status not in (201, 202):
        raise RuntimeError(f"starting a billing run answered {status}: {data[:300]!r}")
    return int(json.loads(data)["id"])


def wait_until_settled(env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Poll until the queue is empty, every event is delivered and every billing run has
    finished, or ``timeout`` passes; returns the last state read."""
    deadline = time.monotonic() + timeout
    while True:
        state = json.loads(manage(env, "shell", "-v0", "-c", STATE.format()))
        settled = not (
            state["queued"]
            or state["undispatched"]
            or state["undelivered"]
            or state["runs_unfinished"]
        )
        if settled or time.monotonic() > deadline:
            return state
        time.sleep(1)


def run(
    *,
    seconds: float = 30,
    clients: int = 6,
    database_url: str | None = None,
    settle_seconds: float = 300,
    log: Any = print,
) -> Result:
    """One scale-out run; the caller prints or asserts the result."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    tmp = Path(tempfile.mkdtemp(prefix="retainer-scale-out-"))
    tmp.chmod(0o755)  # a throwaway cluster runs as the postgres user and must reach it
    target = Target("postgres", database_url, tmp, purpose="scaleout")
    redis, redis_url = start_redis(tmp)
    skip = {"DATABASE_URL", "REDIS_URL", "RETAINER_JOBS_IMMEDIATE", "RETAINER_TEST_DB"}
    base = {k: v for k, v in os.environ.items() if k not in skip}
    base.update({k: v for k, v in target.env.items() if v is not None})
    base.update(
        REDIS_URL=redis_url,
        RETAINER_MODE="demo",
        SECRET_KEY=SECRET_KEY,
        RETAINER_MEDIA_DIR=str(tmp / "media"),
        RETAINER_JOBS_WORKERS="2",
        RETAINER_LOG_LEVEL="WARNING",
    )

    def env_of(name: str) -> dict[str, str]:
        return {**base, "RETAINER_VAR_DIR": str(tmp / f"var-{name}")}

    result = Result(clients=clients)
    servers: list[subprocess.Popen[bytes]] = []
    workers: list[subprocess.Popen[bytes]] = []
    try:
        manage(env_of("setup"), "migrate", "-v0")
        product, release = manage(
            env_of("setup"), "shell", "-v0", "-c", SEED.format(clients=clients, password=PASSWORD)
        ).split()
        ports = [free_port(), free_port()]
        for name, extra in (("worker-1", ["-n"]), ("worker-2", ["-n"]), ("scheduler", [])):
            command = [PYTHON, "-m", "retainer", "worker", *extra]
            with open(tmp / f"{name}.log", "wb") as output:
                worker = subprocess.Popen(
                    command, cwd=ROOT, env=env_of(name), stdout=output, stderr=subprocess.STDOUT
                )
            workers.append(worker)
        servers = [start_server(env_of(f"web-{i}"), port, 2) for i, port in enumerate(ports)]
        log(f"servers on ports {ports}, consumers {[w.pid for w in workers]}, queue {redis_url}")

        queue: Any = multiprocessing.Queue()
        ready: Any = multiprocessing.Barrier(clients + 1)
        procs = [
            multiprocessing.Process(
                target=client,
                args=(ports, n, int(product), int(release), seconds, ready, queue),
            )
            for n in range(clients)
        ]
        for p in procs:
            p.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=120)
        period = time.strftime("%Y-%m", time.gmtime())
        time.sleep(seconds / 4)
        first_run = start_billing_run(admin_session(ports[0]), period)
        time.sleep(seconds / 4)
        kill_tree(servers[0].pid)
        workers[0].kill()
        log(
            f"killed server :{ports[0]} and worker {workers[0].pid} (SIGKILL), billing run {first_run}"
        )
        reports = [queue.get(timeout=seconds + 180) for _ in procs]
        for p in procs:
            p.join()
        for report in reports:
            result.errors.extend(report["errors"])
            if "acknowledged" not in report:
                continue
            result.retried += report["retried"]
            result.failovers += report["failovers"]
            result.served_by_both += all(report["served"])
        acknowledged = [case for report in reports for case in report.get("acknowledged", [])]

        second_run = start_billing_run(admin_session(ports[1]), period)
        # The first consumptions' clocks warn 30 s and breach 60 s after creation: queue
        # scans side by side once they have, on the workers that are left.
        time.sleep(max(0.0, 65 - seconds))
        manage(env_of("setup"), "shell", "-v0", "-c", QUEUE_SCANS.format(scans=6))
        log(f"billing run {second_run} started on :{ports[1]}; six SLA scans queued")
        state = wait_until_settled(env_of("setup"), settle_seconds)
    finally:
        for process in [*servers, *workers]:
            with contextlib.suppress(ProcessLookupError):
                kill_tree(process.pid)
            process.wait()
        for log_file in sorted(tmp.glob("*.log")):
            failures = [
                line
                for line in log_file.read_text(errors="replace").splitlines()
                if " ERROR " in line or "Traceback" in line
            ]
            result.details[f"{log_file.stem}_errors"] = failures[-10:]
        redis.kill()
        redis.wait()
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)

    stored = set(state["cases"])
    acked = set(acknowledged)
    result.acknowledged, result.stored = len(acked), len(stored)
    result.warned, result.breached = state["warned"], state["breached"]
    result.lost = len(acked - stored) + max(0, len(stored) - state["consumed_cases"])
    result.doubled = (
        len(stored - acked)
        + (len(acknowledged) - len(acked))
        + (state["consumed"] - state["consumed_cases"])
    )
    result.jobs_doubled = (
        state["billed_twice"]
        + state["warned_twice"]
        + state["breached_twice"]
        + state["runs_finished_twice"]
    )
    result.stuck = (
        state["queued"]
        + state["undispatched"]
        + state["undelivered"]
        + state["runs_unfinished"]
        + state["unbilled"]
    )
    result.details |= state | {"cases": len(stored)}
    if not result.served_by_both:
        result.errors.append("no client was served by both servers with one session")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30, help="length of the load")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    args = parser.parse_args()
    started = time.monotonic()
    result = run(seconds=args.seconds, clients=args.clients, database_url=args.database_url)
    for error in sorted(set(result.errors))[:5]:
        print("error:", error)
    print(
        f"acknowledged={result.acknowledged} retried_requests={result.retried} "
        f"failovers={result.failovers} clients_on_both_servers={result.served_by_both}/"
        f"{result.clients} clocks_warned={result.warned} clocks_breached={result.breached} "
        f"seconds={time.monotonic() - started:.0f}"
    )
    if not result.ok:
        for name, value in sorted(result.details.items()):
            print(f"detail {name}: {value}")
    print(result.line())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
