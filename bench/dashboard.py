"""The dashboards and the metrics API on a large demo database.

    python bench/dashboard.py --scale 250             # 10,000 organizations, about 100,000 cases
    python bench/dashboard.py --scale 2500 --var-dir /tmp/retainer-1m --requests 20
    DATABASE_URL=postgres://… python bench/dashboard.py --scale 250 --db postgres

Builds the demo at ``--scale`` (bulk inserts: ``build_demo``) unless the database is
already there (SQLite: ``--var-dir``; PostgreSQL: the database of ``DATABASE_URL``), times
``rebuild_metrics`` (the support roll-ups from scratch, then the nightly ``--since`` form),
then requests each dashboard page and metrics API endpoint as a manager, in process
(Django's test client), ``--requests`` times each after one warm-up, and prints per URL
p50/p95 and the queries of one request. Last line:
    dashboard db=… scale=… pages=… worst_p50_ms=… worst_p95_ms=… max_queries=… refresh_s=…
Budget (metrics issue): p50 <= 150 ms, p95 <= 400 ms, <= 20 queries per page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_P50_MS, BUDGET_P95_MS, BUDGET_QUERIES = 150, 400, 20


def urls(product: int, team: int, organization: int) -> list[str]:
    support = [
        "/console/metrics/support/",
        "/console/metrics/support/?period=2026-Q3",
        f"/console/metrics/support/?product={product}",
        f"/console/metrics/support/?team={team}",
        "/console/metrics/support/?tier=gold",
        f"/console/metrics/support/?organization={organization}",  # direct (not rolled up)
    ]
    return [
        "/console/metrics/",
        f"/console/metrics/?product={product}&tier=silver",
        *support,
        "/console/metrics/revenue/",
        "/console/metrics/agent/",
        "/api/v1/metrics/support/",
        f"/api/v1/metrics/support/?product={product}&team={team}",
        "/api/v1/metrics/revenue/",
        f"/api/v1/metrics/organizations/{organization}/health/",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=250)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--var-dir", default=None)
    parser.add_argument("--requests", type=int, default=20, help="requests per URL")
    args = parser.parse_args()
    var_dir = Path(args.var_dir or Path(tempfile.gettempdir()) / f"retainer-dash-{args.scale}")
    os.environ["RETAINER_VAR_DIR"] = str(var_dir)
    if args.db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    elif not os.environ.get("DATABASE_URL"):
        parser.error("--db postgres needs DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retainer.settings")
    python = [sys.executable, str(ROOT / "manage.py")]
    var_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run([*python, "migrate", "-v0"], check=True, cwd=ROOT)
    started = time.monotonic()
    built = subprocess.run(  # skipped when the demo is already there
        [*python, "build_demo", "--scale", str(args.scale), "--quiet"], check=True, cwd=ROOT
    )
    print(f"demo ready in {time.monotonic() - started:.0f} s ({built.returncode})")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from retainer.accounts.models import Organization, User
    from retainer.cases.models import Case
    from retainer.metrics import rollups

    result = rollups.rebuild()
    refresh_s = result.seconds
    print(f"rebuild_metrics: cases={result.cases} rows={result.rows} seconds={refresh_s:.1f}")
    nightly = rollups.rebuild(since=timezone.now() - dt.timedelta(days=1))
    print(f"rebuild_metrics --since yesterday: cases={nightly.cases} seconds={nightly.seconds:.1f}")

    busiest = (
        Case.objects.filter(queue__isnull=False).values_list("product_id", "queue_id").first()
    ) or (0, 0)
    organization = Organization.objects.filter(cases__isnull=False).order_by("pk").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email__startswith="manager@"))
    worst_p50 = worst_p95 = 0.0
    max_queries = 0
    pages = urls(busiest[0], busiest[1] or 0, organization.pk if organization else 0)
    for url in pages:
        response = client.get(url)  # warm caches
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(args.requests):
            with CaptureQueriesContext(connection) as queries:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
        count = len(queries.captured_queries)
        max_queries = max(max_queries, count)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        worst_p50, worst_p95 = max(worst_p50, p50), max(worst_p95, p95)
        print(f"  {url:<62} p50_ms={p50:6.0f} p95_ms={p95:6.0f} queries={count}")
    ok = worst_p50 <= BUDGET_P50_MS and worst_p95 <= BUDGET_P95_MS and max_queries <= BUDGET_QUERIES
    print(
        f"dashboard db={connection.vendor} scale={args.scale} cases={Case.objects.count()} "
        f"pages={len(pages)} worst_p50_ms={worst_p50:.0f} worst_p95_ms={worst_p95:.0f} "
        f"max_queries={max_queries} refresh_s={refresh_s:.1f}" + ("" if ok else " OVER BUDGET")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
