"""Scale-out on PostgreSQL and Redis, end to end: two app servers, two workers and one
scheduler as separate processes, one server and one worker killed with SIGKILL halfway
(``bench/scale_out.py`` does the work; docs/deploy.md describes the setup it checks)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import connection

from conftest import ROOT, postgres_server_url, require_program


@pytest.mark.slow
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="scale-out runs on PostgreSQL; its pass runs it"
)
def test_two_servers_and_two_workers_lose_and_double_nothing_when_one_of_each_is_killed() -> None:
    require_program("redis-server", "redis-server", "test the scale-out setup")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale_out.py"), "--seconds", "10",
         "--clients", "3", "--database-url", postgres_server_url()],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    fields = dict(part.split("=", 1) for part in last.split()[1:] if "=" in part)
    assert last.startswith("scale_out servers=2 workers=2"), output
    assert int(fields["cases"]) > 0, output
    assert (fields["lost"], fields["doubled"]) == ("0", "0"), output
    assert (fields["jobs_doubled"], fields["stuck"]) == ("0", "0"), output
    assert result.returncode == 0, output
    # The kill happened under load: some request met the dead server and went to the other.
    assert "failovers=0" not in output, output
