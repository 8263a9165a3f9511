"""A backup taken while intake runs restores to a consistent state (real processes).

A source database of its own (a SQLite file, or a new database on the suite's PostgreSQL
server) is migrated and seeded; a ``manage.py shell`` process keeps opening cases through
the real intake (``check_open_case``: decision, ledger consumption, SLA clocks, events),
attaching files and issuing invoices, while ``manage.py backup`` runs. Intake goes on
after the backup. The archive is restored with ``manage.py restore`` into a fresh
database and media folder, where every ledger balance must equal the sum of its entries,
every consumed incident have its entry, every issued invoice's totals its lines, every
case its decision, every history row its outbox message and every attachment its file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from conftest import ROOT

pytestmark = pytest.mark.slow

PYTHON = sys.executable

SEED = """
import datetime as dt
from django.core.management import call_command
call_command("migrate", verbosity=0)
from retainer.accounts import actions as people
from retainer.accounts.choices import Role
from retainer.catalog import actions as catalog
from retainer.contracts import actions as contracts
from retainer.cases.models import BusinessCalendar, SlaTarget
admin = people.do_create_staff_user(email="admin@load.test", full_name="Admin", roles=[Role.ADMIN], actor=None)
product = catalog.do_save_product(None, actor=admin, name="Load", code="load", currency="EUR")
catalog.do_save_release(None, actor=admin, product=product, version="1.0", ga_date=dt.date(2025, 1, 1))
catalog.do_save_scope_policy(None, actor=admin, product=product)
org = people.do_create_organization(name="Load Corp", domains=["load.test"], actor=admin)
people.do_create_contact(organization=org, full_name="Carla Load", email="carla@load.test",
                         portal_password="load-password-1", actor=admin)
contracts.do_create_contract(organization=org, preset="bank", start_date=dt.date(2026, 1, 1),
                             covered_products=[product], terms={"quantity": 1_000_000}, actor=admin)
calendar = BusinessCalendar.objects.create(name="24x7", always_open=True)
for severity in range(1, 5):
    SlaTarget.objects.create(severity=severity, calendar=calendar, first_response_minutes=60, resolution_minutes=480)
"""

# Intake without end: one case per round through the same check function every door calls;
# every third case gets a file, every fifth round issues a two-line invoice.
LOAD = """
import datetime as dt, itertools, os
from decimal import Decimal
from pathlib import Path
from django.core.files.uploadedfile import SimpleUploadedFile
from retainer.accounts.models import Contact, User
from retainer.billing import actions as billing
from retainer.billing.rules import period_of
from retainer.cases import actions as cases
from retainer.catalog.models import Product
stop = Path(os.environ["LOAD_STOP_FILE"])
contact = Contact.objects.select_related("user", "organization").get(email="carla@load.test")
admin = User.objects.get(email="admin@load.test")
product = Product.objects.get(code="load")
release = product.releases.get()
period = period_of(dt.date(2026, 11, 1))
for n in itertools.count(1):
    if stop.exists():
        break
    case = cases.check_open_case(contact.user, product=product, release=release,
                                 subject=f"Load {n}", description="backup under load", channel="web")
    if n % 3 == 0:
        cases.check_reply(contact.user, case, body="the log",
                          upload=SimpleUploadedFile(f"log-{n}.txt", f"line {n}\\n".encode() * 50))
    if n % 5 == 0:
        invoice = billing.do_create_invoice(organization=contact.organization, period=period, actor=admin)
        for price in ("12.50", "7.25"):
            billing.do_add_line(invoice, description=f"Work {n}", quantity=Decimal("1.5"),
                                unit_price=Decimal(price), currency=invoice.currency, actor=admin)
        billing.do_issue_invoice(invoice, actor=admin)
    print(n, flush=True)
"""

CHECK = """
import hashlib, json
from pathlib import Path
from django.apps import apps
from django.conf import settings
from django.db.models import Count, Sum
from retainer.billing.models import Invoice
from retainer.cases.models import Case, CaseAttachment
from retainer.contracts.models import Contract, LedgerEntry
from retainer.lib.models import OutboxMessage
problems = []
for contract in Contract.objects.all():
    entries = LedgerEntry.objects.filter(contract=contract)
    total = entries.aggregate(s=Sum("quantity"))["s"] or 0
    last = entries.order_by("-id").first()
    if contract.balance != total or (last is not None and last.balance_after != total):
        problems.append(f"contract {contract.pk}: balance {contract.balance}, entries sum {total}")
consumed = Case.objects.filter(incident_consumed=True).count()
entries = LedgerEntry.objects.filter(kind="consume", case__isnull=False).count()
if consumed != entries:
    problems.append(f"{consumed} cases consumed an incident, {entries} consume entries")
undecided = Case.objects.filter(decision__isnull=True).count()
if undecided:
    problems.append(f"{undecided} cases without their entitlement decision")
