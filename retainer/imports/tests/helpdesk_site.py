"""A django-helpdesk installation of its own, to make real helpdesk databases to import.

Used as the settings module of a separate process (``DJANGO_SETTINGS_MODULE`` =
this module): ``build`` migrates a new SQLite database with django-helpdesk's own
migrations and fills it through django-helpdesk's own models.

    HD_DB=… HD_MEDIA=… DJANGO_SETTINGS_MODULE=retainer.imports.tests.helpdesk_site \
        python -c "from retainer.imports.tests.helpdesk_site import main; main()" TICKETS
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SECRET_KEY = "helpdesk-site-" + "x" * 50
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("HD_DB", ":memory:")}
}
MEDIA_ROOT = os.environ.get("HD_MEDIA", "/tmp/helpdesk-media")  # noqa: S108 - overridden
USE_TZ = True
SITE_ID = 1
HELPDESK_TEAMS_MODE_ENABLED = False

#: One PNG pixel: an attachment type Retainer accepts.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def build(tickets: int) -> dict[str, int]:
    """Queues, staff, customers, ``tickets`` tickets with two follow-ups each, an
    attachment on every tenth, KB items, and rows an importer must reject: a ticket
    without a valid submitter address and an attachment whose file is missing."""
    import datetime as dt

    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone
    from helpdesk.models import (
        FollowUp,
        FollowUpAttachment,
        KBCategory,
        KBItem,
        Queue,
        Ticket,
    )

    call_command("migrate", verbosity=0)
    queues = [
        Queue.objects.create(title="Billing desk", slug="billing-desk"),
        Queue.objects.create(title="Platform", slug="platform"),
    ]
    agents = [
        User.objects.create(username="amy", email="amy@vendor.test", is_staff=True),
        User.objects.create(username="bob", email="bob@vendor.test", is_staff=True),
        User.objects.create(username="nomail", email="", is_staff=True),
    ]
    customer = User.objects.create(username="cora", email="cora@client-1.test")
    start = timezone.now() - dt.timedelta(days=400)
    rows = []
    for n in range(tickets):
        opened = start + dt.timedelta(minutes=37 * n)
        rows.append(
            Ticket(
                title=f"Ticket {n}: the export stops at row {n % 97}",
                queue=queues[n % 2],
                created=opened,
                modified=opened + dt.timedelta(hours=5),
                submitter_email=(
                    "not-an-address" if n == 7 else f"user{n % 300}@client-{n % 40}.test"
                ),
                assigned_to=agents[n % 2] if n % 3 else None,
                # Mostly history; one in twenty open or reopened (the backlog).
                status=1 if n % 40 == 4 else 2 if n % 40 == 24 else [4, 4, 3, 4, 5][n % 5],
                description=f"Since the upgrade, exporting {n} rows fails.",
                priority=1 + n % 5,
                secret_key=f"key{n}",
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=2000)
    followups = []
    for ticket in Ticket.objects.order_by("id"):
        followups.append(
            FollowUp(ticket=ticket, date=ticket.created + dt.timedelta(hours=1),
                     title="Answer", comment="Please try the new release.", public=True,
                     user=agents[ticket.pk % 3])
        )  # fmt: skip
        followups.append(
            FollowUp(ticket=ticket, date=ticket.created + dt.timedelta(hours=2),
                     title="Reply", comment="That fixed it, thanks.", public=True,
                     user=customer if ticket.pk % 2 else None)
        )  # fmt: skip
        if ticket.pk % 5 == 0:
            followups.append(
                FollowUp(ticket=ticket, date=ticket.created + dt.timedelta(hours=3),
                         title="Note", comment="Internal: watch this customer.", public=False,
                         user=agents[0])
            )  # fmt: skip
    FollowUp.objects.bulk_create(followups, batch_size=2000)
    attachments = 0
    for number, followup in enumerate(FollowUp.objects.filter(title="Answer").order_by("id")):
        if number % 10:
            continue
        attachment = FollowUpAttachment(
            followup=followup, filename=f"screen-{number}.png", mime_type="image/png", size=len(PNG)
        )
        attachment.file.save(f"screen-{number}.png", ContentFile(PNG), save=True)
        attachments += 1
    lost = FollowUpAttachment.objects.order_by("id").first()
    if lost is not None:
        Path(lost.file.path).unlink()  # the row stays, its file is gone
    public = KBCategory.objects.create(
        name="howto", title="How to", slug="how-to", description="Guides", public=True
    )
    private = KBCategory.objects.create(
        name="internal", title="Internal", slug="internal", description="Staff", public=False
    )
    for n in range(6):
        KBItem.objects.create(
            category=public if n % 2 else private, title=f"How to export {n}",
            question=f"How do I export {n} rows?", answer="Use the export button.",
            enabled=n != 5,
        )  # fmt: skip
    return {
        "tickets": tickets,
        "followups": len(followups),
        "attachments": attachments,
        "kbitems": 6,
    }


def make(
    folder: Path, tickets: int, *, python: str = sys.executable
) -> tuple[Path, Path, dict[str, int]]:
    """A django-helpdesk SQLite database and media folder in ``folder``, built by
    :func:`build` in a process of its own (one settings module per Django process);
    returns their paths and the counts made. Used by the tests and ``bench/import.py``."""
    import json
    import subprocess

    db, media = folder / "helpdesk.sqlite3", folder / "media"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "HD_DB": str(db),
        "HD_MEDIA": str(media),
        "DJANGO_SETTINGS_MODULE": __name__,
    }
    made = subprocess.run(
        [python, "-c", f"from {__name__} import main; main()", str(tickets)],
        cwd=Path(__file__).resolve().parents[3], env=env, capture_output=True, text=True,
        check=False, timeout=900,
    )  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"building the django-helpdesk database failed:\n{made.stderr}")
    return db, media, json.loads(made.stdout.strip().splitlines()[-1])


def main() -> None:
    """``TICKETS`` from the command line (the database and media folder come from the
    environment, read when this module is loaded as settings); prints the counts."""
    import json

    import django

    django.setup()
    print(json.dumps(build(int(sys.argv[1]))))
