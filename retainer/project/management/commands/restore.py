"""Restore a backup: ``manage.py restore ARCHIVE [--yes]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.project.backups import BackupRefused, human_size, restore_backup


class Command(BaseCommand):
    help = (
        "Replace the database with the one in a backup archive and put its media files back. "
        "Checks the whole archive first; a refused restore changes nothing. Stop the web "
        "server, the job workers and the scheduler first."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="An archive written by manage.py backup.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Replace a database that is not empty (everything in it is lost).",
        )

    def handle(self, *args: Any, archive: Path, yes: bool, **options: Any) -> None:
        try:
            result = restore_backup(archive, replace=yes, log=self.stdout.write)
        except BackupRefused as exc:
            raise CommandError(str(exc)) from exc
        counts = " ".join(f"{name}={n}" for name, n in result.counts.items())
        self.stdout.write(f"Restored: {result.path} ({human_size(result.size)})")
        self.stdout.write(
            f"  {result.vendor} database of {result.created_at}, "
            f"{result.media_files} media file(s), {counts}"
        )
        if result.pending_migrations:
            self.stdout.write(
                f"  The code has {result.pending_migrations} migration(s) the backup predates: "
                "run manage.py migrate before starting the services."
            )
