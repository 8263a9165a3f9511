"""Real processes on one contract, on the database the suite runs on.

The benchmark's own code runs here in a small size; it creates a separate database
(a temporary SQLite file, or a new PostgreSQL database on the suite's server) so the
worker processes never touch the test database.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def _target() -> list[str]:
    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return ["--db", "sqlite"]
    user = quote(database.get("USER") or "")
    password = database.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    server = f"postgres://{auth}{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}/postgres"
    return ["--db", "postgres", "--database-url", server]


def _run(*extra: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ledger_contention.py"), *_target(), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("ledger_contention "), result.stdout + result.stderr
    fields = dict(part.split("=", 1) for part in lines[-1].split()[1:])
    assert result.returncode == 0, result.stdout + result.stderr
    return fields


@pytest.mark.slow
def test_concurrent_workers_neither_lose_nor_double_a_movement() -> None:
    fields = _run("--workers", "4", "--ops", "100")
    assert (fields["lost"], fields["doubled"]) == ("0", "0")


@pytest.mark.slow
def test_killed_workers_lose_no_acknowledged_movement_and_replays_double_none() -> None:
    fields = _run("--workers", "4", "--ops", "400", "--kill")
    assert int(fields["killed"]) >= 1
    assert (fields["lost"], fields["doubled"]) == ("0", "0")
