"""An import run and the map from what it imported to what it created.

``ImportedRecord`` makes re-runs idempotent: one row per (source, kind, external id),
written in the same transaction as the rows it stands for, so a run that is killed and
started again imports exactly what is missing.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from retainer.accounts.models import User


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    """One import from one source: its progress, what it created and every row it
    rejected with the reason."""

    source = models.CharField(max_length=60, help_text="The name the imported rows are keyed by.")
    kind = models.CharField(max_length=30, help_text="helpdesk, or the CSV file's kind.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    #: Objects created (or, in a dry run, that would be), per kind.
    created = models.JSONField(default=dict, blank=True)
    #: ``{"row": …, "column": …, "reason": …}`` per rejected row (the first 1,000).
    rejected = models.JSONField(default=list, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import from {self.source} ({self.status})"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class ImportedRecord(models.Model):
    """``external_id`` of ``kind`` in ``source`` became object ``object_id``."""

    source = models.CharField(max_length=60)
    kind = models.CharField(max_length=30)
    external_id = models.CharField(max_length=200)
    object_id = models.PositiveBigIntegerField()
    run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="imports_record_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.external_id} → {self.object_id}"
