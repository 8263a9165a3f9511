"""The one search function over articles: every search box and API endpoint calls
``search_articles``.

- **Access first.** The candidate set is the user's readable articles
  (``kb.access``), written into the full-text query as a sub-select, so ranking,
  snippets and counts never see an article the user may not read.
- **Natural language.** The query is split into words; English stop words are dropped
  (unless nothing else is left); the remaining terms are OR-ed and ranked, so "how do I
  reset the admin password" finds the article about resetting admin passwords. The last
  word also matches as a prefix while it is being typed (no trailing space, three
  letters or more).
- **Quoted.** Every term is a run of letters and digits, quoted for the engine, so
  ``NEAR(``, ``"``, ``-``, ``column:``, ``*`` or ``^`` in a query never raise or change it.
- **Bounded.** A query longer than ``QUERY_MAX_LENGTH`` characters is refused
  (``InvalidInput`` ``query_too_long``, a 400); at most ``MAX_TERMS`` terms are used.
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

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from retainer.kb import semantic
from retainer.kb.access import articles_readable_by, articles_visible_to
from retainer.kb.models import Article
from retainer.lib.errors import InvalidInput
from retainer.lib.sanitize import strip_invisible_controls

QUERY_MAX_LENGTH = 500
MAX_TERMS = 24
MAX_LIMIT = 50
PREFIX_MIN_LENGTH = 3
#: How deep each ranking is read before the hybrid fusion.
FUSION_DEPTH = 30
# Snippet highlight markers: control characters that article text never holds (the
# checks strip them), split out again by ``_segments``.
START, STOP = "\x02", "\x03"

STOP_WORDS = frozenset(
    {
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
        "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
        "both", "but", "by", "can", "cannot", "could", "did", "do", "does", "doing", "down",
        "during", "each", "few", "for", "from", "further", "get", "got", "had", "has", "have",
        "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i",
        "if", "in", "into", "is", "it", "its", "itself", "just", "let", "me", "more", "most",
        "my", "myself", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other",
        "our", "ours", "ourselves", "out", "over", "own", "please", "same", "she", "should",
        "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves",
        "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
        "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while",
        "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
        "yourselves",
    }
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+")
_MARKDOWN_NOISE = re.compile(r"[#*`>|\[\]]+|\s+")


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]
    prefix: bool  # the last term also matches as a prefix

    def fts5(self) -> str:
        quoted = [f'"{term.replace(chr(34), chr(34) * 2)}"' for term in self.terms]
        if self.prefix:
            quoted[-1] += "*"
        return " OR ".join(quoted)

    def tsquery(self) -> str:
        quoted = [f"'{term.replace(chr(39), chr(39) * 2)}'" for term in self.terms]
        if self.prefix:
            quoted[-1] += ":*"
        return " | ".join(quoted)


@dataclass(frozen=True)
class SearchHit:
    article: Article
    score: float
    #: The snippet as ``(text, highlighted)`` segments, escaped by the template.
    snippet: tuple[tuple[str, bool], ...]


def parse_query(text: str) -> ParsedQuery:
    """The terms of a user's query (see the module docstring); no terms: no search."""
    if len(text) > QUERY_MAX_LENGTH:
        raise InvalidInput(
            "query_too_long",
            f"Search for at most {QUERY_MAX_LENGTH} characters.",
            field="q",
        )
    words = [word.casefold() for word in _WORD.findall(text)]
    if not words:
        return ParsedQuery((), False)
    kept = [word for word in words if word not in STOP_WORDS] or words
    terms = tuple(dict.fromkeys(kept))[:MAX_TERMS]
    typing_last = bool(text) and not text[-1].isspace() and _WORD.fullmatch(text[-1]) is not None
    prefix = typing_last and terms[-1] == words[-1] and len(terms[-1]) >= PREFIX_MIN_LENGTH
    return ParsedQuery(terms, prefix)


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


def _segments(snippet: str) -> tuple[tuple[str, bool], ...]:
    """``…text \\x02hit\\x03 text…`` → ``(("…text ", False), ("hit", True), (" text…", False))``,
    with Markdown punctuation and runs of whitespace tidied."""
    out: list[tuple[str, bool]] = []
    for i, part in enumerate(re.split(f"[{START}{STOP}]", strip_invisible_controls(snippet))):
        text = _MARKDOWN_NOISE.sub(lambda m: " " if m.group().isspace() else "", part)
        if text:
            out.append((text, i % 2 == 1))
    return tuple(out)
