"""Reads of the knowledge base shared by the console, the help centre and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from retainer.contracts.choices import ContractStatus
from retainer.contracts.models import Contract
from retainer.kb.models import Article, ArticleRevision, Category


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
