"""The full-text index of articles, kept by the database itself, and the append-only
rule of revisions.

SQLite: an FTS5 external-content table over ``kb_article`` (title, summary, body, tags)
kept by AFTER INSERT/UPDATE/DELETE triggers, so ``bulk_create``, ``QuerySet.update()`` and
raw SQL all keep it right. PostgreSQL: a generated, stored ``tsvector`` column (title
weight A, summary B, body and tags C) with a GIN index; not a model field, because the
same model serves SQLite. Revisions: a trigger refuses ``UPDATE`` on both databases
(deletes are left to the model's refusal, so a test database can still be flushed).
"""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE kb_article_fts USING fts5(
        title, summary, body, tags, content='kb_article', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER kb_article_fts_ai AFTER INSERT ON kb_article BEGIN
        INSERT INTO kb_article_fts(rowid, title, summary, body, tags)
        VALUES (new.id, new.title, new.summary, new.body, new.tags); END""",
    """CREATE TRIGGER kb_article_fts_ad AFTER DELETE ON kb_article BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, title, summary, body, tags)
        VALUES ('delete', old.id, old.title, old.summary, old.body, old.tags); END""",
    """CREATE TRIGGER kb_article_fts_au AFTER UPDATE OF title, summary, body, tags ON kb_article
        BEGIN
        INSERT INTO kb_article_fts(kb_article_fts, rowid, title, summary, body, tags)
        VALUES ('delete', old.id, old.title, old.summary, old.body, old.tags);
        INSERT INTO kb_article_fts(rowid, title, summary, body, tags)
        VALUES (new.id, new.title, new.summary, new.body, new.tags); END""",
    "INSERT INTO kb_article_fts(kb_article_fts) VALUES ('rebuild')",
    """CREATE TRIGGER kb_articlerevision_no_update BEFORE UPDATE ON kb_articlerevision
        BEGIN SELECT RAISE(ABORT, 'kb_articlerevision rows are append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS kb_articlerevision_no_update",
    "DROP TRIGGER IF EXISTS kb_article_fts_au",
    "DROP TRIGGER IF EXISTS kb_article_fts_ad",
    "DROP TRIGGER IF EXISTS kb_article_fts_ai",
    "DROP TABLE IF EXISTS kb_article_fts",
]

POSTGRESQL = [
    """ALTER TABLE kb_article ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(summary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(body, '')), 'C')
        || setweight(to_tsvector('english', replace(coalesce(tags, ''), ',', ' ')), 'C')
    ) STORED""",
    "CREATE INDEX kb_article_search_gin ON kb_article USING gin (search)",
    """CREATE OR REPLACE FUNCTION kb_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$""",
    """CREATE TRIGGER kb_articlerevision_no_update BEFORE UPDATE ON kb_articlerevision
        FOR EACH ROW EXECUTE FUNCTION kb_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS kb_articlerevision_no_update ON kb_articlerevision",
    "DROP FUNCTION IF EXISTS kb_append_only()",
    "DROP INDEX IF EXISTS kb_article_search_gin",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS search",
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
        ("kb", "0001_articles_categories_revisions"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
