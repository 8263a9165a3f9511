"""The API's budgets and the password lock-out hold across the two gunicorn workers of one
server (``bench/limits.py`` starts ``retainer serve`` and spends them)."""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import run_bench


@pytest.mark.slow
@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="processes, not the database, are what differs: the SQLite pass runs it (the "
    "PostgreSQL pass proves the counter's upsert under concurrency in test_rate_limits.py)",
)
def test_the_limits_hold_across_two_gunicorn_workers() -> None:
    fields = run_bench("limits.py", "--budget", "30", "--extra", "12")
    assert fields["both_workers"] == "yes", fields
    # Exactly the budget got through, whichever worker counted; the rest got 429.
    assert (fields["api_admitted"], fields["api_refused"]) == ("30", "12"), fields
    assert fields["retry_after"] == "yes", fields
    # The 21st wrong password in a minute for one account is refused, and every one
    # after the lock too.
    assert fields["wrong_passwords"] == "21" and fields["locked_after"] == "yes", fields
    assert 0 < int(fields["first_locked"]) <= 6, fields
