"""Import of a real django-helpdesk database, made with django-helpdesk's own models."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from retainer.cases.models import Case, CaseAttachment, CaseMessage
from retainer.imports.actions import import_helpdesk
from retainer.imports.models import ImportedRecord, ImportRun
from retainer.imports.tests import helpdesk_site
from retainer.kb.models import Article


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, int]]:
    return helpdesk_site.make(tmp_path_factory.mktemp("helpdesk"), 120)


def counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        CaseMessage.objects.count(),
        CaseAttachment.objects.count(),
        Article.objects.count(),
    )


@pytest.mark.slow
def test_a_helpdesk_database_is_imported_once_with_every_ticket_message_and_file(
    db: None, helpdesk, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    source, media, made = helpdesk
    before = counts()
    run = import_helpdesk(f"sqlite:///{source}", media=media, actor=None)

    assert run.status == "succeeded"
    # Every ticket but the one without a valid address; every follow-up of those.
    assert Case.objects.count() - before[0] == made["tickets"] - 1
    assert run.created["case"] == made["tickets"] - 1
    assert CaseMessage.objects.count() - before[1] == run.created["followup"]
    # Every attachment but the one whose file is gone.
    assert CaseAttachment.objects.count() - before[2] == made["attachments"] - 1
    assert Article.objects.count() - before[3] == made["kbitems"]
    reasons = {(r["row"].split()[0], r["column"]) for r in run.rejected}
    assert ("helpdesk_ticket", "submitter_email") in reasons
    assert ("helpdesk_followupattachment", "file") in reasons
    assert ("auth_user", "email") in reasons  # a staff user without an address

    # Open tickets went through intake: a decision recorded; history did not.
    opened = Case.objects.filter(status="open")
    assert opened.exists() and not opened.filter(decision__isnull=True).exists()
    assert not Case.objects.filter(status="closed", decision__isnull=False).exists()
    # Private follow-ups are internal notes; the customer's own words are the customer's.
    assert CaseMessage.objects.filter(is_internal=True, body__startswith="Internal:").exists()
    assert CaseMessage.objects.filter(by_customer=True, body="That fixed it, thanks.").exists()

    # Again: nothing new, every ticket recognised.
    after = counts()
    again = import_helpdesk(f"sqlite:///{source}", media=media, actor=None)
    assert counts() == after
    assert again.created.get("case", 0) == 0
    assert ImportedRecord.objects.filter(kind="ticket").count() == made["tickets"] - 1


@pytest.mark.slow
def test_a_dry_run_reports_the_rejections_and_writes_nothing(db: None, helpdesk) -> None:
    source, media, made = helpdesk
    before = counts()
    output = StringIO()
    call_command("import_helpdesk", str(source), "--media", str(media), "--dry-run", stdout=output)
    assert counts() == before
    assert not ImportedRecord.objects.exists()
    text = output.getvalue()
    assert "would create" in text and f"{made['tickets'] - 1} case" in text
    assert "rejected helpdesk_ticket" in text and "submitter_email" in text
    run = ImportRun.objects.get()
    assert run.dry_run and run.status == "succeeded" and run.rejected_count >= 3


def test_a_database_that_is_not_django_helpdesk_is_refused(db: None, tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (id integer)")
    with pytest.raises(CommandError, match="not a django-helpdesk database"):
        call_command("import_helpdesk", str(other))
    with pytest.raises(CommandError, match="no SQLite database"):
        call_command("import_helpdesk", str(tmp_path / "missing.sqlite3"))
    assert not ImportRun.objects.exists()
