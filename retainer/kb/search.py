"""The one search function over articles: every search box and API endpoint calls
``search_articles``.

- **Access first.** The candidate set is the user's readable articles
  (``kb.access``), written into the full-text query as a sub-select, so ranking,
  snippets and counts never see an article the user may not read.
- **Parsed** by ``lib.fulltext.parse_query``, the parser of every search box: stop
  words dropped, the other terms OR-ed and ranked, the last word a prefix while it is
  typed, every term quoted so FTS syntax never raises or changes the query, and a query
  over ``QUERY_MAX_LENGTH`` characters refused (``InvalidInput`` ``query_too_long``, a
  400).
- **Hybrid.** Unless ``RETAINER_KB_SEMANTIC`` is false, the full-text ranking is fused
  with the ranking by meaning (``kb.semantic``: cosine of MiniLM vectors, over the same
  readable candidates) by reciprocal rank (k = 60), both taken ``FUSION_DEPTH`` deep.
  An article found only by meaning shows its summary as the snippet. An article without
  a current vector is ranked by full text only; with no vectors at all, or no model,
  search is exactly the full-text search.
- **Engines.** SQLite: the FTS5 external-content table ``kb_article_fts`` (kept by
  triggers), ``bm25()`` with the title weighted 2×, ``snippet()``. PostgreSQL: the
  generated ``kb_article.search`` tsvector with its GIN index, ``ts_rank_cd``,
  ``ts_headline``. Both set up by migration ``0002_article_search_index``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from retainer.kb import semantic
from retainer.kb.access import articles_readable_by, articles_visible_to
from retainer.kb.models import Article
from retainer.lib.fulltext import MAX_TERMS as MAX_TERMS
from retainer.lib.fulltext import PREFIX_MIN_LENGTH as PREFIX_MIN_LENGTH
from retainer.lib.fulltext import QUERY_MAX_LENGTH as QUERY_MAX_LENGTH
from retainer.lib.fulltext import STOP_WORDS as STOP_WORDS
from retainer.lib.fulltext import ParsedQuery, parse_query
from retainer.lib.fulltext import segments as _segments

MAX_LIMIT = 50
#: How deep each ranking is read before the hybrid fusion.
FUSION_DEPTH = 30


@dataclass(frozen=True)
class SearchHit:
    article: Article
    score: float
    #: The snippet as ``(text, highlighted)`` segments, escaped by the template.
    snippet: tuple[tuple[str, bool], ...]


def search_articles(
    user: Any,
    query: str,
    *,
    limit: int = 10,
    include_unpublished: bool = False,
    within: QuerySet[Article] | None = None,
) -> list[SearchHit]:
    """The articles ``user`` may read that match ``query``, best first, with snippets.

    ``include_unpublished`` (the console): staff also search drafts and archived
    articles. ``within`` narrows the candidates further (the console's filters); it
    never widens them. Raises ``InvalidInput`` for a query that is too long."""
    parsed = parse_query(query)
    if not parsed.terms:
        return []
    candidates = articles_visible_to(user) if include_unpublished else articles_readable_by(user)
    if within is not None:
        candidates = candidates.filter(pk__in=within.values("pk"))
    limit = max(1, min(int(limit), MAX_LIMIT))
    # No vector at all (semantic ranking off, or nothing embedded yet): words only.
    table = semantic.vectors() if semantic.semantic_enabled() else None
    if table is not None and table.empty:
        table = None
    depth = max(limit, FUSION_DEPTH) if table is not None else limit
    allowed_sql, allowed_params = candidates.order_by().values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":
        rows = _postgresql(parsed, allowed_sql, allowed_params, depth)
    else:
        rows = _sqlite(parsed, allowed_sql, allowed_params, depth)
    if table is not None:
        rows = _fuse(query, rows, (allowed_sql, allowed_params), depth, table)
    rows = rows[:limit]
    articles = Article.objects.select_related("category", "product").in_bulk([r[0] for r in rows])
    return [
        SearchHit(articles[pk], float(score), _snippet(articles[pk], snippet))
        for pk, score, snippet in rows
        if pk in articles
    ]


def _fuse(
    query: str,
    rows: list[tuple[int, float, str | None]],
    allowed: tuple[str, tuple[Any, ...]],
    depth: int,
    table: semantic.VectorTable,
) -> list[tuple[int, float, str | None]]:
    """The full-text ``rows`` fused with the ranking by meaning over the ``allowed``
    sub-select's articles (those the user may read); a ``None`` snippet: found by
    meaning only."""
    # The readable ids straight from the cursor: at 10,000 articles, model instances
    # or value rows would cost more than the ranking itself.
    with connection.cursor() as cursor:
        cursor.execute(*allowed)
        ids = [row[0] for row in cursor.fetchall()]
    by_meaning = semantic.rank_by_meaning(query, ids, depth=depth, table=table)
    if not by_meaning:
        return rows
    snippets = {pk: snippet for pk, _, snippet in rows}
    fused = semantic.reciprocal_rank_fusion([r[0] for r in rows], [pk for pk, _ in by_meaning])
    return [(pk, score, snippets.get(pk)) for pk, score in fused]


def _snippet(article: Article, snippet: str | None) -> tuple[tuple[str, bool], ...]:
    if snippet is None:
        return ((article.summary, False),) if article.summary else ()
    return _segments(snippet)


def _sqlite(
    parsed: ParsedQuery, allowed_sql: str, allowed_params: tuple[Any, ...], limit: int
) -> list[tuple[int, float, str | None]]:
    # bm25 is lower-is-better; weights per column: title, summary, body, tags.
    sql = f"""
        SELECT a.id, bm25(kb_article_fts, 2.0, 1.5, 1.0, 1.0) AS score,
               snippet(kb_article_fts, 2, char(2), char(3), '…', 24) AS snip
        FROM kb_article_fts JOIN kb_article a ON a.id = kb_article_fts.rowid
        WHERE kb_article_fts MATCH %s AND a.id IN ({allowed_sql})
        ORDER BY score, a.id LIMIT %s
    """  # noqa: S608 (the sub-select is compiled by the ORM; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [parsed.fts5(), *allowed_params, limit])
        return [(row[0], -row[1], row[2] or "") for row in cursor.fetchall()]


def _postgresql(
    parsed: ParsedQuery, allowed_sql: str, allowed_params: tuple[Any, ...], limit: int
) -> list[tuple[int, float, str | None]]:
    # Rank and cut in the inner query; the headline (which reads the whole body) only
    # for the rows shown.
    sql = f"""
        SELECT a.id, hit.score,
               ts_headline('english', a.body, hit.q,
                           'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                           || ', MaxWords=40, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')
        FROM (
            SELECT a.id, q, ts_rank_cd(a.search, q) AS score
            FROM kb_article a, to_tsquery('english', %s) q
            WHERE a.search @@ q AND a.id IN ({allowed_sql})
            ORDER BY score DESC, a.id LIMIT %s
        ) hit JOIN kb_article a ON a.id = hit.id
        ORDER BY hit.score DESC, a.id
    """  # noqa: S608 (the sub-select is compiled by the ORM; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [parsed.tsquery(), *allowed_params, limit])
        return [(row[0], row[1], row[2] or "") for row in cursor.fetchall()]
