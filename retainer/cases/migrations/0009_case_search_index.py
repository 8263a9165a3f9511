"""The full-text index of cases, kept by the database itself (``cases.search``).

SQLite: FTS5 external-content tables, each kept by AFTER INSERT/UPDATE/DELETE triggers
on its table, so ``bulk_create``, ``QuerySet.update()`` and raw SQL all keep them right:

- ``cases_case_fts`` over ``cases_case`` (subject, description);
- ``cases_casemessage_fts`` over ``cases_casemessage`` (body), with the message's case
  and visibility (``is_internal``) as UNINDEXED columns, so a customer's query leaves
  internal notes out inside the full-text query itself;
- ``cases_organization_fts`` over ``accounts_organization`` (name): the organization's
  name is matched at query time, so renaming an organization re-indexes one row, not
  every case it has.

No index is added to ``cases_case``: intake pays for the triggers' writes to the FTS
tables only.

PostgreSQL: generated, stored ``tsvector`` columns (``cases_case.search``: subject
weight A, description B; ``cases_casemessage.search``: body) with GIN indexes; not model
fields, because the same models serve SQLite. Organization names are matched with
``to_tsvector`` at query time (a small table, no index).
"""

# ruff: noqa: S608  (fixed identifiers of this module; no value from outside)
from django.db import migrations

TOKENIZE = "tokenize='porter unicode61 remove_diacritics 2'"


def _fts_table(name: str, columns: list[str], indexed: list[str], content: str) -> list[str]:
    """The FTS5 table ``name`` over ``content`` and the three triggers that keep it;
    ``indexed`` columns re-index the row when they change (all of ``columns`` are
    written, so the 'delete' command gets exactly the values that were indexed)."""
    declared = ", ".join(c if c in indexed else f"{c} UNINDEXED" for c in columns)
    cols = ", ".join(columns)
    old = ", ".join(f"old.{c}" for c in columns)
    new = ", ".join(f"new.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({declared}, content='{content}', "
        f"content_rowid='id', {TOKENIZE})",
        f"CREATE TRIGGER {name}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {name}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {name}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {name}_au AFTER UPDATE OF {cols} ON {content} BEGIN "
        f"INSERT INTO {name}({name}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {name}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
    ]


SQLITE = [
    *_fts_table("cases_case_fts", ["subject", "description"], ["subject", "description"],
                "cases_case"),
    *_fts_table("cases_casemessage_fts", ["body", "case_id", "is_internal"], ["body"],
                "cases_casemessage"),
    *_fts_table("cases_organization_fts", ["name"], ["name"], "accounts_organization"),
]  # fmt: skip
SQLITE_DROP = [
    f"DROP {kind} IF EXISTS {name}{suffix}"
    for name in ("cases_case_fts", "cases_casemessage_fts", "cases_organization_fts")
    for kind, suffix in (("TRIGGER", "_ai"), ("TRIGGER", "_ad"), ("TRIGGER", "_au"), ("TABLE", ""))
]

POSTGRESQL = [
    """ALTER TABLE cases_case ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(subject, '')), 'A')
        || setweight(to_tsvector('english', coalesce(description, '')), 'B')
    ) STORED""",
    "CREATE INDEX cases_case_search_gin ON cases_case USING gin (search)",
    """ALTER TABLE cases_casemessage ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english', coalesce(body, ''))
    ) STORED""",
    "CREATE INDEX cases_casemessage_search_gin ON cases_casemessage USING gin (search)",
]
POSTGRESQL_DROP = [
    "DROP INDEX IF EXISTS cases_casemessage_search_gin",
    "ALTER TABLE cases_casemessage DROP COLUMN IF EXISTS search",
    "DROP INDEX IF EXISTS cases_case_search_gin",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS search",
]


def _statements(vendor: str, *, forward: bool) -> list[str]:
    if vendor == "sqlite":
        return SQLITE if forward else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRESQL if forward else POSTGRESQL_DROP
    raise RuntimeError(f"No full-text index for the {vendor} database.")


def create_index(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(sql, params=None)


def drop_index(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_team_lead"),
        ("cases", "0008_fewer_indexes_on_intake_tables"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
