"""The database a benchmark's processes share: created for one run, removed after it.

- sqlite: a temporary database file under the run's folder (``RETAINER_VAR_DIR``).
- postgres: a new database ``retainer_<purpose>_<random>`` on the server of
  ``database_url`` or ``DATABASE_URL``, or on a throwaway cluster started with
  ``scripts/pg-throwaway.sh`` when neither is set or the run needs a cluster of its own
  (to restart it); dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Target:
    """The database the processes of one run share."""

    def __init__(
        self,
        db: str,
        database_url: str | None,
        tmp: Path,
        purpose: str = "contention",
        own_cluster: bool = False,
    ) -> None:
        """``own_cluster``: always start a throwaway cluster (one that may be restarted)."""
        self.db = db
        self.tmp = tmp
        self.cluster: Path | None = None
        self.server_url: str | None = None
        self.name = ""
        if db == "sqlite":
            self.env: dict[str, str | None] = {
                "DATABASE_URL": None,
                "RETAINER_VAR_DIR": str(tmp / "var"),
            }
            return
        server = None if own_cluster else database_url or os.environ.get("DATABASE_URL")
        if not server or not server.startswith(("postgres://", "postgresql://")):
            self.cluster = tmp / "pg"
            started = subprocess.run(
                ["bash", str(ROOT / "scripts/pg-throwaway.sh"), "start", str(self.cluster),
                 str(free_port())],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            server = started.stdout.strip().splitlines()[-1]
        self.name = f"retainer_{purpose}_{secrets.token_hex(4)}"
        self.server_url = server
        parts = urlsplit(server)
        url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.env = {"DATABASE_URL": url, "RETAINER_VAR_DIR": str(tmp / "var")}

    def _admin(self, sql: str) -> None:
        import psycopg

        assert self.server_url is not None
        parts = urlsplit(self.server_url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as c:
            c.execute(sql)

    def restart(self) -> None:
        """Restart the throwaway cluster (fast: sessions are cut, committed data stays)."""
        if self.cluster is None:
            raise RuntimeError("Only a throwaway cluster started for the run can be restarted.")
        subprocess.run(
            ["bash", str(ROOT / "scripts/pg-throwaway.sh"), "restart", str(self.cluster)],
            check=True,
            capture_output=True,
        )

    def close(self) -> None:
        if self.db == "postgres":
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                if self.cluster is not None:
                    subprocess.run(
                        ["bash", str(ROOT / "scripts/pg-throwaway.sh"), "stop", str(self.cluster)],
                        check=False,
                        capture_output=True,
                    )
