"""Article vectors for semantic search, forgotten by the database when the text changes.

``kb_articleembedding`` holds one vector per article. A trigger on ``kb_article`` deletes
an article's vector when its title, summary or body changes (an action, a bulk update or
raw SQL alike), so search never ranks with a vector of older text; the embedding job
writes a new one. Every change of the vectors renews the ``kb_vectors`` generation token,
so each process's copy of the vectors (``kb.semantic``) reloads at once. On SQLite, a
later migration that rebuilds ``kb_article`` or ``kb_articleembedding`` must create these
triggers again.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from retainer.lib.snapshots import generation_triggers

SQLITE = [
    """CREATE TRIGGER kb_article_embedding_stale AFTER UPDATE OF title, summary, body
        ON kb_article
        WHEN old.title IS NOT new.title OR old.summary IS NOT new.summary
             OR old.body IS NOT new.body
        BEGIN DELETE FROM kb_articleembedding WHERE article_id = new.id; END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS kb_article_embedding_stale"]
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION kb_article_embedding_stale() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM kb_articleembedding WHERE article_id = NEW.id;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER kb_article_embedding_stale AFTER UPDATE OF title, summary, body
        ON kb_article FOR EACH ROW
        WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
              OR OLD.body IS DISTINCT FROM NEW.body)
        EXECUTE FUNCTION kb_article_embedding_stale()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS kb_article_embedding_stale ON kb_article",
    "DROP FUNCTION IF EXISTS kb_article_embedding_stale()",
]


def _run(schema_editor, statements):
    for sql in statements[schema_editor.connection.vendor]:
        schema_editor.execute(sql, params=None)


def create_trigger(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def drop_trigger(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0002_article_search_index"),
        ("lib", "0002_generations"),
    ]

    operations = [
        migrations.CreateModel(
            name="ArticleEmbedding",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("vector", models.BinaryField()),
                ("model", models.CharField(max_length=60)),
                ("text_hash", models.CharField(help_text="SHA-256 of the embedded text.", max_length=64)),
                ("computed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("article", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="embedding", to="kb.article")),
            ],
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        generation_triggers("kb_vectors", ["kb_articleembedding"]),
    ]
