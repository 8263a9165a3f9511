"""A real ``manage.py run_billing`` killed with SIGKILL mid-run, then run again:
no item billed twice, none lost, and the invoice numbers have no gap.

Real timing, no hook in the product: there are enough organizations, one transaction
each (``--batch-size 1``), that the run takes far longer than the test's polling
interval. The test reads the run's committed progress from the database file and kills
the process once a measured number of items is billed.
"""

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

from retainer.billing.choices import InvoiceStatus, ItemKind, RunStatus

ORGANIZATIONS = 100
ITEMS = 2 * ORGANIZATIONS  # a fee and an overage entry each
KILL_AT = 20  # items billed (ten batches) before the kill
POLL_SECONDS = 0.005

SEED = textwrap.dedent(
    """
    import datetime as dt
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


def environment(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "PYTEST", "RETAINER_JOBS"))
    }
    env.update(
        RETAINER_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="retainer.settings",
        RETAINER_LOG_LEVEL="WARNING",
    )
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: int = 180) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate and seed one SQLite file for the module (the slow part), once."""
    var_dir = tmp_path_factory.mktemp("billing-seed")
    env = environment(var_dir)
    finish(manage("migrate", "--no-input", env=env))
    start = timezone.localdate().replace(day=1)
    seed = subprocess.run(
        [sys.executable, "-c", SEED.format(start=start, count=ORGANIZATIONS)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert seed.returncode == 0, seed.stderr[-3000:]
    return var_dir / "retainer.sqlite3"


@pytest.fixture
def database(seeded_database: Path, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A copy of the seeded database of this test's own (SQLite's backup API, so the
    write-ahead log is included); returns (environment, database file)."""
    target = tmp_path / "retainer.sqlite3"
    with sqlite3.connect(seeded_database) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return environment(tmp_path), target


def period() -> str:
    return f"{timezone.localdate():%Y-%m}"


def progress(db: sqlite3.Connection) -> tuple[str, int, int] | None:
    return db.execute(
        "select status, items_done, items_total from billing_billingrun order by id desc"
    ).fetchone()


def kill_after(process: subprocess.Popen, db: sqlite3.Connection, items: int) -> int:
    """SIGKILL ``process`` as soon as its run has committed at least ``items`` items;
    return the items it had committed when it was killed."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        row = progress(db)
        if row is not None and row[1] >= items:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return row[1]
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"the run did not reach {items} items in time")


def check_billed_once(db: sqlite3.Connection) -> None:
    keys = [row[0] for row in db.execute("select source_key from billing_billeditem")]
    assert len(keys) == len(set(keys)) == ITEMS
    fee_lines = db.execute(
        "select count(*), count(distinct contract_id) from billing_invoiceline where kind=?",
        [ItemKind.FEE],
    ).fetchone()
    assert fee_lines == (ORGANIZATIONS, ORGANIZATIONS)
    overage = db.execute(
        "select sum(minutes) from billing_invoiceline where kind=?", [ItemKind.OVERAGE]
    ).fetchone()[0]
    assert overage == 30 * ORGANIZATIONS
    numbers = sorted(
        int(row[0].rsplit("-", 1)[1])
        for row in db.execute(
            "select number from billing_invoice where status=?", [InvoiceStatus.ISSUED]
        )
    )
    assert numbers == list(range(1, ORGANIZATIONS + 1))
    counter = db.execute("select last_number from billing_numberseries").fetchone()[0]
    assert counter == ORGANIZATIONS


@pytest.mark.slow
def test_a_killed_run_then_a_new_run_bill_each_item_once_without_number_gaps(database):
    env, path = database
    db = sqlite3.connect(path, timeout=30)
    first = manage("run_billing", "--period", period(), "--batch-size", "1", env=env)

    seen = kill_after(first, db, KILL_AT)

    assert first.returncode == -signal.SIGKILL
    status, done, total = progress(db) or ("", 0, 0)
    assert status == RunStatus.RUNNING
    assert KILL_AT <= seen <= done < total == ITEMS
    # Progress commits with its batch: what the run says it did is exactly what is stored.
    billed = db.execute("select count(*) from billing_billeditem").fetchone()[0]
    invoices = db.execute("select count(*) from billing_invoice").fetchone()[0]
    assert billed == done
    assert 0 < invoices < ORGANIZATIONS

    out = finish(manage("run_billing", "--period", period(), env=env))

    assert "succeeded" in out
    assert "[####" in out
    check_billed_once(db)


@pytest.mark.slow
def test_two_runs_at_once_bill_each_item_once(database):
    env, path = database
    runs = [
        manage("run_billing", "--period", period(), "--batch-size", "10", env=env) for _ in range(2)
    ]
    outputs = [finish(process) for process in runs]

    assert all("succeeded" in out for out in outputs)
    check_billed_once(sqlite3.connect(path))
