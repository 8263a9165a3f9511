"""Intake over HTTP with real processes: a gunicorn server and concurrent clients, on the
database the suite runs on (a database of the benchmark's own, never the test one)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import connection

from conftest import ROOT, run_bench


@pytest.mark.slow
def test_concurrent_intake_stores_and_consumes_every_acknowledged_case_once() -> None:
    fields = run_bench("intake.py", "--clients", "4", "--seconds", "3", "--hello-seconds", "1")
    assert fields["errors"] == "0"
    assert int(fields["cases_per_s"]) > 0


@pytest.mark.slow
def test_clients_racing_with_the_same_keys_get_one_case_per_key() -> None:
    fields = run_bench(
        "intake.py", "--clients", "4", "--seconds", "3", "--hello-seconds", "1", "--same-keys"
    )
    assert fields["errors"] == "0"


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="restarts a PostgreSQL cluster")
def test_intake_recovers_from_a_postgresql_restart_without_losing_an_acknowledged_case() -> None:
    # A cluster of its own, which the benchmark restarts halfway through the run.
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "intake.py"), "--db", "postgres",
         "--clients", "4", "--seconds", "6", "--hello-seconds", "1", "--restart-postgres"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "restarted postgres" in result.stdout
    assert " ok" in result.stdout  # stored == acknowledged == consumed, balance == ledger
    assert result.stdout.strip().splitlines()[-1].split()[-3] == "errors=0"
