"""Fetching mail that is not piped in: spool folders now, IMAP next.

A spool mailbox is a folder: every file in it is one message (as ``.eml``). The periodic
job stores each file (``do_receive_mail``), then moves it to ``done/`` and processes the
row; a worker killed between the two finds the file again and the stored row dedupes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from retainer.mail.actions import do_receive_mail, process_inbound, process_pending
from retainer.mail.choices import MailboxKind
from retainer.mail.models import Mailbox

logger = logging.getLogger(__name__)


def poll_spool(mailbox: Mailbox) -> int:
    """Take every message file in the mailbox's folder; returns how many were new."""
    folder = Path(mailbox.spool_dir)
    if not folder.is_dir():
        logger.warning("Spool folder %s of mailbox %s does not exist", folder, mailbox.name)
        return 0
    done = folder / "done"
    new = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        row, created = do_receive_mail(mailbox, path.read_bytes())
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
        process_inbound(row.pk)
        new += created
    return new


def poll_mailboxes() -> int:
    """Every active spool mailbox, then any message left ``received``; returns how many
    messages were new. (IMAP mailboxes are polled from the next release on.)"""
    new = sum(
        poll_spool(mailbox)
        for mailbox in Mailbox.objects.filter(is_active=True, kind=MailboxKind.SPOOL)
    )
    process_pending()
    return new
