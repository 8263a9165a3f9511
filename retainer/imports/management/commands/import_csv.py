"""``manage.py import_csv KIND FILE``: import organizations, contacts, contracts or cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.imports.actions import import_csv
from retainer.imports.csv_import import KINDS
from retainer.imports.report import outcome_lines
from retainer.lib.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Import one CSV file (UTF-8, with a header row). Every row is checked first; if any "
        "is rejected, nothing is written and every rejected row is listed with its column "
        "and reason. Rows imported before are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--name", default="csv", help="the key of imported rows (csv)")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = options["file"].read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}.") from None
        try:
            run = import_csv(
                options["kind"],
                data,
                name=options["name"],
                dry_run=options["dry_run"],
                actor=None,
            )
        except InvalidInput as exc:
            raise CommandError(exc.detail) from None
        made, rejected = outcome_lines(run)
        self.stdout.write(f"{run.done} rows checked; {made}")
        for line in rejected:
            self.stdout.write(line)
        if run.rejected_count and not run.dry_run:
            raise CommandError(f"{run.rejected_count} rows rejected: nothing was written.")
