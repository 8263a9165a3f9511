"""A real IMAP server for tests and benchmarks: Dovecot on a free loopback port, from a
throwaway configuration of its own (no TLS, one user ``support`` with a maildir).

``running_dovecot()`` starts it and stops it; the tests' ``dovecot`` fixture and
``bench/mail_burst.py`` share it. As root Dovecot runs its processes as the Debian
package's ``dovecot``/``dovenull`` users, which it requires.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class DovecotMissing(RuntimeError):
    """Dovecot is not installed (Debian: ``apt-get install dovecot-imapd``)."""


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
    """How to reach the running server, and two helpers of a mail client."""

    host: str
    port: int
    user: str
    password: str

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        from imap_tools import MailBoxUnencrypted

        with MailBoxUnencrypted(self.host, self.port).login(self.user, self.password) as box:
            box.append(raw, folder)

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        """APPEND every message over one connection."""
        from imap_tools import MailBoxUnencrypted

        with MailBoxUnencrypted(self.host, self.port).login(self.user, self.password) as box:
            for raw in messages:
                box.append(raw, folder)

    def unseen(self, folder: str = "INBOX") -> list[str]:
        from imap_tools import AND, MailBoxUnencrypted

        server = MailBoxUnencrypted(self.host, self.port)
        with server.login(self.user, self.password, initial_folder=folder):
            return list(server.uids(AND(seen=False)))


def free_port() -> int:
    # aiosmtpd's Controller cannot take port 0 (its self-check connects to it).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _configure(root: Path, imap: Imap) -> None:
    root.chmod(0o755)  # the login processes run as another user when we are root
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
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


def _wait_listening(process: subprocess.Popen[bytes], root: Path, imap: Imap) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection((imap.host, imap.port), timeout=1).close()
            return
        except OSError:
            log = root / "dovecot.log"
            if process.poll() is not None:
                raise RuntimeError(log.read_text() if log.exists() else "Dovecot exited") from None
            if time.monotonic() > deadline:
                raise RuntimeError("Dovecot did not start") from None
            time.sleep(0.05)


@contextmanager
def running_dovecot() -> Iterator[Imap]:
    """Dovecot on a free loopback port until the block ends; ``DovecotMissing`` when it
    is not installed."""
    binary = shutil.which("dovecot") or shutil.which("/usr/sbin/dovecot")
    if binary is None:
        raise DovecotMissing("Dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="retainer-imap-"))
    imap = Imap("127.0.0.1", free_port(), "support", "imap-secret")
    _configure(root, imap)
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")])  # noqa: S603
    try:
        _wait_listening(process, root, imap)
        yield imap
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)
