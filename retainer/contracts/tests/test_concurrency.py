"""Real processes on one contract, on the database the suite runs on.

The benchmark's own code runs here in a small size; it creates a separate database
(a temporary SQLite file, or a new PostgreSQL database on the suite's server) so the
worker processes never touch the test database.
"""

from __future__ import annotations

import pytest

from conftest import run_bench


def _run(*extra: str) -> dict[str, str]:
    return run_bench("ledger_contention.py", *extra)


@pytest.mark.slow
def test_concurrent_workers_neither_lose_nor_double_a_movement() -> None:
    fields = _run("--workers", "4", "--ops", "100")
    assert (fields["lost"], fields["doubled"]) == ("0", "0")


@pytest.mark.slow
def test_killed_workers_lose_no_acknowledged_movement_and_replays_double_none() -> None:
    fields = _run("--workers", "4", "--ops", "400", "--kill")
    assert int(fields["killed"]) >= 1
    assert (fields["lost"], fields["doubled"]) == ("0", "0")
