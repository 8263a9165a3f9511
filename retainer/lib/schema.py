"""Schema changes written by hand where Django's own would cost too much.

Removing ``db_index`` from a field makes SQLite's schema editor copy the whole table
into a new one, which drops the triggers the table carries (the ledger's append-only
guard, the generation tokens of ``lib/snapshots.py``) and, on a large database, takes
minutes. Dropping the index itself is what the change means.
"""

from __future__ import annotations

from django.db import migrations


def drop_indexes(indexes: dict[str, tuple[str, str]]) -> migrations.RunSQL:
    """Drop single-column indexes by name (``{name: (table, column)}``), with
    PostgreSQL's ``_like`` companion of a text column; reversed by creating them again."""
    drop = []
    for name in indexes:
        drop += [f"DROP INDEX IF EXISTS {name};", f"DROP INDEX IF EXISTS {name}_like;"]
    create = [
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column});"
        for name, (table, column) in indexes.items()
    ]
    return migrations.RunSQL(tuple(drop), reverse_sql=tuple(create))
