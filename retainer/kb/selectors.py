"""Reads of the knowledge base shared by the console, the help centre and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from retainer.contracts.choices import ContractStatus
from retainer.contracts.models import Contract
from retainer.kb.choices import ArticleStatus, SuggestionKind
from retainer.kb.models import (
    Article,
    ArticleFeedback,
    ArticleRevision,
    ArticleView,
    Category,
    SuggestionRecord,
    SuggestionSession,
)

#: How many of the latest feedback comments the console's article page shows.
RECENT_COMMENTS = 10


def entitled_tiers(*, organization_id: int, today: dt.date | None = None) -> frozenset[str]:
    """The plan tiers of the organization's contracts active on ``today``: status active
    and the day within the term. The tier is the contract's own snapshot of its terms
    (what was sold), else its plan's. One query."""
    today = today or timezone.localdate()
    rows = (
        Contract.objects.filter(
            organization_id=organization_id, status=ContractStatus.ACTIVE, start_date__lte=today
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list("terms", "plan__tier")
    )
    tiers = set()
    for terms, plan_tier in rows:
        tier = (terms or {}).get("tier") if isinstance(terms, dict) else None
        if tier or plan_tier:
            tiers.add(str(tier or plan_tier))
    return frozenset(tiers)


def articles_for_list(articles: QuerySet[Article]) -> QuerySet[Article]:
    return articles.select_related("category", "product", "author")


def article_with_relations(*, pk: int) -> Article:
    return Article.objects.select_related(
        "category", "product", "release_from", "release_to", "author", "reviewer"
    ).get(pk=pk)


def revisions_for_article(*, article: Article) -> QuerySet[ArticleRevision]:
    return ArticleRevision.objects.filter(article=article).select_related("author")


def categories_with_counts(articles: QuerySet[Article]) -> list[Category]:
    """Categories with ``shown``: how many of ``articles`` (already access-filtered) each has."""
    return list(
        Category.objects.annotate(shown=Count("articles", filter=Q(articles__in=articles)))
        .filter(shown__gt=0)
        .order_by("position", "name")
    )


@dataclass(frozen=True)
class DiffLine:
    """One line of a revision diff: ``kind`` is ``same``, ``added``, ``removed`` or ``gap``."""

    kind: str
    text: str


def diff_revisions(old: ArticleRevision, new: ArticleRevision) -> list[DiffLine]:
    """The line diff from ``old`` to ``new`` (title, summary and body), as plain text
    lines: the template escapes them like any other text."""
    import difflib  # only the diff page needs it

    def lines(revision: ArticleRevision) -> list[str]:
        return [f"# {revision.title}", revision.summary, "", *revision.body.splitlines()]

    out: list[DiffLine] = []
    for line in difflib.unified_diff(lines(old), lines(new), n=3, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            out.append(DiffLine("gap", line))
        elif line.startswith("+"):
            out.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("removed", line[1:]))
        else:
            out.append(DiffLine("same", line[1:]))
    return out


# --- Deflection, feedback, views and upkeep -------------------------------------------------


@dataclass(frozen=True)
class DeflectionSummary:
    """Suggestion sessions started in ``[start, end)`` (see docs/kb.md, "Deflection rate").

    ``sessions``: sessions that asked for suggestions; ``with_suggestions``: those that
    showed at least one article; ``solved``: those answered "this solved my problem" in
    which no case was opened; ``opened_anyway``: those that showed suggestions and opened
    a case; ``rate``: ``solved / with_suggestions`` (``None`` when nothing was shown)."""

    sessions: int
    with_suggestions: int
    solved: int
    opened_anyway: int
    rate: float | None


def deflection_summary(start: dt.datetime, end: dt.datetime) -> DeflectionSummary:
    """The deflection figures of the sessions started in ``[start, end)``. Four counts."""
    sessions = SuggestionSession.objects.filter(created_at__gte=start, created_at__lt=end)
    shown = sessions.filter(records__kind=SuggestionKind.IMPRESSION).distinct()
    solved = (
        sessions.filter(records__kind=SuggestionKind.SOLVED)
        .exclude(records__kind=SuggestionKind.OPENED)
        .distinct()
        .count()
    )
    with_suggestions = shown.count()
    return DeflectionSummary(
        sessions=sessions.count(),
        with_suggestions=with_suggestions,
        solved=solved,
        opened_anyway=shown.filter(records__kind=SuggestionKind.OPENED).distinct().count(),
        rate=solved / with_suggestions if with_suggestions else None,
    )


@dataclass(frozen=True)
class ArticleStats:
    """What readers made of one article: views (one per reader and day), answers to
    "Was this helpful?", how often it was suggested, opened from a suggestion and solved
    the problem (deflections), and the latest comments."""

    views: int
    views_30_days: int
    helpful: int
    not_helpful: int
    suggested: int
    clicks: int
    deflections: int
    comments: list[ArticleFeedback]


def article_stats(*, article: Article, today: dt.date | None = None) -> ArticleStats:
    today = today or timezone.localdate()
    views = ArticleView.objects.filter(article=article).aggregate(
        total=Count("pk"), recent=Count("pk", filter=Q(day__gt=today - dt.timedelta(days=30)))
    )
    answers = ArticleFeedback.objects.filter(article=article).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    records = SuggestionRecord.objects.filter(article=article).aggregate(
        **{kind: Count("pk", filter=Q(kind=kind)) for kind in SuggestionKind.values}
    )
    comments = list(
        ArticleFeedback.objects.filter(article=article)
        .exclude(comment="")
        .select_related("user")[:RECENT_COMMENTS]
    )
    return ArticleStats(
        views=views["total"],
        views_30_days=views["recent"],
        helpful=answers["yes"],
        not_helpful=answers["no"],
        suggested=records[SuggestionKind.IMPRESSION],
        clicks=records[SuggestionKind.CLICK],
        deflections=records[SuggestionKind.SOLVED],
        comments=comments,
    )


def review_due_before(now: dt.datetime | None = None) -> dt.datetime:
    """Articles last reviewed or edited before this moment need a review."""
    days = settings.RETAINER_KB_REVIEW_DAYS
    return (now or timezone.now()) - dt.timedelta(days=days)


def needs_review_q() -> Q:
    """Published, and neither reviewed nor edited for ``RETAINER_KB_REVIEW_DAYS`` days."""
    due = review_due_before()
    return Q(status=ArticleStatus.PUBLISHED, updated_at__lt=due) & (
        Q(reviewed_at__isnull=True) | Q(reviewed_at__lt=due)
    )


def with_review_flag(articles: QuerySet[Article]) -> QuerySet[Article]:
    """``articles`` with ``needs_review`` (see ``needs_review_q``)."""
    return articles.annotate(
        needs_review=Case(
            When(needs_review_q(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def articles_needing_review(articles: QuerySet[Article]) -> QuerySet[Article]:
    return articles.filter(needs_review_q())
