"""``manage.py send_mail``: send every queued e-mail that is due now (the periodic job does
the same every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from retainer.mail.actions import send_due_mail


class Command(BaseCommand):
    help = "Send the queued e-mails that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{send_due_mail()} e-mail(s) sent.")
