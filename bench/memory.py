"""Memory of the web server on the demo: proportional set size (PSS) of gunicorn's master
and its workers after a warm-up, beside the same figure for a server that answers only a
trivial JSON view, measured in the same run.

    python bench/memory.py              # 2 workers, the demo at scale 1
    python bench/memory.py --workers 4

PSS counts each process's private memory plus its share of the pages it shares, so the
sum over the master and its workers is what the server costs the machine. Budget
(performance issue): at most 120 MiB for the master and 2 workers. Prints, last:
    memory workers=… pss_mib=… master_mib=… worker_mib=… hello_pss_mib=… budget_mib=120 …
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from targets import free_port
from web import PYTHON, ROOT, Session, hello_env, process_tree, pss_kib, start_server

BUDGET_MIB = 120
DEMO_PASSWORD = "retainer-demo"  # noqa: S105 - the demo's published password
STAFF = "manager@northwind.example"
CUSTOMER = "ada@acme.example"
STAFF_PAGES = ["/console/cases/", "/console/contracts/", "/api/v1/cases/", "/api/v1/contracts/"]
CUSTOMER_PAGES = ["/portal/cases/", "/portal/support/", "/api/v1/cases/", "/scope-of-support/"]


def warm_up(port: int, rounds: int) -> None:
    """Every kind of page a day of work touches, often enough to reach every worker."""
    staff, customer = Session(port), Session(port)
    staff.login(STAFF, DEMO_PASSWORD)
    customer.login(CUSTOMER, DEMO_PASSWORD)
    staff_pages = [
        *STAFF_PAGES,
        *staff.links("/console/cases/?view=all", r"/console/cases/[A-Z]+-\d+/")[:3],
        *staff.links("/console/contracts/", r"/console/contracts/\d+/")[:3],
    ]
    customer_pages = [
        *CUSTOMER_PAGES,
        *customer.links("/portal/cases/", r"/portal/cases/[A-Z]+-\d+/")[:3],
    ]
    for _ in range(rounds):
        for session, pages in ((staff, staff_pages), (customer, customer_pages)):
            for page in pages:
                status, _ = session.request("GET", page)
                if status != 200:
                    raise RuntimeError(f"warm-up: {page} answered {status}")
        # A new connection each round, so that gunicorn's workers all take requests.
        for session in (staff, customer):
            session.conn.close()


def warm_up_hello(port: int, rounds: int) -> None:
    session = Session(port)
    for _ in range(rounds * 8):
        status, _ = session.request("GET", "/bench/hello")
        if status != 200:
            raise RuntimeError(f"/bench/hello answered {status}")
        session.conn.close()


def measure(
    env: dict[str, str], workers: int, rounds: int, hello: bool
) -> tuple[int, int, list[int]]:
    """PSS in KiB: (total, master, each worker) after the warm-up."""
    port = free_port()
    server = start_server(env, port, workers)
    try:
        (warm_up_hello if hello else warm_up)(port, rounds)
        time.sleep(1)
        pids = process_tree(server.pid)
        sizes = [pss_kib(pid) for pid in pids]
    finally:
        server.terminate()
        server.wait()
    return sum(sizes), sizes[0], sizes[1:]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10, help="warm-up passes over the pages")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="retainer-memory-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RETAINER_VAR_DIR=str(tmp / "var"), RETAINER_MODE="demo")
    started = time.monotonic()
    subprocess.run([PYTHON, "-m", "retainer", "demo"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    print(f"demo built in {time.monotonic() - started:.0f} s")
    total, master, each = measure(env, args.workers, args.rounds, hello=False)
    hello, hello_master, hello_each = measure(
        hello_env(env, only=True), args.workers, args.rounds, hello=True
    )
    mib = 1024
    for label, (t, m, w) in (
        ("product", (total, master, each)),
        ("hello", (hello, hello_master, hello_each)),
    ):
        workers = " ".join(f"{x / mib:.1f}" for x in w)
        print(f"{label}: pss_mib={t / mib:.1f} master_mib={m / mib:.1f} workers_mib={workers}")
    verdict = "ok" if total / mib <= BUDGET_MIB else "OVER"
    print(
        f"memory workers={args.workers} pss_mib={total / mib:.0f} master_mib={master / mib:.0f} "
        f"worker_mib={max(each) / mib:.0f} hello_pss_mib={hello / mib:.0f} "
        f"ratio_to_hello={total / hello:.2f} budget_mib={BUDGET_MIB} {verdict}"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
