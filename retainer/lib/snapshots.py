"""Per-process copies of rarely changed reference data, reloaded as soon as it changes.

The catalog and the SLA targets are read on every intake and change a few times a
year. Each group of tables has a row in ``lib_generation`` whose token the database
replaces with a random number on every change of those tables (triggers installed by
``generation_triggers``, in the writing transaction, so a raw query, a bulk update or
another process is seen too). A reader compares that token with the one its copy was
loaded under: one primary-key read instead of the queries the copy saves.

Tokens are random rather than counted, so a change that is rolled back never hands
its token to a later change. Without a token row (a database just flushed), nothing
is kept and every read loads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from django.db import connection, migrations

T = TypeVar("T")

#: Per thread: the tokens already read inside ``tokens_read_once()`` (``None`` outside).
_local = threading.local()


def current_token(name: str) -> int | None:
    read: dict[str, int | None] | None = getattr(_local, "read", None)
    if read is not None and name in read:
        return read[name]
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM lib_generation WHERE name = %s", [name])
        row = cursor.fetchone()
    token = None if row is None else int(row[0])
    if read is not None:
        read[name] = token
    return token


@contextlib.contextmanager
def tokens_read_once() -> Iterator[None]:
    """Inside the block each group's token is read at most once: for code that asks the
    same snapshot many times within one step of one transaction (the outbox asking
    every subscriber about every event an action wrote)."""
    outer = getattr(_local, "read", None)
    _local.read = {} if outer is None else outer
    try:
        yield
    finally:
        _local.read = outer


class Snapshot(Generic[T]):
    """``load()``'s result, kept per process while the group's token is unchanged."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name = name
        self.load = load
        self._kept: tuple[int, T] | None = None

    def get(self) -> T:
        # The token is read before the data: a change committed in between is newer
        # than the token says, and the next read reloads it.
        token = current_token(self.name)
        kept = self._kept
        if token is not None and kept is not None and kept[0] == token:
            return kept[1]
        value = self.load()
        self._kept = None if token is None else (token, value)
        return value


# --- The triggers (used by migrations) ------------------------------------------------------

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION lib_new_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lib_generation (name, token)
    VALUES (TG_ARGV[0], (random() * 9007199254740991)::bigint)
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$;
"""


def _statements(vendor: str, name: str, table: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        trigger = f"{table}_generation"
        return (
            [
                f"CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION lib_new_generation('{name}');"
            ],
            [f"DROP TRIGGER IF EXISTS {trigger} ON {table};"],
        )
    if vendor == "sqlite":
        ops = ("INSERT", "UPDATE", "DELETE")
        return (
            [
                # An UPDATE, not an upsert: SQLite hands the outer statement's conflict
                # policy to the trigger's, so under Django's INSERT OR IGNORE (adding to
                # a many-to-many) an INSERT OR REPLACE would be ignored.
                f"CREATE TRIGGER {table}_generation_{op.lower()} AFTER {op} ON {table} "  # noqa: S608 - constants from migrations
                f"BEGIN UPDATE lib_generation SET token = random() WHERE name = '{name}'; END;"
                for op in ops
            ],
            [f"DROP TRIGGER IF EXISTS {table}_generation_{op.lower()};" for op in ops],
        )
    raise RuntimeError(f"No generation triggers for the {vendor} database.")


def generation_triggers(name: str, tables: list[str]) -> migrations.RunPython:
    """A migration operation that makes every change of ``tables`` renew ``name``'s token,
    and gives the group its first token."""

    def create(apps: object, schema_editor: object) -> None:
        execute = schema_editor.execute  # type: ignore[attr-defined]
        vendor = schema_editor.connection.vendor  # type: ignore[attr-defined]
        if vendor == "postgresql":
            execute(_PG_FUNCTION, params=None)
        for table in tables:
            for sql in _statements(vendor, name, table)[0]:
                execute(sql, params=None)
        random = "(random() * 9007199254740991)::bigint" if vendor == "postgresql" else "random()"
        execute(
            f"INSERT INTO lib_generation (name, token) VALUES ('{name}', {random}) "  # noqa: S608 - constants
            "ON CONFLICT (name) DO NOTHING;",
            params=None,
        )

    def drop(apps: object, schema_editor: object) -> None:
        vendor = schema_editor.connection.vendor  # type: ignore[attr-defined]
        for table in tables:
            for sql in _statements(vendor, name, table)[1]:
                schema_editor.execute(sql, params=None)  # type: ignore[attr-defined]
        schema_editor.execute(  # type: ignore[attr-defined]
            "DELETE FROM lib_generation WHERE name = %s", params=[name]
        )

    return migrations.RunPython(create, drop)


def reinstall_generation_triggers(
    name: str, tables: list[str], *, backwards: bool = False
) -> migrations.RunPython:
    """A migration operation that installs ``tables``' triggers again, after operations
    that may have dropped them: SQLite rebuilds a table to add a column with a foreign key
    or to change one, and the rebuilt table has no triggers. Put one at the end of the
    migration, and one with ``backwards=True`` at its start for when it is unapplied."""

    def reinstall(apps: object, schema_editor: object) -> None:
        vendor = schema_editor.connection.vendor  # type: ignore[attr-defined]
        for table in tables:
            drop, create = _statements(vendor, name, table)[1], _statements(vendor, name, table)[0]
            for sql in [*drop, *create]:
                schema_editor.execute(sql, params=None)  # type: ignore[attr-defined]

    noop = migrations.RunPython.noop
    return (
        migrations.RunPython(noop, reinstall)
        if backwards
        else migrations.RunPython(reinstall, noop)
    )
