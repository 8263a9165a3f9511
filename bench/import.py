"""How fast a django-helpdesk database is imported.

    python bench/import.py [--tickets 10000] [--db sqlite|postgres] [--database-url URL]

Builds a django-helpdesk database with django-helpdesk's own migrations and models (in a
process of its own: ``retainer/imports/tests/helpdesk_site.py``; mostly closed tickets,
one in five open or reopened, two or three follow-ups each, a screenshot on every tenth
answer), migrates a new Retainer database, then times ``manage.py import_helpdesk`` and a
second run that must create nothing.

Budget (automation issue): at least 500 tickets a second on SQLite. Machines differ from
run to run, so the raw reference is printed beside it: the same number of rows inserted
into the same kind of database with one ``executemany`` per table (cases and messages),
measured in the same run. Last line:
    import db=… tickets=… seconds=… rows_per_s=… raw_rows_per_s=… second_run_s=… created=…
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from targets import Target
from web import PYTHON, ROOT

sys.path.insert(0, str(ROOT))
from retainer.imports.tests import helpdesk_site

BUDGET_TICKETS_PER_S = 500


def raw_rows_per_s(path: Path, rows: int) -> float:
    """The floor: plain inserts of ``rows`` case-like and message-like rows, committed."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, subject TEXT, body TEXT, at TEXT)")
    db.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, c INTEGER, body TEXT, at TEXT)")
    started = time.perf_counter()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO c (subject, body, at) VALUES (?, ?, ?)",
        ((f"Ticket {n}", "x" * 60, "2026-01-01") for n in range(rows)),
    )
    db.executemany(
        "INSERT INTO m (c, body, at) VALUES (?, ?, ?)",
        ((n // 2, "y" * 40, "2026-01-01") for n in range(rows * 2)),
    )
    db.execute("COMMIT")
    return rows / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="retainer-import-"))
    tmp.chmod(0o755)
    started = time.monotonic()
    source, media, made = helpdesk_site.make(tmp, args.tickets, python=PYTHON)
    print(f"helpdesk database built in {time.monotonic() - started:.0f} s: {made}")
    target = Target(args.db, args.database_url, tmp, purpose="import")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({k: v for k, v in target.env.items() if v is not None})
    env.update(RETAINER_MODE="demo", RETAINER_LOG_LEVEL="WARNING")

    def manage(*command: str) -> tuple[float, str]:
        began = time.perf_counter()
        done = subprocess.run(
            [PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return time.perf_counter() - began, done.stdout

    try:
        manage("migrate", "-v0")
        _, output = manage("import_helpdesk", str(source), "--media", str(media))
        summary = next(line for line in output.splitlines() if line.startswith("succeeded"))
        print(summary)
        _, output = manage("import_helpdesk", str(source), "--media", str(media))
        second = next(line for line in output.splitlines() if line.startswith("succeeded"))
        again = float(second.rsplit(" in ", 1)[1].split()[0])
    finally:
        target.close()
    raw = raw_rows_per_s(tmp / "raw.sqlite3", args.tickets)
    # The command's own figure ("… in 20.8 s"): the import, not the interpreter starting.
    seconds = float(summary.rsplit(" in ", 1)[1].split()[0])
    rate = args.tickets / seconds
    created_nothing = "created nothing" in second
    verdict = "met" if rate >= BUDGET_TICKETS_PER_S and created_nothing else "MISSED"
    print(
        f"budget tickets_per_s>={BUDGET_TICKETS_PER_S} and a second run creates nothing: "
        f"{verdict} (second run: {second})"
    )
    print(
        f"import db={args.db} tickets={args.tickets} seconds={seconds:.1f} "
        f"rows_per_s={rate:.0f} raw_rows_per_s={raw:.0f} second_run_s={again:.1f} "
        f"created={'nothing' if created_nothing else 'SOMETHING'}"
    )
    return 0 if created_nothing else 1


if __name__ == "__main__":
    sys.exit(main())
