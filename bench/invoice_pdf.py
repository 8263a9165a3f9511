"""How long one invoice PDF takes to render (WeasyPrint, local assets only).

    python bench/invoice_pdf.py [--invoices 20] [--lines 12]

Builds a temporary SQLite database (``migrate``), issues ``--invoices`` invoices of
``--lines`` lines each through the billing actions, renders each PDF once to warm up
fonts and templates, then renders every invoice again and reports the mean and the
slowest. The last line is ``invoice_pdf invoices=… lines=… ms_mean=… ms_max=…``;
budget ≤ 300 ms per invoice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path; keep its files from shadowing
# standard-library modules of the same name (a bench/queue.py once hid ``queue``).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
BUDGET_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument("--lines", type=int, default=12)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="retainer-bench-pdf-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["RETAINER_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "retainer.settings"
    os.environ.setdefault("RETAINER_LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    try:
        import django

        django.setup()
        from decimal import Decimal

        from django.core.management import call_command
        from django.utils import timezone

        from retainer.accounts.actions import do_create_organization
        from retainer.billing import actions, pdf
        from retainer.billing.rules import period_of

        call_command("migrate", verbosity=0, interactive=False)
        organization = do_create_organization(name="Bench GmbH", currency="EUR", actor=None)
        actions.do_set_billing_profile(organization, tax_rate=Decimal(19), actor=None)
        period = period_of(timezone.localdate())
        invoices = []
        for n in range(args.invoices):
            invoice = actions.do_create_invoice(
                organization=organization, period=period, actor=None
            )
            for line in range(args.lines):
                actions.do_add_line(
                    invoice,
                    description=f"Overage hours on contract #{n}-{line}",
                    quantity=Decimal(line + 1),
                    unit_price=Decimal("149.99"),
                    currency="EUR",
                    actor=None,
                )
            invoices.append(actions.do_issue_invoice(invoice, actor=None))
        pdf.render_invoice_pdf(invoices[0])  # warm-up: fonts, template, stylesheet
        timings = []
        for invoice in invoices:
            started = time.perf_counter()
            body = pdf.render_invoice_pdf(invoice)
            timings.append((time.perf_counter() - started) * 1000)
            assert body.startswith(b"%PDF")
        mean, worst = statistics.mean(timings), max(timings)
        verdict = "within" if worst <= BUDGET_MS else "OVER"
        print(f"{verdict} the {BUDGET_MS:.0f} ms budget per invoice")
        print(
            f"invoice_pdf invoices={args.invoices} lines={args.lines} "
            f"ms_mean={mean:.0f} ms_max={worst:.0f}"
        )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
