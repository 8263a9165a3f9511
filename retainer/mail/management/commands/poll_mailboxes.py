"""``manage.py poll_mailboxes``: take the spool folders' messages now (the periodic job
does the same every minute) and process any message left unprocessed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from retainer.mail.polling import poll_mailboxes


class Command(BaseCommand):
    help = "Take new messages from every spool mailbox and process pending ones."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{poll_mailboxes()} new message(s).")
