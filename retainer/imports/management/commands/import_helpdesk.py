"""``manage.py import_helpdesk SOURCE``: import a django-helpdesk database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.imports.actions import import_helpdesk
from retainer.imports.models import ImportRun
from retainer.imports.report import outcome_lines
from retainer.lib.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Import queues, staff, tickets with follow-ups and attachments, and knowledge-base "
        "items from a django-helpdesk database (sqlite:////path or postgres://…). "
        "Running it again imports only what is new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source", help="sqlite:////abs/path.sqlite3, a file path, or postgres://…"
        )
        parser.add_argument("--media", type=Path, help="django-helpdesk's MEDIA_ROOT (attachments)")
        parser.add_argument(
            "--name",
            default="helpdesk",
            help="the key of imported rows (helpdesk)",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report, write nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()

        def progress(run: ImportRun) -> None:
            elapsed = time.monotonic() - started
            rate = run.done / elapsed if elapsed else 0
            left = (run.total - run.done) / rate if rate else 0
            self.stdout.write(
                f"{run.done}/{run.total} rows ({run.progress_percent}%), {rate:.0f} rows/s, "
                f"about {left:.0f} s left"
            )

        try:
            run = import_helpdesk(
                options["source"],
                name=options["name"],
                media=options["media"],
                dry_run=options["dry_run"],
                actor=None,
                progress=progress,
            )
        except InvalidInput as exc:
            raise CommandError(exc.detail) from None
        made, rejected = outcome_lines(run)
        self.stdout.write(f"{run.status}: {made} in {time.monotonic() - started:.1f} s")
        for line in rejected:
            self.stdout.write(line)
