"""Recompute the support roll-ups: ``manage.py rebuild_metrics [--since 2026-11-01]``.

Without ``--since`` every case's contribution is computed again and the monthly tallies
are rewritten from them; with it, only the cases opened, changed, answered or with a
clock decided since that day (the nightly job's way). One transaction; prints the cases,
the tally rows and the seconds taken.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retainer.metrics import rollups


class Command(BaseCommand):
    help = "Recompute the support roll-ups from the cases (all, or those touched since a day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="YYYY-MM-DD: only cases touched since that day")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                day = dt.date.fromisoformat(options["since"])
            except ValueError as error:
                raise CommandError("--since takes a date: YYYY-MM-DD.") from error
            since = dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())
        result = rollups.rebuild(since=since)
        self.stdout.write(
            f"rebuilt support roll-ups: cases={result.cases} rows={result.rows} "
            f"seconds={result.seconds:.2f}"
        )
