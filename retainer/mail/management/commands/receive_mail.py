"""``manage.py receive_mail --mailbox NAME < message``: the MTA pipe (Postfix, Exim).

Exit codes are the ones an MTA understands (sysexits.h): 0 when the message is stored
(accepted, whatever processing then decides), 75 (EX_TEMPFAIL) when it could not be
stored now — the MTA keeps it and delivers it again, and the stored row dedupes a repeat
— and 67 (EX_NOUSER) for a mailbox that does not exist or is inactive.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from retainer.mail.actions import do_receive_mail, process_inbound
from retainer.mail.models import Mailbox

EX_OK, EX_NOUSER, EX_TEMPFAIL = 0, 67, 75


class Command(BaseCommand):
    help = "Take one e-mail message on standard input for a mailbox (the MTA pipe)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", required=True, help="The mailbox's name.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            mailbox = Mailbox.objects.filter(name=options["mailbox"], is_active=True).first()
        except DatabaseError as exc:
            self.stderr.write(f"receive_mail: database unavailable ({exc}); try again later")
            sys.exit(EX_TEMPFAIL)
        if mailbox is None:
            self.stderr.write(f"receive_mail: no active mailbox {options['mailbox']!r}")
            sys.exit(EX_NOUSER)
        try:
            inbound, _created = do_receive_mail(mailbox, raw)
        except DatabaseError as exc:
            self.stderr.write(f"receive_mail: could not store the message ({exc}); try again later")
            sys.exit(EX_TEMPFAIL)
        try:
            process_inbound(inbound.pk)
        except DatabaseError as exc:
            # Stored: accepted. The periodic job processes it once the database answers.
            self.stderr.write(f"receive_mail: stored, processing postponed ({exc})")
        sys.exit(EX_OK)
