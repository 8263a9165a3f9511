"""Mail fixtures: a product Acme has a contract for, a mailbox opening cases on it, a real
SMTP server (aiosmtpd on a free loopback port) and helpers to feed and deliver mail."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from conftest import require_program
from retainer.cases.models import Case
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.lib import outbox
from retainer.mail import actions
from retainer.mail.models import InboundMessage, Mailbox

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class MailDesk:
    product: Product
    mailbox: Mailbox


@pytest.fixture
def mail_desk(cast, settings, tmp_path) -> MailDesk:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEFAULT_FROM_EMAIL = "Support <support@vendor.test>"
    settings.RETAINER_BASE_URL = "https://support.vendor.test"
    product = catalog_actions.do_save_product(
        None,
        actor=cast.admin,
        name="Ledgerline",
        code="ledgerline",
        list_price=Decimal(1000),
        currency="EUR",
    )
    for org in (cast.acme, cast.globex):
        contract_actions.do_create_contract(
            organization=org,
            preset=Preset.SUBSCRIPTION,
            covered_products=[product],
            start_date=timezone.localdate() - dt.timedelta(days=30),
            actor=cast.admin,
        )
    mailbox = actions.do_save_mailbox(
        None,
        values={"name": "support", "address": "support@vendor.test", "product": product},
        actor=cast.admin,
    )
    return MailDesk(product=product, mailbox=mailbox)


def message(
    *,
    sender: str = "Carl Contact <carl@acme.test>",
    subject: str = "Printer driver crashes",
    body: str = "The export crashes on start.\n\nCarl",
    message_id: str | None = None,
    **headers: str,
) -> bytes:
    """A plain text message as a mail client writes it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@vendor.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{abs(hash((sender, subject, body)))}@client.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def feed(mailbox: Mailbox, raw: bytes) -> InboundMessage:
    """Receive and process one message, as the pipe command does."""
    row, _created = actions.do_receive_mail(mailbox, raw)
    actions.process_inbound(row.pk)
    row.refresh_from_db()
    return row


def deliver() -> int:
    """Run the outbox (event subscribers) and send what is due; returns e-mails sent."""
    outbox.dispatch()
    return actions.send_due_mail(now=timezone.now() + dt.timedelta(seconds=1))


@dataclass
class Sink:
    """What the SMTP server received: one entry per SMTP transaction."""

    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)

    def parsed(self) -> list[EmailMessage]:
        return [message_from_bytes(m["data"], policy=policy.default) for m in self.messages]


def _free_port() -> int:
    # aiosmtpd's Controller cannot take port 0 (its self-check connects to it).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(settings) -> Iterator[Sink]:
    """A real SMTP server on a free loopback port; Django's SMTP backend talks to it."""
    from aiosmtpd.controller import Controller

    sink = Sink("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "data": envelope.original_content or envelope.content,
                }
            )
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


def case_of(row: InboundMessage) -> Case:
    """The case a processed message opened or reached (fails the test when none)."""
    assert row.case is not None, (row.status, row.reason)
    return row.case


def opened(mailbox: Mailbox, raw: bytes) -> Case:
    """Feed a message that must open (or reach) a case, and return the case."""
    return case_of(feed(mailbox, raw))


# --- A real IMAP server --------------------------------------------------------------------

DOVECOT_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Imap:
    host: str
    port: int
    user: str
    password: str

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        from imap_tools import MailBoxUnencrypted

        with MailBoxUnencrypted(self.host, self.port).login(self.user, self.password) as box:
            box.append(raw, folder)

    def unseen(self, folder: str = "INBOX") -> list[str]:
        from imap_tools import AND, MailBoxUnencrypted

        server = MailBoxUnencrypted(self.host, self.port)
        with server.login(self.user, self.password, initial_folder=folder):
            return list(server.uids(AND(seen=False)))


@pytest.fixture
def dovecot() -> Iterator[Imap]:
    """Dovecot on a free loopback port, from a configuration of its own (no TLS, one user
    ``support`` with a maildir). As root it runs its processes as the Debian package's
    ``dovecot``/``dovenull`` users, which it requires."""
    import os
    import pwd
    import shutil
    import subprocess
    import tempfile
    import time

    binary = shutil.which("/usr/sbin/dovecot") or require_program(
        "dovecot", "dovecot-imapd", "test IMAP polling"
    )
    root = Path(tempfile.mkdtemp(prefix="retainer-imap-"))
    root.chmod(0o755)  # the login processes run as another user when we are root
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    imap = Imap("127.0.0.1", _free_port(), "support", "imap-secret")
    (root / "users").write_text(f"{imap.user}:{{PLAIN}}{imap.password}::::::\n")
    if os.getuid() == 0:
        internal, login = pwd.getpwnam("dovecot"), "dovenull"
        for sub in ("mail", "home", "state"):
            os.chown(root / sub, internal.pw_uid, internal.pw_gid)
        uid, gid, names = internal.pw_uid, internal.pw_gid, ("dovecot", "dovecot", login)
    else:
        me = pwd.getpwuid(os.getuid())
        uid, gid, names = me.pw_uid, me.pw_gid, (me.pw_name, me.pw_name, me.pw_name)
    (root / "dovecot.conf").write_text(
        DOVECOT_CONFIG.format(
            root=root, uid=uid, gid=gid, internal=names[0], group=names[1], login=names[2],
            port=imap.port,
        )
    )  # fmt: skip
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((imap.host, imap.port), timeout=1).close()
                break
            except OSError:
                log = root / "dovecot.log"
                assert process.poll() is None, log.read_text() if log.exists() else "no log"
                assert time.monotonic() < deadline, "Dovecot did not start"
                time.sleep(0.05)
        yield imap
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)
