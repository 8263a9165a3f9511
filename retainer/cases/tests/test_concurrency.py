"""Intake over HTTP with real processes: a gunicorn server and concurrent clients, on the
database the suite runs on (a database of the benchmark's own, never the test one)."""

from __future__ import annotations

import pytest

from conftest import run_bench


@pytest.mark.slow
def test_concurrent_intake_stores_and_consumes_every_acknowledged_case_once() -> None:
    fields = run_bench("intake.py", "--clients", "4", "--seconds", "3")
    assert fields["errors"] == "0"
    assert int(fields["cases_per_s"]) > 0


@pytest.mark.slow
def test_clients_racing_with_the_same_keys_get_one_case_per_key() -> None:
    fields = run_bench("intake.py", "--clients", "4", "--seconds", "3", "--same-keys")
    assert fields["errors"] == "0"