issued = Invoice.objects.exclude(status="draft").annotate(lines_sum=Sum("lines__amount"), n=Count("lines"))
for invoice in issued:
    if not invoice.n or invoice.subtotal != invoice.lines_sum or invoice.total != invoice.subtotal + invoice.tax_amount:
        problems.append(f"invoice {invoice.number}: subtotal {invoice.subtotal} total {invoice.total} lines {invoice.lines_sum}")
for label in ("cases.CaseEvent", "contracts.ContractEvent", "billing.BillingEvent"):
    model = apps.get_model(label)
    rows, messages = model.objects.count(), OutboxMessage.objects.filter(source=model._meta.label_lower).count()
    if rows != messages:
        problems.append(f"{label}: {rows} rows, {messages} outbox messages")
for attachment in CaseAttachment.objects.all():
    path = Path(settings.MEDIA_ROOT) / attachment.storage_name
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != attachment.sha256:
        problems.append(f"attachment {attachment.pk}: file missing or different")
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
executor = MigrationExecutor(connection)
if executor.migration_plan(executor.loader.graph.leaf_nodes()):
    problems.append("migrations not applied: /readyz would answer 503")
print(json.dumps({"cases": Case.objects.count(), "invoices": Invoice.objects.count(),
                  "issued": issued.count(),
                  "attachments": CaseAttachment.objects.count(),
                  "entries": LedgerEntry.objects.count(), "problems": problems}))
"""


def _server_url() -> str:
    database = connection.settings_dict
    user = quote(database.get("USER") or "")
    password = database.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}"


class Instance:
    """One Retainer instance: its own folder, and a database of its own."""

    def __init__(self, root: Path, name: str) -> None:
        self.var = root / name
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env.update(RETAINER_VAR_DIR=str(self.var), RETAINER_MODE="demo")
        self.env.pop("RETAINER_MEDIA_DIR", None)
        self.database = ""
        if connection.vendor == "postgresql":
            self.database = f"retainer_backup_{name}_{secrets.token_hex(3)}"
            self._admin(f'CREATE DATABASE "{self.database}"')
            self.env["DATABASE_URL"] = f"{_server_url()}/{self.database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{_server_url()}/postgres", autocommit=True) as admin:
            admin.execute(sql)

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def drop(self) -> None:
        if self.database:
            self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    made: list[Instance] = []
    try:
        made.append(Instance(tmp_path, "source"))
        made.append(Instance(tmp_path, "restored"))
        yield made[0], made[1]
    finally:
        for instance in made:
            instance.drop()


class Progress:
    """The loader's latest count of cases, read from its output by a thread."""

    def __init__(self, load: subprocess.Popen[str]) -> None:
        self.load = load
        self.latest = 0
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        assert self.load.stdout is not None
        for line in self.load.stdout:
            self.latest = int(line)

    def wait_for(self, at_least: int) -> int:
        deadline = time.monotonic() + 60
        while self.latest < at_least:
            if self.load.poll() is not None or time.monotonic() > deadline:
                stderr = self.load.stderr.read() if self.load.stderr else ""
                raise AssertionError(f"intake stopped before {at_least} cases: {stderr}")
            time.sleep(0.02)
        return self.latest


def _counts(output: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"(cases|contracts|invoices)=(\d+)", output)}


def test_a_backup_taken_during_intake_restores_to_a_consistent_state(
    instances: tuple[Instance, Instance], tmp_path: Path
) -> None:
    source, restored = instances
    seeded = source.manage("shell", "-v0", "-c", SEED)
    assert seeded.returncode == 0, seeded.stderr
    stop = tmp_path / "stop"
    source.env["LOAD_STOP_FILE"] = str(stop)
    load = source.popen("shell", "-v0", "-c", LOAD)
    progress = Progress(load)
    try:
        before = progress.wait_for(15)
        backup = source.manage("backup", "--output", str(tmp_path / "backups"))
        assert backup.returncode == 0, backup.stderr
        during = progress.latest
        after = progress.wait_for(during + 10)  # intake went on through and after the backup
    finally:
        stop.touch()
        load.wait(timeout=60)
        progress.thread.join(timeout=10)
    assert load.returncode == 0, load.stderr.read() if load.stderr else ""
    archive = Path(re.search(r"Backup written: (\S+)", backup.stdout)[1])  # type: ignore[index]
    backed_up = _counts(backup.stdout)
    assert before <= backed_up["cases"] <= during < after, (before, backed_up, during, after)

    restore = restored.manage("restore", str(archive))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert _counts(restore.stdout) == backed_up
    checked = restored.manage("shell", "-v0", "-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    state = json.loads(checked.stdout.strip().splitlines()[-1])
    assert state["problems"] == []
    assert state["cases"] == backed_up["cases"]
    # A draft caught between its lines and its issue is restored as a draft.
    assert state["invoices"] == backed_up["invoices"]
    assert state["issued"] > 0
    assert state["attachments"] >= backed_up["cases"] // 3 - 1 > 0
