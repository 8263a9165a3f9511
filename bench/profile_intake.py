"""Where the time of one case intake goes: the API create, in process, under cProfile.

    python bench/profile_intake.py                 # 300 cases on a fresh SQLite file
    python bench/profile_intake.py --cases 1000 --top 40

Seeds the same data as ``intake.py`` in a temporary database, signs one contact in with
Django's test client, then opens cases through ``POST /api/v1/cases/`` (or the portal's
form with ``--form``; with the request
and response cycle, the middleware, the decision, the ledger, the SLA clocks, the events
and their outbox rows). Prints the CPU time and SQL statements per case beside the same
figures for the hello view, then the functions with the most cumulative time. Prints,
last: ``profile cases=… cpu_ms_per_case=… hello_cpu_ms=… ratio=… statements_per_case=…
bytes_per_case=…`` (what this process wrote to storage per case).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from intake import PASSWORD, SEED
from web import PYTHON, ROOT, written_bytes


def setup(tmp: Path) -> tuple[int, int]:
    bench = str(Path(__file__).resolve().parent)
    os.environ.update(
        RETAINER_VAR_DIR=str(tmp / "var"),
        RETAINER_MODE="demo",
        DJANGO_SETTINGS_MODULE="hello_settings",
        BENCH_HELLO_ONLY="0",
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path[:0] = [str(ROOT), bench]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), bench])}
    run = [PYTHON, "manage.py"]
    subprocess.run([*run, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seed = SEED.format(clients=1, password=PASSWORD)
    out = subprocess.run([*run, "shell", "-v0", "-c", seed], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    product, release = out.split()
    return int(product), int(release)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--form", action="store_true", help="the portal's form, not the API")
    parser.add_argument("--statements", action="store_true", help="print one create's SQL")
    parser.add_argument("--save", metavar="FILE", help="also write the profile (pstats format)")
    args = parser.parse_args()
    product, release = setup(Path(tempfile.mkdtemp(prefix="retainer-profile-")))

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client()
    if not client.login(username="c0@bench.test", password=PASSWORD):
        raise RuntimeError("sign-in failed")

    def create(n: int) -> None:
        body = {"product": product, "release": release, "subject": f"Profiled case {n}",
                "description": "load", "severity": 3}  # fmt: skip
        if args.form:
            response = client.post("/portal/cases/new/", body)
            if response.status_code == 302:
                return
        else:
            response = client.post("/api/v1/cases/", body, content_type="application/json",
                                   headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")

    for n in range(20):  # warm caches and imports
        create(n)
        client.get("/bench/hello")
    started = time.process_time()
    for _ in range(args.cases):
        client.get("/bench/hello")
    hello_ms = (time.process_time() - started) * 1000 / args.cases
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        create(-1)
    if args.statements:
        print("\n".join(f"{n:2} {sql[:300]}" for n, sql in enumerate(statements, 1)))
    profile = cProfile.Profile()
    started = time.process_time()
    profile.enable()
    for n in range(args.cases):
        create(n)
    profile.disable()
    case_ms = (time.process_time() - started) * 1000 / args.cases
    if args.save:
        profile.dump_stats(args.save)
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text).strip_dirs().sort_stats("cumulative")
    stats.print_stats(args.top)
    print(text.getvalue())
    print("(times under the profiler; the figures below are measured without it)")
    written = written_bytes([os.getpid()])
    started = time.process_time()
    for n in range(args.cases):
        create(n)
    case_ms = (time.process_time() - started) * 1000 / args.cases
    per_case = (written_bytes([os.getpid()]) - written) // args.cases
    print(
        f"profile cases={args.cases} cpu_ms_per_case={case_ms:.1f} hello_cpu_ms={hello_ms:.2f} "
        f"ratio={case_ms / hello_ms:.0f} statements_per_case={len(statements)} "
        f"bytes_per_case={per_case}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
