"""Every change to the knowledge base. Each action runs in one transaction, validates
before it writes (``save_validated``) and records its typed event (``kb/events.py``).
Every create and every edit of an article's text writes an ``ArticleRevision``. Who may
call which action, and how raw input becomes arguments, is ``kb/checks.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from retainer.accounts.models import User
from retainer.cases.models import Case, CaseMessage
from retainer.kb import embeddings, events, semantic, tasks
from retainer.kb.choices import ArticleStatus, SuggestionKind, Visibility
from retainer.kb.models import (
    SLUG_MAX_LENGTH,
    Article,
    ArticleEmbedding,
    ArticleFeedback,
    ArticleRevision,
    ArticleView,
    CaseArticle,
    Category,
    KbEvent,
    SuggestionRecord,
    SuggestionSession,
)
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.jobs import enqueue_on_commit
from retainer.lib.limits import TEXT_MAX_LENGTH
from retainer.lib.models import apply_changes, save_validated

ARTICLE_FIELDS = (
    "title",
    "summary",
    "body",
    "tags",
    "category",
    "product",
    "release_from",
    "release_to",
    "visibility",
    "plan_tiers",
)
TEXT_FIELDS = frozenset({"title", "summary", "body"})
CATEGORY_FIELDS = ("name", "description", "position")


def unique_slug(title: str) -> str:
    """A slug for a new article: its title's, with ``-2``, ``-3`` … when taken."""
    base = slugify(title)[: SLUG_MAX_LENGTH - 8].strip("-") or "article"
    taken = set(Article.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _write_revision(article: Article, *, author: User) -> ArticleRevision:
    number = (
        article.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    revision = ArticleRevision(
        article=article,
        number=number,
        title=article.title,
        summary=article.summary,
        body=article.body,
        author=author,
    )
    save_validated(revision)
    return revision


@transaction.atomic
def do_create_article(*, values: Mapping[str, Any], author: User) -> Article:
    """A new draft written by ``author`` with its first revision. ``values`` are
    ``ARTICLE_FIELDS``; the slug is made from the title once and kept."""
    article = Article(author=author, status=ArticleStatus.DRAFT)
    apply_changes(article, values, allowed=ARTICLE_FIELDS)
    article.slug = unique_slug(article.title)
    save_validated(article)
    revision = _write_revision(article, author=author)
    record(
        KbEvent,
        events.ArticleCreated(
            title=article.title, visibility=article.visibility, revision=revision.number
        ),
        actor=author,
        article=article,
    )
    _embed_after_commit(article)
    return article


@transaction.atomic
def do_edit_article(article: Article, *, values: Mapping[str, Any], actor: User) -> Article:
    """Change ``values`` (``ARTICLE_FIELDS``) of ``article``; a change of its text writes
    a revision by ``actor``. Nothing changed: nothing written."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    diff = apply_changes(article, values, allowed=ARTICLE_FIELDS)
    if not diff:
        return article
    article.updated_at = timezone.now()
    save_validated(article)
    revision = _write_revision(article, author=actor) if TEXT_FIELDS & set(diff) else None
    # The text itself lives in the revision; the event says which fields changed.
    changes = {
        name: ({"old": None, "new": None} if name in TEXT_FIELDS else change)
        for name, change in diff.items()
    }
    record(
        KbEvent,
        events.ArticleEdited(
            title=article.title,
            changes=changes,
            revision=revision.number if revision else None,
        ),
        actor=actor,
        article=article,
    )
    if revision is not None:
        _embed_after_commit(article)
    return article


@transaction.atomic
def do_publish_article(article: Article, *, actor: User) -> Article:
    """Publish ``article`` (a draft, or an archived one again); ``actor`` is recorded as
    its reviewer. The caller checked it may move there and is complete."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    now = timezone.now()
    article.status = ArticleStatus.PUBLISHED
    article.reviewer = actor
    article.reviewed_at = now
    article.published_at = article.published_at or now
    article.updated_at = now
    save_validated(article)
    record(
        KbEvent,
        events.ArticlePublished(title=article.title, visibility=article.visibility),
        actor=actor,
        article=article,
    )
    _embed_after_commit(article)
    return article


@transaction.atomic
def do_archive_article(article: Article, *, actor: User) -> Article:
    """Archive ``article``: only staff read it from now on."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.status = ArticleStatus.ARCHIVED
    article.updated_at = timezone.now()
    save_validated(article)
    record(KbEvent, events.ArticleArchived(title=article.title), actor=actor, article=article)
    return article


@transaction.atomic
def do_save_category(
    category: Category | None, *, values: Mapping[str, Any], actor: User
) -> Category:
    """Create (``category`` None) or change a category."""
    created = category is None
    category = category or Category()
    diff = apply_changes(category, values, allowed=CATEGORY_FIELDS)
    if not (diff or created):
        return category
    save_validated(category)
    record(
        KbEvent,
        events.CategorySaved(category_name=category.name, created=created, changes=diff),
        actor=actor,
        category=category,
    )
    return category


# --- Vectors for semantic search ---------------------------------------------------------


def _embed_after_commit(article: Article) -> None:
    """Queue the article's vector after commit (a job that finds it current does nothing).
    The database already forgot the old vector if the text changed (a trigger)."""
    if semantic.semantic_enabled():
        enqueue_on_commit(tasks.embed_article_task, article.pk)


#: Articles read, encoded and stored per round of ``do_embed_articles``.
EMBED_CHUNK = 64


def do_embed_articles(article_ids: Iterable[int] | None = None) -> int:
    """Compute and store the vectors of ``article_ids`` (every article when ``None``) whose
    vector is missing or was made from other text or by another model; returns how many
    were written. Idempotent: current vectors are left alone.

    Encoding takes tens of milliseconds per article, so it runs outside any transaction;
    each chunk is then stored in a short one that locks the articles and skips any whose
    text changed meanwhile (its next job embeds the new text). No event: a vector is
    derived data, made again from the article whenever needed. Returns 0 without
    writing when the model cannot be loaded (logged once by ``get_encoder``)."""
    encoder = embeddings.get_encoder()
    if encoder is None:
        return 0
    articles = Article.objects.order_by("pk")
    if article_ids is not None:
        articles = articles.filter(pk__in=list(article_ids))
    ids = list(articles.values_list("pk", flat=True))
    written = 0
    for start in range(0, len(ids), EMBED_CHUNK):
        texts = _stale_texts(ids[start : start + EMBED_CHUNK])
        if texts:
            vectors = encoder.encode(list(texts.values()))
            written += _store_vectors(dict(zip(texts, vectors, strict=True)), texts)
    return written


def _stale_texts(ids: list[int]) -> dict[int, str]:
    """The texts to embed of ``ids``: those without a current vector of this model."""
    current = dict(
        ArticleEmbedding.objects.filter(
            article_id__in=ids, model=embeddings.MODEL_NAME
        ).values_list("article_id", "text_hash")
    )
    texts = {}
    for pk, title, summary, body in Article.objects.filter(pk__in=ids).values_list(
        "pk", "title", "summary", "body"
    ):
        text = embeddings.article_text(title, summary, body)
        if current.get(pk) != embeddings.text_hash(text):
            texts[pk] = text
    return texts


@transaction.atomic
def _store_vectors(vectors: Mapping[int, Any], texts: Mapping[int, str]) -> int:
    locked = Article.objects.select_for_update().filter(pk__in=list(vectors)).order_by("pk")
    unchanged = [
        pk
        for pk, title, summary, body in locked.values_list("pk", "title", "summary", "body")
        if embeddings.article_text(title, summary, body) == texts[pk]
    ]
    ArticleEmbedding.objects.filter(article_id__in=unchanged).delete()
    now = timezone.now()
    ArticleEmbedding.objects.bulk_create(
        ArticleEmbedding(
            article_id=pk,
            vector=vectors[pk].tobytes(),
            model=embeddings.MODEL_NAME,
            text_hash=embeddings.text_hash(texts[pk]),
            computed_at=now,
        )
        for pk in unchanged
    )
    return len(unchanged)


# --- Deflection, feedback and views ----------------------------------------------------------
# Measurement rows: written once, no typed event (they change nothing anybody acts on), and
# every write is idempotent through the tables' unique keys.


@transaction.atomic
def do_record_suggestions(
    *, token: str, contact: User, articles: Iterable[Article]
) -> SuggestionSession:
    """The session ``token`` of ``contact`` (created on its first suggestions) with an
    impression of each of ``articles``; an impression already recorded is not repeated.
    The caller checked the token is well formed and not another contact's."""
    session, _ = SuggestionSession.objects.get_or_create(token=token, defaults={"contact": contact})
    SuggestionRecord.objects.bulk_create(
        [
            SuggestionRecord(session=session, kind=SuggestionKind.IMPRESSION, article=article)
            for article in articles
        ],
        ignore_conflicts=True,
    )
    return session


def do_record_suggestion(
    session: SuggestionSession,
    *,
    kind: str,
    article: Article | None = None,
    case: Any = None,
) -> bool:
    """Record one fact of ``session`` (a click, "solved" with its article, "opened" with
    its case); True when it is new, False when it was already there (nothing written: the
    unique keys hold it once, ``solved`` and ``opened`` once per session)."""
    existing = SuggestionRecord.objects.filter(session=session, kind=kind)
    if kind not in (SuggestionKind.SOLVED, SuggestionKind.OPENED):
        existing = existing.filter(article=article)
    if existing.exists():
        return False
    SuggestionRecord.objects.bulk_create(
        [SuggestionRecord(session=session, kind=kind, article=article, case=case)],
        ignore_conflicts=True,
    )
    return True


@transaction.atomic
def do_record_feedback(
    article: Article, *, helpful: bool, comment: str, visitor: str, user: User | None
) -> ArticleFeedback:
    """One answer to "Was this helpful?" by ``visitor``. A second answer of the same
    visitor is refused (``Conflict`` ``feedback_already_given``), never replaces the first.
    The caller checked the article is published and readable by the visitor."""
    feedback = ArticleFeedback(
        article=article, helpful=helpful, comment=comment, visitor=visitor, user=user
    )
    try:
        with transaction.atomic():
            save_validated(feedback)
    except (IntegrityError, ValidationError) as exc:
        if ArticleFeedback.objects.filter(article=article, visitor=visitor).exists():
            raise Conflict(
                "feedback_already_given",
                "You already told us whether this article helped. Thank you!",
            ) from exc
        raise
    return feedback


def do_record_view(article: Article, *, visitor: str, day: dt.date | None = None) -> None:
    """Count a view of ``article`` by ``visitor`` on ``day`` (today): once per visitor,
    article and day; a repeat is a no-op of the unique key."""
    ArticleView.objects.bulk_create(
        [ArticleView(article=article, visitor=visitor, day=day or timezone.localdate())],
        ignore_conflicts=True,
    )


# --- Articles on cases ---------------------------------------------------------------------


@transaction.atomic
def do_link_article(
    case: Case, article: Article, *, actor: User, drafted: bool = False
) -> CaseArticle:
    """Link ``article`` to ``case`` (a second link of the same pair returns the first,
    writing nothing)."""
    link = CaseArticle.objects.filter(case=case, article=article).first()
    if link is not None:
        return link
    link = CaseArticle.objects.create(case=case, article=article, linked_by=actor)
    event = events.ArticleLinked(case=case.pk, reference=case.reference, drafted=drafted)
    record(KbEvent, event, actor=actor, article=article)
    return link


@transaction.atomic
def do_unlink_article(case: Case, article: Article, *, actor: User) -> bool:
    """Remove the link of ``article`` to ``case``; False when there was none."""
    deleted, _ = CaseArticle.objects.filter(case=case, article=article).delete()
    if deleted:
        event = events.ArticleUnlinked(case=case.pk, reference=case.reference)
        record(KbEvent, event, actor=actor, article=article)
    return bool(deleted)


def draft_values(case: Case, solution: str) -> dict[str, Any]:
    """What a draft written from ``case`` starts with: its subject as the title, and the
    problem (the description), the cause (the root cause) and the solution (the last
    public reply by staff, ``solution``) as the body; internal, on the case's product."""
    cause = case.get_root_cause_display() if case.root_cause else "Not recorded."
    body = (
        f"## Problem\n\n{case.description.strip()}\n\n## Cause\n\n{cause}\n\n"
        f"## Solution\n\n{solution.strip() or 'Describe what solved it.'}\n"
    )
    return {
        "title": case.subject,
        "summary": f"Written from case {case.reference}.",
        "body": body[:TEXT_MAX_LENGTH],
        "tags": case.root_cause or "",
        "product": case.product,
        "visibility": Visibility.INTERNAL,
    }


@transaction.atomic
def do_draft_article_from_case(case: Case, *, actor: User) -> Article:
    """A draft article pre-filled from a resolved ``case`` (:func:`draft_values`), linked
    to it."""
    solution = (
        CaseMessage.objects.filter(case=case, is_internal=False, by_customer=False)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    article = do_create_article(values=draft_values(case, solution or ""), author=actor)
    do_link_article(case, article, actor=actor, drafted=True)
    return article
