"""Bill a period: ``manage.py run_billing --period 2026-10 [--organization ID]``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.accounts.models import Organization
from retainer.billing import actions, rules
from retainer.billing.models import BillingRun
from retainer.billing.run import DEFAULT_BATCH_ORGANIZATIONS, execute_run

BAR_WIDTH = 30


def progress_bar(done: int, total: int) -> str:
    filled = BAR_WIDTH if total == 0 else min(BAR_WIDTH, done * BAR_WIDTH // total)
    percent = 100 if total == 0 else done * 100 // total
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} items ({percent}%)"


class Command(BaseCommand):
    help = "Run billing for a period (organization-local calendar month)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--organization", type=int, help="Bill one organization only.")
        parser.add_argument(
            "--draft", action="store_true", help="Leave the invoices as drafts (no numbers)."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_ORGANIZATIONS,
            help="Organizations per transaction.",
        )

    def handle(
        self,
        *args: Any,
        period: str,
        organization: int | None,
        draft: bool,
        batch_size: int,
        **options: Any,
    ) -> None:
        try:
            parsed = rules.parse_period(period)
        except rules.PeriodError as exc:
            raise CommandError(str(exc)) from None
        org = None
        if organization is not None:
            org = Organization.objects.filter(pk=organization).first()
            if org is None:
                raise CommandError(f"There is no organization {organization}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            billing_run = actions.do_create_run(
                period=parsed, organization=org, issue=not draft, actor=None
            )
        except actions.BillingError as exc:
            raise CommandError(exc.detail) from None
        tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()

        def show(run: BillingRun) -> None:
            line = f"run {run.pk} {progress_bar(run.items_done, run.items_total)}"
            self.stdout.write(("\r" + line) if tty else line, ending="" if tty else "\n")
            self.stdout.flush()

        billing_run = execute_run(billing_run, batch_organizations=batch_size, progress=show)
        if tty:
            self.stdout.write("")
        self.stdout.write(
            f"Billing run {billing_run.pk} for {parsed.label}: {billing_run.status}, "
            f"{billing_run.invoices_created} invoices, {billing_run.lines_created} lines, "
            f"{billing_run.items_done} items."
        )
