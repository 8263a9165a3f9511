"""Back up the database and the uploaded files: ``manage.py backup [--output DIR]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.project.backups import BackupRefused, human_size, take_backup


class Command(BaseCommand):
    help = (
        "Write one archive (tar.gz) of the database and the media files, with a manifest of "
        "checksums and migrations. Safe while the server and the workers run."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="Folder for the archive (default: $RETAINER_VAR_DIR/backups).",
        )

    def handle(self, *args: Any, output: Path | None, **options: Any) -> None:
        folder = output or Path(settings.VAR_DIR) / "backups"
        try:
            result = take_backup(folder)
        except BackupRefused as exc:
            raise CommandError(str(exc)) from exc
        counts = " ".join(f"{name}={n}" for name, n in result.counts.items())
        self.stdout.write(f"Backup written: {result.path}")
        self.stdout.write(
            f"  {human_size(result.size)}, {result.vendor} database, "
            f"{result.media_files} media file(s), {counts}"
        )
