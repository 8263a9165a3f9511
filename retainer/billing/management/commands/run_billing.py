"""Bill a period: ``manage.py run_billing --period 2026-10 [--organization ID]``.

The run is started like every other run (``checks.check_start_billing_run``: recorded,
then queued for the job worker). By default the command then executes it itself and
prints its progress, so it works without a worker; if a worker took the run first, the
command follows that worker's progress instead. ``--no-wait`` returns once the run is
queued. Either way each item is billed once: only one process can hold a run.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retainer.accounts.models import User
from retainer.billing import checks
from retainer.billing.choices import RUN_FINISHED_STATUSES
from retainer.billing.models import BillingRun
from retainer.billing.run import DEFAULT_BATCH_ORGANIZATIONS, execute_run
from retainer.lib.errors import Conflict, DomainError

BAR_WIDTH = 30
#: How often the command reads the progress of a run a worker is executing.
POLL_SECONDS = 1.0


def progress_bar(done: int, total: int) -> str:
    filled = BAR_WIDTH if total == 0 else min(BAR_WIDTH, done * BAR_WIDTH // total)
    percent = 100 if total == 0 else done * 100 // total
    return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} items ({percent}%)"


def pace(run: BillingRun) -> str:
    """``, 1,234 items/s, 0:42 left`` once the run has a rate (after its first batch)."""
    rate, left = run.items_per_second, run.seconds_left
    if not rate or left is None:
        return ""
    return f", {rate:,.0f} items/s, {left // 60}:{left % 60:02d} left"


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
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Only queue the run for the job worker and return.",
        )
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="EMAIL",
            help="Run as this staff user, with their permissions (default: the system).",
        )

    def handle(
        self,
        *args: Any,
        period: str,
        organization: int | None,
        draft: bool,
        batch_size: int,
        no_wait: bool,
        actor: str | None,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            billing_run = checks.check_start_billing_run(
                self._actor(actor), period=period, organization=organization, issue=not draft
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        if no_wait:
            self.stdout.write(f"Billing run {billing_run.pk} for {period} is queued.")
            return
        show = self._progress()
        try:
            billing_run = execute_run(billing_run, batch_organizations=batch_size, progress=show)
        except Conflict:  # a worker took it first: follow its progress
            billing_run = self._follow(billing_run, show)
        if self.tty:
            self.stdout.write("")
        self.stdout.write(
            f"Billing run {billing_run.pk} for {period}: {billing_run.status}, "
            f"{billing_run.invoices_created} invoices, {billing_run.lines_created} lines, "
            f"{billing_run.items_done} items."
        )

    def _actor(self, email: str | None) -> User | None:
        if email is None:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"There is no user {email}.")
        return user

    def _progress(self) -> Any:
        self.tty = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()

        def show(run: BillingRun) -> None:
            line = f"run {run.pk} {progress_bar(run.items_done, run.items_total)}{pace(run)}"
            self.stdout.write(("\r" + line) if self.tty else line, ending="" if self.tty else "\n")
            self.stdout.flush()

        return show

    def _follow(self, billing_run: BillingRun, show: Any) -> BillingRun:
        billing_run.refresh_from_db()
        while billing_run.status not in RUN_FINISHED_STATUSES:
            if not billing_run.is_alive(timezone.now()):
                raise CommandError(
                    f"The worker executing billing run {billing_run.pk} stopped; continue "
                    "it with POST /api/v1/billing/runs/<id>/start/."
                )
            show(billing_run)
            time.sleep(POLL_SECONDS)
            billing_run.refresh_from_db()
        show(billing_run)
        return billing_run
