"""How long a billing run takes on a large data set (SQLite).

    python bench/billing.py [--contracts 100000] [--time-entries 1000000] [--keep DIR]

Builds a fresh SQLite database in a temporary directory (``migrate``), then bulk-builds
the data set (not timed): organizations in four time zones (one in five in USD), one
contact each, contracts of every billable shape (fixed fee with included hours and
overage, pay-as-you-go hours, incident banks, pay-as-you-go incidents), cases, time
entries with their ledger consumptions split into covered and overage minutes as the
ledger would split them, incident consumptions, and a few reversals. Every contract's
fee is unbilled, so the run bills every contract once plus all overage.

The timed part is one billing run for the current month over every organization
(``retainer.billing.run.execute_run``), exactly as ``manage.py run_billing`` runs it.
A second run for the same period then checks that nothing is billed twice.

The reference, measured in the same run over the same data, is what a run cannot do
without: one SQL aggregate of the ledger rows per contract, and one bulk insert of as
many rows shaped like invoice lines as the run wrote (into a temporary table, rolled
back). The run's progress (items done, rate, time left) is printed while it runs.

The last line is ``billing contracts=… entries=… seconds=… lines=… reference_s=…
ratio=…``; budget: the run within 10 × the reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path; keep its files from shadowing
# standard-library modules of the same name (a bench/queue.py once hid ``queue``).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
BUDGET_RATIO = 10.0
CHUNK = 50_000
ZONES = [
    ("Europe/Berlin", "EUR"),
    ("America/Chicago", "USD"),
    ("UTC", "EUR"),
    ("Asia/Tokyo", "EUR"),
]


def _django(var_dir: Path) -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ["RETAINER_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "retainer.settings"
    os.environ.setdefault("RETAINER_LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(contracts: int, time_entries: int, rng: random.Random) -> int:
    """Bulk-build the data set; return the number of ledger entries written."""
    import datetime as dt
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from retainer.accounts.models import Contact, Organization, User
    from retainer.billing.rules import period_of
    from retainer.cases.models import Case, TimeEntry
    from retainer.catalog.models import Product
    from retainer.contracts.choices import EntryKind, Preset, SourceType
    from retainer.contracts.models import Contract, LedgerEntry
    from retainer.contracts.terms import preset_terms

    period = period_of(timezone.localdate())
    now = timezone.now()
    begin = max(period.utc_bounds("Asia/Tokyo")[0], now - dt.timedelta(days=40))
    span = max(1, int((now - begin).total_seconds()) - 3600)
    agent = User.objects.create(email="bench-agent@vendor.test", full_name="Bench", is_staff=True)
    product = Product.objects.create(name="Bench", code="bench", currency="EUR")
    org_count = max(1, contracts // 5)
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            [
                Organization(
                    name=f"Customer {n}", time_zone=ZONES[n % 4][0], currency=ZONES[n % 4][1]
                )
                for n in range(org_count)
            ],
            batch_size=5000,
        )
        contacts = Contact.objects.bulk_create(
            [
                Contact(organization=o, full_name=f"Contact {o.pk}", email=f"c{o.pk}@x.test")
                for o in orgs
            ],
            batch_size=5000,
        )
    shapes: dict[str, tuple[str, dict[str, Any]]] = {
        "fixed": (Preset.FIXED_FEE, {"quantity": 20 * 60, "price_amount": "12000"}),
        "payg_hours": (Preset.PAY_AS_YOU_GO, {"overage_rate": "180"}),
        "bank": (Preset.BANK, {"quantity": 10, "price_amount": "2000"}),
        "payg_incidents": (
            Preset.PAY_AS_YOU_GO,
            {"unit": "incidents", "decrement_point": "case_creation", "overage_rate": "95"},
        ),
    }
    pattern = ["fixed"] * 4 + ["payg_hours"] * 3 + ["bank"] * 2 + ["payg_incidents"]
    terms = {
        (shape, currency): preset_terms(preset, currency=currency, **extra)
        for shape, (preset, extra) in shapes.items()
        for currency in ("EUR", "USD")
    }
    rows = []
    for n in range(contracts):
        org = orgs[n % org_count]
        shape = pattern[n % len(pattern)]
        snapshot = terms[(shape, org.currency)]
        start = period.start - dt.timedelta(days=rng.randrange(0, 300))
        rows.append(
            Contract(
                organization=org,
                preset=snapshot.preset,
                unit=snapshot.unit,
                terms=snapshot.to_json(),
                start_date=start,
                end_date=snapshot.term_end(start),
                price=snapshot.price_amount,
                currency=org.currency,
                balance=snapshot.quantity,
            )
        )
    with transaction.atomic():
        sold = Contract.objects.bulk_create(rows, batch_size=5000)
    contact_of = {c.organization_id: c for c in contacts}
    with transaction.atomic():
        cases = Case.objects.bulk_create(
            [
                Case(
                    organization_id=c.organization_id,
                    contact=contact_of[c.organization_id],
                    product=product,
                    channel="web",
                    subject="Bench",
                    description="Bench",
                    entitlement="covered_billable",
                    contract=c,
                )
                for c in sold
            ],
            batch_size=5000,
        )
    hours = [(c, case) for c, case in zip(sold, cases, strict=True) if c.unit == "hours"]
    incident = [(c, case) for c, case in zip(sold, cases, strict=True) if c.unit == "incidents"]
    balance = {c.pk: c.balance for c in sold}
    written = 0

    def stamp() -> dt.datetime:
        return begin + dt.timedelta(seconds=rng.randrange(span))

    for first in range(0, time_entries, CHUNK):
        count = min(CHUNK, time_entries - first)
        picks = [hours[rng.randrange(len(hours))] for _ in range(count)]
        with transaction.atomic():
            entries = TimeEntry.objects.bulk_create(
                [
                    TimeEntry(
                        case=case,
                        agent=agent,
                        work_date=period.start,
                        minutes=rng.randrange(15, 240),
                        contract=contract,
                    )
                    for contract, case in picks
                ],
                batch_size=5000,
            )
            ledger = []
            for entry, (contract, _) in zip(entries, picks, strict=True):
                covered = min(max(balance[contract.pk], 0), entry.minutes)
                overage = entry.minutes - covered
                balance[contract.pk] -= covered
                rate = Decimal(contract.terms["overage_rate"])
                ledger.append(
                    LedgerEntry(
                        contract=contract,
                        kind=EntryKind.CONSUME,
                        quantity=-covered,
                        overage_quantity=overage,
                        overage_rate=rate if overage else None,
                        currency=contract.currency if overage else "",
                        balance_after=balance[contract.pk],
                        key=f"time-entry:{entry.pk}:v1",
                        source_type=SourceType.TIME_ENTRY,
                        source_id=str(entry.pk),
                        created_at=stamp(),
                    )
                )
                if overage and rng.random() < 0.01:  # a deleted entry: its reversal
                    ledger.append(
                        LedgerEntry(
                            contract=contract,
                            kind=EntryKind.REVERSE,
                            quantity=covered,
                            overage_quantity=-overage,
                            overage_rate=rate,
                            currency=contract.currency,
                            balance_after=balance[contract.pk] + covered,
                            key=f"reverse:time-entry:{entry.pk}:v1",
                            source_type=SourceType.TIME_ENTRY,
                            source_id=str(entry.pk),
                            created_at=stamp(),
                        )
                    )
                    balance[contract.pk] += covered
            LedgerEntry.objects.bulk_create(ledger, batch_size=5000)
            written += len(ledger)
    ledger = []
    for contract, case in incident:
        for n in range(3):
            covered = 1 if balance[contract.pk] > 0 else 0
            balance[contract.pk] -= covered
            ledger.append(
                LedgerEntry(
                    contract=contract,
                    kind=EntryKind.CONSUME,
                    quantity=-covered,
                    overage_quantity=1 - covered,
                    overage_rate=Decimal(contract.terms["overage_rate"]) if not covered else None,
                    currency="" if covered else contract.currency,
                    balance_after=balance[contract.pk],
                    key=f"case:{case.pk}:incident:v{n + 1}",
                    source_type=SourceType.CASE,
                    source_id=str(case.pk),
                    created_at=stamp(),
                )
            )
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(ledger, batch_size=5000)
    return written + len(ledger)


def raw_reference(lines: int) -> float:
    """Seconds for the reference (see the module docstring)."""
    from django.db import connection, transaction

    from retainer.billing.models import InvoiceLine
    from retainer.billing.run import LINE_COLUMNS
    from retainer.contracts.models import LedgerEntry

    ledger = connection.ops.quote_name(LedgerEntry._meta.db_table)
    lines_table = connection.ops.quote_name(InvoiceLine._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in LINE_COLUMNS)
    marks = ", ".join(["%s"] * len(LINE_COLUMNS))
    today = dt.date(2026, 1, 1)  # any date: the rows only need the shape of real lines
    rows = [
        (n, 1, "fee", f"Support plan, line {n}", Decimal("1.00"), "month", None,
         Decimal("100.00"), Decimal("100.00"), n, None, today, today, 1)
        for n in range(lines)
    ]  # fmt: skip
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT contract_id, SUM(quantity), SUM(overage_quantity), COUNT(*) "  # noqa: S608
            f"FROM {ledger} GROUP BY contract_id"
        )
        cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_line AS SELECT * FROM {lines_table} WHERE 0")  # noqa: S608
        for start in range(0, len(rows), 10_000):
            cursor.executemany(
                f"INSERT INTO bench_line ({names}) VALUES ({marks})",  # noqa: S608
                rows[start : start + 10_000],
            )
        transaction.set_rollback(True)
    return time.monotonic() - started


def show_progress(run: Any) -> None:
    """One line per batch, at most every two seconds: items done, rate, time left."""
    now = time.monotonic()
    if now - getattr(show_progress, "last", 0.0) < 2 and run.items_done < run.items_total:
        return
    show_progress.last = now  # type: ignore[attr-defined]
    rate = run.items_per_second
    left = run.seconds_left
    print(
        f"  {run.items_done:,}/{run.items_total:,} items"
        + (f", {rate:,.0f} items/s, {left} s left" if rate and left is not None else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--time-entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="Build in this directory and keep it.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    var_dir = args.keep or Path(tempfile.mkdtemp(prefix="retainer-bench-billing-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        _django(var_dir)
        from django.core.management import call_command
        from django.utils import timezone

        from retainer.billing import actions
        from retainer.billing.models import BilledItem
        from retainer.billing.rules import period_of
        from retainer.billing.run import execute_run

        call_command("migrate", verbosity=0, interactive=False)
        started = time.monotonic()
        entries = build(args.contracts, args.time_entries, random.Random(args.seed))
        print(
            f"built contracts={args.contracts} ledger={entries} in {time.monotonic() - started:.1f} s"
        )
        period = period_of(timezone.localdate())
        billing_run = actions.do_create_run(period=period, actor=None)
        started = time.monotonic()
        billing_run = execute_run(billing_run, progress=show_progress)
        seconds = time.monotonic() - started
        items = BilledItem.objects.count()
        again = execute_run(actions.do_create_run(period=period, actor=None))
        assert again.items_done == 0, "a second run billed something again"
        assert BilledItem.objects.count() == items
        reference = raw_reference(billing_run.lines_created)
        ratio = seconds / reference
        verdict = "within" if ratio <= BUDGET_RATIO else "OVER"
        print(
            f"run: {billing_run.invoices_created} invoices, {billing_run.items_done} items; "
            f"repeat run billed 0; reference {reference:.1f} s; {verdict} the budget of "
            f"{BUDGET_RATIO:.0f} x the reference"
        )
        print(
            f"billing contracts={args.contracts} entries={args.time_entries} "
            f"seconds={seconds:.1f} lines={billing_run.lines_created} "
            f"reference_s={reference:.2f} ratio={ratio:.1f}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
