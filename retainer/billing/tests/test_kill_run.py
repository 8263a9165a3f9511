"""A real ``manage.py run_billing`` killed with SIGKILL mid-run, then run again:
no item billed twice, none lost, and the invoice numbers have no gap."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

ORGANIZATIONS = 24

SEED = textwrap.dedent(
    """
    import datetime as dt
    from decimal import Decimal
    import django
    django.setup()
    from retainer.accounts import actions as accounts
    from retainer.catalog import actions as catalog
    from retainer.contracts import actions as contracts

    start = dt.date.fromisoformat("{start}")
    product = catalog.do_save_product(
        None, actor=None, name="Ledgerline", code="ledgerline", currency="EUR"
    )
    for n in range({count}):
        org = accounts.do_create_organization(
            name=f"Customer {{n}}", domains=[f"c{{n}}.test"], time_zone="Europe/Berlin",
            currency="EUR", actor=None,
        )
        contract = contracts.do_create_contract(
            organization=org, preset="fixed_fee", start_date=start, covered_products=[product],
            terms={{"price_amount": "1000", "quantity": 60, "overage_rate": "150"}}, actor=None,
        )
        contracts.do_consume(
            contract, quantity=90, key=f"seed:{{n}}", source_type="admin", actor=None
        )
    print("seeded")
    """
)


def manage(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def finish(process: subprocess.Popen, timeout: int = 180) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def seeded(tmp_path: Path) -> tuple[dict[str, str], str]:
    """Migrate a fresh SQLite file under ``tmp_path`` and seed it; return (env, period)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "PYTEST", "RETAINER_BILLING"))
    }
    env.update(
        RETAINER_VAR_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="retainer.settings",
        RETAINER_LOG_LEVEL="WARNING",
    )
    today = timezone.localdate()
    period = f"{today:%Y-%m}"
    finish(manage("migrate", "--no-input", env=env))
    seed = subprocess.run(
        [sys.executable, "-c", SEED.format(start=today.replace(day=1), count=ORGANIZATIONS)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seed.returncode == 0, seed.stderr[-3000:]
    return env, period


def check_billed_once(db: sqlite3.Connection) -> None:
    keys = [row[0] for row in db.execute("select source_key from billing_billeditem")]
    assert len(keys) == len(set(keys)) == 2 * ORGANIZATIONS
    fee_lines = db.execute(
        "select count(*), count(distinct contract_id) from billing_invoiceline where kind='fee'"
    ).fetchone()
    assert fee_lines == (ORGANIZATIONS, ORGANIZATIONS)
    overage = db.execute(
        "select sum(minutes) from billing_invoiceline where kind='overage'"
    ).fetchone()[0]
    assert overage == 30 * ORGANIZATIONS
    numbers = sorted(
        int(row[0].rsplit("-", 1)[1])
        for row in db.execute("select number from billing_invoice where status='issued'")
    )
    assert numbers == list(range(1, ORGANIZATIONS + 1))
    counter = db.execute("select last_number from billing_numberseries").fetchone()[0]
    assert counter == ORGANIZATIONS


@pytest.mark.slow
def test_a_killed_run_then_a_new_run_bill_each_item_once_without_number_gaps(tmp_path: Path):
    env, period = seeded(tmp_path)
    slow = {**env, "RETAINER_BILLING_TEST_SLOWDOWN_MS": "60"}
    first = manage("run_billing", "--period", period, "--batch-size", "2", env=slow)
    assert first.stdout is not None
    progress = []
    for line in first.stdout:
        progress.append(line)
        if "items" in line and not line.split()[3].startswith("0/") and len(progress) >= 4:
            break
    time.sleep(0.1)  # inside the next batch's transaction
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    db = sqlite3.connect(tmp_path / "retainer.sqlite3")
    (status, done, total) = db.execute(
        "select status, items_done, items_total from billing_billingrun"
    ).fetchone()
    assert status == "running"
    assert 0 < done < total == 2 * ORGANIZATIONS
    killed_invoices = db.execute("select count(*) from billing_invoice").fetchone()[0]
    assert 0 < killed_invoices < ORGANIZATIONS

    out = finish(manage("run_billing", "--period", period, env=env))
    assert "succeeded" in out
    assert "[####" in out

    check_billed_once(db)


@pytest.mark.slow
def test_two_runs_at_once_bill_each_item_once(tmp_path: Path):
    env, period = seeded(tmp_path)
    slow = {**env, "RETAINER_BILLING_TEST_SLOWDOWN_MS": "5"}
    runs = [
        manage("run_billing", "--period", period, "--batch-size", "3", env=slow) for _ in range(2)
    ]
    outputs = [finish(process) for process in runs]

    assert all("succeeded" in out for out in outputs)
    check_billed_once(sqlite3.connect(tmp_path / "retainer.sqlite3"))
