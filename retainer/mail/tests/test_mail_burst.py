"""``bench/mail_burst.py`` in a small size: messages in a real Dovecot mailbox, the polling
worker killed with SIGKILL during the run, nothing lost and nothing processed twice."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import run_bench


@pytest.mark.slow
def test_a_burst_polled_by_a_killed_worker_loses_and_doubles_nothing() -> None:
    if not (shutil.which("dovecot") or shutil.which("/usr/sbin/dovecot")):
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is not installed; CI must run the mail burst.")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    fields = run_bench("mail_burst.py", "--messages", "200", "--kills", "2")
    assert fields["received"] == "200"
    assert fields["cases+replies"] == "200"
    assert (fields["lost"], fields["duplicated"]) == ("0", "0")
    assert int(fields["kills"]) >= 1
