"""Knowledge articles, their categories and append-only revisions, and the app's history.

An article has a stable ``slug`` (made from its first title, kept on every edit) for the
help centre's URLs and an unguessable ``public_id`` for the API. Its text is Markdown,
rendered through ``lib.sanitize``. Full-text search reads an index the database keeps:
an FTS5 external-content table kept by triggers on SQLite, a generated ``tsvector``
column with a GIN index on PostgreSQL (migration ``0002_article_search_index``), so no
Python code keeps an index in sync.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from retainer.accounts.models import User
from retainer.cases.models import Case
from retainer.catalog.models import Product, Release
from retainer.contracts.choices import Tier
from retainer.contracts.models import AppendOnlyError, AppendOnlyModel
from retainer.kb.choices import ArticleStatus, KbEventType, SuggestionKind, Visibility
from retainer.lib.limits import SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH

SUMMARY_MAX_LENGTH = 500
TAGS_MAX_LENGTH = 300
SLUG_MAX_LENGTH = 90


def new_public_id() -> str:
    """22 URL-safe characters, 128 random bits: an article's id cannot be guessed."""
    return secrets.token_urlsafe(16)


def tier_list(stored: str) -> list[str]:
    """The tiers of an article's ``plan_tiers`` column (``",gold,platinum,"``)."""
    return [tier for tier in stored.split(",") if tier]


def stored_tiers(tiers: Any) -> str:
    """``plan_tiers`` as stored: known tiers in rank order between commas, so a tier
    matches with one ``contains`` on either database."""
    chosen = [tier for tier in Tier.values if tier in set(tiers or ())]
    return f",{','.join(chosen)}," if chosen else ""


class Category(models.Model):
    """A heading of the help centre, managed by staff."""

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """One knowledge article. ``status`` draft → published → archived; ``visibility``
    says who may read it once published (see ``kb/access.py``)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, editable=False)
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    summary = models.CharField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    body = models.TextField(max_length=TEXT_MAX_LENGTH, blank=True, help_text="Markdown.")
    tags = models.CharField(
        max_length=TAGS_MAX_LENGTH, blank=True, help_text="Comma-separated, lower case."
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="articles"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_from = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_to = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    plan_tiers = models.CharField(
        max_length=60, blank=True, help_text="For plans visibility: ',gold,platinum,'."
    )
    status = models.CharField(
        max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=True
    )
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [("publish_article", "Can publish, archive and edit published articles")]
        indexes = [models.Index(fields=["status", "visibility"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(visibility=Visibility.PLANS) | ~models.Q(plan_tiers=""),
                name="kb_article_plans_need_tiers",
                violation_error_message="Choose at least one plan tier for plans visibility.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def tier_list(self) -> list[str]:
        return tier_list(self.plan_tiers)

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        releases = [r for r in (self.release_from, self.release_to) if r is not None]
        if releases and self.product_id is None:
            errors["product"] = "Choose the product the releases belong to."
        for name, release in (("release_from", self.release_from), ("release_to", self.release_to)):
            if release is not None and self.product_id and release.product_id != self.product_id:
                errors[name] = "This release is not a release of the article's product."
        if (
            self.release_from is not None
            and self.release_to is not None
            and self.release_to.order < self.release_from.order
        ):
            errors["release_to"] = "The release range cannot end before it starts."
        if self.visibility == Visibility.PLANS and not self.plan_tiers:
            errors["plan_tiers"] = "Choose at least one plan tier for plans visibility."
        if errors:
            raise ValidationError(errors)


class ArticleRevision(models.Model):
    """The article's text as one save left it. Written with every create and edit, never
    changed: the model refuses updates and deletes, a database trigger refuses updates."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    summary = models.CharField(max_length=SUMMARY_MAX_LENGTH, blank=True)
    body = models.TextField(blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_revision_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Article revisions are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Article revisions are never deleted.")


class KbEvent(models.Model):
    """Append-only history of the knowledge base (typed events in ``kb/events.py``)."""

    type = models.CharField(max_length=40, choices=KbEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"


class ArticleEmbedding(models.Model):
    """The article's sentence vector for semantic search (``kb/embeddings.py``): 384
    float32 values as bytes, the model that made it and the hash of the text it was made
    from. Derived data, written by a job after commit (``kb.actions.do_embed_articles``)
    and made again whenever it is missing or stale; it carries no history, so it goes
    with its article. A database trigger deletes it when the article's title, summary
    or body changes (migration ``0003_article_embeddings``), so a stale vector is never
    ranked, whichever way the text was changed."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="embedding")
    vector = models.BinaryField()
    model = models.CharField(max_length=60)
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the embedded text.")
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.model} vector of article {self.article_id}"


# --- Deflection, feedback and views --------------------------------------------------------

FEEDBACK_COMMENT_MAX_LENGTH = 1000
SESSION_TOKEN_MAX_LENGTH = 32
VISITOR_MAX_LENGTH = 64


class SuggestionSession(AppendOnlyModel):
    """One showing of the portal's new-case form that asked for suggestions: its random
    ``token`` (made when the form is shown, 128 bits) and the contact it belongs to. What
    happened in it is in its ``SuggestionRecord`` rows."""

    token = models.CharField(max_length=SESSION_TOKEN_MAX_LENGTH, unique=True)
    contact = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"suggestion session {self.pk}"


class SuggestionRecord(AppendOnlyModel):
    """One fact of a suggestion session: an article shown (``impression``), opened from the
    suggestions (``click``), the answer "this solved my problem" (``solved``, with the
    article), or the case opened anyway (``opened``, with the case). Once per session,
    article and kind; ``solved`` and ``opened`` at most once per session."""

    session = models.ForeignKey(SuggestionSession, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(max_length=12, choices=SuggestionKind.choices)
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suggestion_records",
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["session", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "article", "kind"],
                condition=models.Q(article__isnull=False),
                name="kb_suggestion_record_once",
            ),
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=models.Q(kind__in=[SuggestionKind.SOLVED, SuggestionKind.OPENED]),
                name="kb_suggestion_outcome_once",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=SuggestionKind.OPENED) | models.Q(article__isnull=False),
                name="kb_suggestion_record_article",
            ),
        ]
        indexes = [models.Index(fields=["article", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} in session {self.session_id}"


class ArticleFeedback(AppendOnlyModel):
    """One answer to "Was this helpful?": yes or no and an optional plain-text comment.
    One per ``visitor`` and article (``user:<id>`` for a signed-in person, ``anon:<hash>``
    of the browser session otherwise); a second answer is refused, never replaces."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.CharField(max_length=FEEDBACK_COMMENT_MAX_LENGTH, blank=True)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visitor = models.CharField(max_length=VISITOR_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "visitor"], name="kb_feedback_once_per_visitor"
            ),
        ]

    def __str__(self) -> str:
        return f"{'helpful' if self.helpful else 'not helpful'}: article {self.article_id}"


class ArticleView(AppendOnlyModel):
    """A reader saw the article on ``day``: at most one row per visitor, article and day
    (the unique key makes a repeated count a no-op)."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="views")
    day = models.DateField()
    visitor = models.CharField(max_length=VISITOR_MAX_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "day", "visitor"], name="kb_view_once_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"view of article {self.article_id} on {self.day}"


class CaseArticle(models.Model):
    """An article an agent linked to a case: the answer given, or the article drafted from
    the case. Shown on the case page and counted on the article's page."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="case_links")
    linked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "article"], name="kb_case_article_once")
        ]
        indexes = [models.Index(fields=["article", "linked_at"])]

    def __str__(self) -> str:
        return f"{self.article_id} on case {self.case_id}"
