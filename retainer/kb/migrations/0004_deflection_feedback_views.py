"""Suggestion sessions and their records (deflection), article feedback and article views:
measurement rows, written once. A trigger refuses ``UPDATE`` on each table on both
databases (deletes are left to the model's refusal, so a test database can be flushed).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLES = ("kb_suggestionsession", "kb_suggestionrecord", "kb_articlefeedback", "kb_articleview")


def _statements(vendor, *, forward):
    out = []
    for table in TABLES:
        if vendor == "sqlite":
            out.append(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                if forward
                else f"DROP TRIGGER IF EXISTS {table}_no_update"
            )
        elif vendor == "postgresql":
            # kb_append_only() comes from 0002_article_search_index.
            out.append(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kb_append_only()"
                if forward
                else f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}"
            )
        else:
            raise RuntimeError(f"No append-only trigger for the {vendor} database.")
    return out


def create_triggers(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in _statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_fewer_indexes_on_intake_tables"),
        ("kb", "0003_article_embeddings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SuggestionSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ArticleFeedback",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("helpful", models.BooleanField()),
                ("comment", models.CharField(blank=True, max_length=1000)),
                ("visitor", models.CharField(max_length=64)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="feedback",
                        to="kb.article",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "visitor"), name="kb_feedback_once_per_visitor"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ArticleView",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("visitor", models.CharField(max_length=64)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="views",
                        to="kb.article",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("article", "day", "visitor"), name="kb_view_once_per_day"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SuggestionRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("impression", "Shown"),
                            ("click", "Opened"),
                            ("solved", "Solved the problem"),
                            ("opened", "Opened the case anyway"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "article",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="suggestion_records",
                        to="kb.article",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="records",
                        to="kb.suggestionsession",
                    ),
                ),
            ],
            options={
                "ordering": ["session", "created_at", "id"],
                "indexes": [
                    models.Index(fields=["article", "kind"], name="kb_suggesti_article_a0fb63_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("article__isnull", False)),
                        fields=("session", "article", "kind"),
                        name="kb_suggestion_record_once",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind__in", ["solved", "opened"])),
                        fields=("session", "kind"),
                        name="kb_suggestion_outcome_once",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind", "opened"), ("article__isnull", False), _connector="OR"
                        ),
                        name="kb_suggestion_record_article",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
