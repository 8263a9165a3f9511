"""Reading another application's database, read-only, on SQLite or PostgreSQL.

The source is a URL: ``sqlite:////abs/path/db.sqlite3`` (or a plain file path) or
``postgres://user:password@host:port/name``. Only ``SELECT`` statements are sent, and
SQLite files are opened read-only, so an import never changes the system it reads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from retainer.lib.errors import InvalidInput


class Source:
    """A read-only connection to the database an import reads."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        if parts.scheme in ("postgres", "postgresql"):
            import psycopg

            try:
                self._conn: Any = psycopg.connect(url, autocommit=True)
            except psycopg.Error as exc:
                raise InvalidInput("source_unreachable", f"Cannot open {url}: {exc}") from None
            self._conn.read_only = True
            return
        # sqlite:////abs/path (the path is everything after "sqlite://"), or a file path.
        path = Path("/" + parts.path.lstrip("/") if parts.scheme == "sqlite" else url).resolve()
        if not path.is_file():
            raise InvalidInput("source_not_found", f"There is no SQLite database at {path}.")
        self._conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)

    def tables(self) -> set[str]:
        if isinstance(self._conn, sqlite3.Connection):
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        return {row[0] for row in self._conn.execute(sql).fetchall()}

    def rows(
        self, sql: str, params: Sequence[Any] = (), *, batch: int = 2000
    ) -> Iterator[dict[str, Any]]:
        """The rows of ``sql`` as dicts; ``%s`` marks each parameter on both engines."""
        cursor = self._conn.cursor()
        if isinstance(self._conn, sqlite3.Connection):
            sql = sql.replace("%s", "?")
        cursor.execute(sql, tuple(params))
        names = [column[0] for column in cursor.description]
        while chunk := cursor.fetchmany(batch):
            for row in chunk:
                yield dict(zip(names, row, strict=True))

    def count(self, sql: str) -> int:
        return int(self._conn.execute(sql).fetchone()[0])

    def close(self) -> None:
        self._conn.close()
