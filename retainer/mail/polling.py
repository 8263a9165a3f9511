"""Fetching mail that is not piped in: spool folders and IMAP mailboxes.

Both follow the inbound rule: store first, then process. A spool mailbox is a folder:
every file in it is one message (as ``.eml``); the periodic job stores each file
(``do_receive_mail``), moves it to ``done/`` and processes the row. An IMAP mailbox is
polled for its unseen messages (``imap-tools``): each is fetched without marking it,
stored, flagged ``\\Seen`` on the server, then processed. A worker killed between the
store and the flag fetches the message again on the next poll, and the stored row
(unique per Message-ID and mailbox) dedupes it.

A mailbox that cannot be polled (server down, wrong password, missing folder) is logged
and noted on the mailbox for the console; the other mailboxes are polled all the same.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
from pathlib import Path

from django.conf import settings
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags
from imap_tools.errors import ImapToolsError

from retainer.mail.actions import do_note_poll, do_receive_mail, process_inbound, process_pending
from retainer.mail.actions.inbound import TOO_LARGE_KEPT
from retainer.mail.choices import MailboxKind
from retainer.mail.models import Mailbox

logger = logging.getLogger(__name__)

#: Unseen messages taken from one IMAP mailbox per poll (the next poll takes the rest).
IMAP_BATCH = 200
#: Seconds before an IMAP server that does not answer counts as down.
IMAP_TIMEOUT = 30
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class PollError(Exception):
    """A mailbox's configuration or server stops its poll (the message says why)."""


# --- Spool folders ---------------------------------------------------------------------------


def poll_spool(mailbox: Mailbox) -> int:
    """Take every message file in the mailbox's folder; returns how many were new."""
    folder = Path(mailbox.spool_dir)
    if not folder.is_dir():
        raise PollError(f"The spool folder {folder} does not exist.")
    done = folder / "done"
    new = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        row, created = do_receive_mail(mailbox, path.read_bytes())
        done.mkdir(exist_ok=True)
        path.replace(done / path.name)
        process_inbound(row.pk)
        new += created
    return new


# --- IMAP ------------------------------------------------------------------------------------


def poll_imap(mailbox: Mailbox) -> int:
    """Take the mailbox folder's unseen messages (at most ``IMAP_BATCH``); returns how many
    were new."""
    server: BaseMailBox
    if mailbox.imap_tls:
        server = MailBox(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)
    else:
        server = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=IMAP_TIMEOUT)
    new = 0
    with server.login(mailbox.imap_user, _password(mailbox), initial_folder=mailbox.imap_folder):
        for uid in server.uids(AND(seen=False))[:IMAP_BATCH]:
            raw, size = _fetch(server, uid)
            row, created = do_receive_mail(mailbox, raw, size=size)
            server.flag(uid, MailMessageFlags.SEEN, True)
            process_inbound(row.pk)
            new += created
    return new


def _password(mailbox: Mailbox) -> str:
    if not mailbox.password_env:
        raise PollError("The mailbox names no environment variable for its password.")
    password = os.environ.get(mailbox.password_env)
    if password is None:
        raise PollError(f"The environment variable {mailbox.password_env} is not set.")
    return password


def _fetch(server: BaseMailBox, uid: str) -> tuple[bytes, int]:
    """One message's bytes, unmarked, and its size; of a message over the size limit only
    its beginning (enough to answer the sender)."""
    status, data = server.client.uid("FETCH", uid, "(RFC822.SIZE)")
    found = _SIZE.search(b" ".join(item for item in data if isinstance(item, bytes)))
    if status != "OK" or found is None:
        raise PollError(f"The server did not tell the size of message {uid}.")
    size = int(found.group(1))
    whole = size <= settings.RETAINER_MAIL_MAX_BYTES
    part = "BODY.PEEK[]" if whole else f"BODY.PEEK[]<0.{TOO_LARGE_KEPT}>"
    status, data = server.client.uid("FETCH", uid, f"({part})")
    raw = next((item[1] for item in data if isinstance(item, tuple)), None)
    if status != "OK" or not isinstance(raw, bytes):
        raise PollError(f"The server did not return message {uid}.")
    return raw, size


# --- Every mailbox -----------------------------------------------------------------------------

POLLERS = {MailboxKind.SPOOL: poll_spool, MailboxKind.IMAP: poll_imap}


def poll_mailboxes() -> int:
    """Every active spool and IMAP mailbox, then any message left ``received``; returns
    how many messages were new."""
    new = 0
    for mailbox in Mailbox.objects.filter(is_active=True, kind__in=list(POLLERS)):
        error = ""
        try:
            new += POLLERS[MailboxKind(mailbox.kind)](mailbox)
        except (PollError, ImapToolsError, imaplib.IMAP4.error, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("Polling mailbox %s failed: %s", mailbox.name, error)
        do_note_poll(mailbox, error=error)
    process_pending()
    return new
