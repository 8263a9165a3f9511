"""Starting imports: the run row first (so its progress shows), then the work."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from retainer.accounts.models import User
from retainer.imports import csv_import
from retainer.imports.helpdesk import HelpdeskImport, check_source
from retainer.imports.models import ImportRun, RunStatus
from retainer.imports.source import Source
from retainer.lib.errors import InvalidInput


def import_helpdesk(
    source_url: str,
    *,
    name: str = "helpdesk",
    media: Path | None = None,
    dry_run: bool = False,
    actor: User | None,
    progress: Callable[[ImportRun], None] | None = None,
) -> ImportRun:
    """Import (or, with ``dry_run``, only check) a django-helpdesk database; returns the
    finished run with its counts and rejected rows. Raises ``InvalidInput`` when the
    source cannot be read or is not a django-helpdesk database. A run that fails on
    the way keeps every batch it committed, and records the error."""
    source = Source(source_url)
    try:
        check_source(source)
    except InvalidInput:
        source.close()
        raise
    run = ImportRun.objects.create(source=name, kind="helpdesk", dry_run=dry_run, started_by=actor)
    try:
        report = HelpdeskImport(source, run=run, media=media, progress=progress).execute()
    except BaseException as exc:
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    finally:
        source.close()
    run.status = RunStatus.SUCCEEDED
    run.created = dict(report.created)
    run.rejected = report.rejected
    run.rejected_count = report.rejected_count
    run.finished_at = timezone.now()
    run.save()
    return run


def import_csv(
    kind: str, data: bytes, *, name: str = "csv", dry_run: bool = False, actor: User | None
) -> ImportRun:
    """Import one CSV file of ``kind`` (``csv_import.KINDS``): every row checked first;
    written in one transaction only when no row is rejected and it is not a dry run.
    Returns the finished run with its counts and rejected rows."""
    if kind not in csv_import.KINDS:
        raise InvalidInput(
            "unknown_kind", f"Import one of: {', '.join(csv_import.KINDS)}.", field="kind"
        )
    run = ImportRun.objects.create(source=name, kind=kind, dry_run=dry_run, started_by=actor)
    try:
        report = csv_import.import_rows(run, kind, data)
    except BaseException as exc:
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    refused = report.rejected_count > 0 and not dry_run
    run.status = RunStatus.FAILED if refused else RunStatus.SUCCEEDED
    run.error = "Rows were rejected, so nothing of the file was written." if refused else ""
    run.created = dict(report.created)
    run.rejected = report.rejected
    run.rejected_count = report.rejected_count
    run.finished_at = timezone.now()
    run.save()
    return run
