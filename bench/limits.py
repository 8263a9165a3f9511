"""The request limits hold across the processes of one server: ``retainer serve`` with two
gunicorn workers, the API's read budget spent by concurrent connections, and wrong
passwords for one account sent one after another, whichever worker takes each.

    python bench/limits.py [--db postgres --database-url URL]

Prints what each worker did (CPU time while the requests ran: both must have worked)
and a last line
``limits workers=2 api_budget=… api_admitted=… api_refused=… retry_after=… wrong_passwords=…
first_locked=… locked_after=… both_workers=yes|no``. It exits 1 unless exactly the budget
got through, every refusal was a 429 with ``Retry-After``, every wrong password from the
first refused one on was refused, and both workers answered requests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from targets import Target, free_port
from web import PYTHON, ROOT, Session, process_tree, start_server

PASSWORD = "limits-bench-password"  # noqa: S105 - a throwaway account of the run
SEED = """
from retainer.accounts import actions as people
from retainer.accounts.choices import Role
people.do_create_staff_user(email="admin@limits.test", full_name="Admin", roles=[Role.ADMIN],
                            password="{password}", actor=None)
people.do_create_staff_user(email="target@limits.test", full_name="Target", roles=[Role.AGENT],
                            password="{password}", actor=None)
"""


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of a process so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_for_a_fresh_minute(needed: float) -> None:
    """The budgets are per calendar minute: start where ``needed`` seconds fit in one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.5)


def spend_reads(port: int, cookies: dict[str, str], requests: int) -> list[tuple[int, str]]:
    """``requests`` reads of the API on new connections, as the signed-in admin."""
    answers = []
    for _ in range(requests):
        session = Session(port)
        session.cookies = dict(cookies)
        session.conn.request(
            "GET",
            "/api/v1/organizations/",
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        )
        response = session.conn.getresponse()
        response.read()
        answers.append((response.status, response.headers.get("Retry-After") or ""))
        session.conn.close()
    return answers


def wrong_password(port: int) -> int:
    """One sign-in with a wrong password for the target account, on a new connection."""
    session = Session(port)
    session.request("GET", "/login/")
    form = (
        f"username={quote('target@limits.test')}&password=wrong"
        f"&csrfmiddlewaretoken={session.cookies['csrftoken']}"
    )
    status, _ = session.request(
        "POST", "/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    session.conn.close()
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    parser.add_argument("--budget", type=int, default=40, help="API reads a minute")
    parser.add_argument("--extra", type=int, default=20, help="reads beyond the budget")
    parser.add_argument("--connections", type=int, default=6, help="concurrent connections")
    parser.add_argument("--wrong-passwords", type=int, default=21)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="retainer-limits-"))
    tmp.chmod(0o755)  # a throwaway cluster runs as the postgres user and must reach it
    target = Target(args.db, args.database_url, tmp, purpose="limits")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RETAINER_TEST_DB")}
    env.update({k: v for k, v in target.env.items() if v is not None})
    env.update(RETAINER_MODE="demo", RETAINER_LOG_LEVEL="WARNING")
    server = None
    try:
        manage(env, "migrate", "-v0")
        manage(env, "shell", "-v0", "-c", SEED.format(password=PASSWORD))
        port = free_port()
        server = start_server(
            {**env, "RETAINER_API_READS_PER_MINUTE": str(args.budget)}, port, workers=2
        )
        workers = process_tree(server.pid)[1:]
        for _ in range(300):  # the port answers before the master has forked every worker
            if len(workers) == 2:
                break
            time.sleep(0.1)
            workers = process_tree(server.pid)[1:]
        admin = Session(port)
        admin.login("admin@limits.test", PASSWORD)
        before = {pid: cpu_ticks(pid) for pid in workers}

        # The read budget: every request on a connection of its own, several at once.
        total = args.budget + args.extra
        share = [total // args.connections + (n < total % args.connections)
                 for n in range(args.connections)]  # fmt: skip
        wait_for_a_fresh_minute(needed=20)
        with ThreadPoolExecutor(args.connections) as pool:
            answers = [
                a
                for part in pool.map(lambda n: spend_reads(port, admin.cookies, n), share)
                for a in part
            ]
        admitted = sum(status == 200 for status, _ in answers)
        refused = [retry for status, retry in answers if status == 429]
        others = sorted({status for status, _ in answers} - {200, 429})

        # Wrong passwords for one account, one after another.
        statuses = [wrong_password(port) for _ in range(args.wrong_passwords)]
        locked = [n for n, status in enumerate(statuses, 1) if status == 429]
        first_locked = locked[0] if locked else 0
        locked_after = bool(locked) and all(s == 429 for s in statuses[first_locked - 1 :])

        worked = {pid: cpu_ticks(pid) - ticks for pid, ticks in before.items()}
        for pid, ticks in worked.items():
            print(f"worker {pid}: {ticks} CPU ticks while the requests ran")
        both = len(worked) == 2 and all(ticks >= 2 for ticks in worked.values())
        print(f"api answers: {admitted} admitted, {len(refused)} refused, others {others}")
        print(f"sign-in answers: {statuses}")
        print(
            f"limits workers={len(workers)} api_budget={args.budget} api_admitted={admitted} "
            f"api_refused={len(refused)} retry_after={'yes' if all(refused) else 'no'} "
            f"wrong_passwords={args.wrong_passwords} first_locked={first_locked} "
            f"locked_after={'yes' if locked_after else 'no'} both_workers={'yes' if both else 'no'}"
        )
        ok = (
            admitted == args.budget
            and len(refused) == args.extra
            and all(refused)
            and not others
            and 0 < first_locked <= args.wrong_passwords
            and locked_after
            and both
        )
        return 0 if ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
