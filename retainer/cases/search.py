"""The one search function over cases: the console's top bar, the queue's ``q`` filter,
the portal's *My cases* and the API all call ``search_cases``.

- **Access first.** The candidate set is ``cases_visible_to(user)`` (narrowed by the
  caller's ``filters``, never widened), written into every full-text query as a
  sub-select, so ranking, snippets and counts never see a case the user may not see.
  Customers never match through an internal note: the note rows are left out inside the
  full-text query, so neither a hit, a score nor a snippet comes from one.
- **One parser.** ``lib.fulltext.parse_query``, as for the knowledge base: stop words
  dropped, OR semantics and ranking, prefix on the last word as people type, every term
  quoted (FTS syntax never raises), at most 500 characters (``InvalidInput``
  ``query_too_long``, a 400).
- **What matches.** A case's subject (weighted 2×) and description, its messages
  (replies, and internal notes for staff; the best message of a case counts), and its
  organization's name (matched at query time, so a rename re-indexes one row). A case's
  score is the sum of the three, each source read ``SOURCE_DEPTH`` (or ``limit``) deep,
  best first, so that a common word costs about what the bare full-text query costs.
  A reference (``RT-10123``, or ``10123``) finds its case directly and puts it first.
- **Snippets** are computed for the cases shown only: from the subject and description
  when they match, else from the best matching message the user may read.
- **Engines.** SQLite: the FTS5 external-content tables ``cases_case_fts``,
  ``cases_casemessage_fts`` and ``cases_organization_fts`` (kept by triggers),
  ``bm25()``, ``snippet()``. PostgreSQL: the generated ``search`` tsvectors of
  ``cases_case`` and ``cases_casemessage`` with their GIN indexes, ``ts_rank_cd``,
  ``ts_headline``. Both set up by migration ``0009_case_search_index``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from retainer.accounts.access import is_vendor_staff
from retainer.cases.access import cases_visible_to
from retainer.cases.models import REFERENCE_OFFSET, Case
from retainer.lib.fulltext import ParsedQuery, parse_query, segments

MAX_LIMIT = 200
#: How deep each source (case text, messages, organization names) is read, best first,
#: before the sources' scores are added up.
SOURCE_DEPTH = 100
#: The score of a case found by its reference: above any full-text score (and finite,
#: for JSON).
REFERENCE_SCORE = 1_000_000.0
_REFERENCE = re.compile(r"(?i)\s*(?:RT-)?(\d{1,12})\s*")
# Where a hit's snippet comes from.
IN_CASE, IN_REPLY, IN_NOTE, IN_ORGANIZATION, BY_REFERENCE = (
    "case",
    "reply",
    "note",
    "organization",
    "reference",
)
#: The console's top bar adds the cases of matching contacts (``search_everything``).
IN_CONTACT = "contact"
_HIGHLIGHT = (
    "'StartSel=' || chr(2) || ', StopSel=' || chr(3) "
    "|| ', MaxWords=30, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"'"
)


@dataclass(frozen=True)
class CaseHit:
    case: Case
    score: float
    #: The snippet as ``(text, highlighted)`` segments, escaped by the template.
    snippet: tuple[tuple[str, bool], ...]
    #: ``case``, ``reply``, ``note`` (staff only), ``organization``, ``reference`` (or
    #: ``contact``, from the console's top bar).
    matched_in: str

    @property
    def snippet_parts(self) -> list[dict[str, Any]]:
        """The snippet as the API shows it."""
        return [{"text": text, "highlighted": lit} for text, lit in self.snippet]


@dataclass(frozen=True)
class _Scope:
    """The candidate set as SQL: ``clause("c.id")`` limits a query to it."""

    sql: str | None  # None: every case (an unfiltered queryset of all cases)
    params: tuple[Any, ...]
    notes: bool  # internal notes may match (staff)

    def clause(self, column: str) -> tuple[str, tuple[Any, ...]]:
        if self.sql is None:
            return "1 = 1", ()
        return f"{column} IN ({self.sql})", self.params


def search_cases(
    user: Any, query: str, *, filters: QuerySet[Case] | None = None, limit: int = 20
) -> list[CaseHit]:
    """The cases ``user`` may see that match ``query``, best first, each with a snippet.

    ``filters`` (the queue's filters) narrows the candidates further; it never widens
    them. Reads only. Raises ``InvalidInput`` (``query_too_long``) for a query over
    ``lib.fulltext.QUERY_MAX_LENGTH`` characters."""
    parsed = parse_query(query)
    candidates = cases_visible_to(user)
    if filters is not None:
        candidates = candidates.filter(pk__in=filters.order_by().values("pk"))
    limit = max(1, min(int(limit), MAX_LIMIT))
    try:
        scope = _scope(candidates, notes=is_vendor_staff(user))
    except EmptyResultSet:  # nothing visible (no contact, no sign-in)
        return []
    found: list[tuple[int, float, str, str | None]] = []
    reference = _REFERENCE.fullmatch(query)
    if reference:
        pk = int(reference.group(1)) - REFERENCE_OFFSET
        if pk > 0 and candidates.filter(pk=pk).exists():
            found.append((pk, REFERENCE_SCORE, BY_REFERENCE, None))
    if parsed.terms:
        engine = _postgresql if connection.vendor == "postgresql" else _sqlite
        direct = {row[0] for row in found}
        found += [row for row in engine(parsed, scope, limit) if row[0] not in direct]
    found = found[:limit]
    rows = Case.objects.select_related("organization", "contact", "product").order_by()
    cases = rows.in_bulk([f[0] for f in found])
    return [
        CaseHit(cases[pk], score, _snippet(cases[pk], where, snippet), where)
        for pk, score, where, snippet in found
        if pk in cases
    ]


def _scope(candidates: QuerySet[Case], *, notes: bool) -> _Scope:
    # Every case, unfiltered (staff without filters): no sub-select at all, rather than
    # an IN over the whole table that PostgreSQL would hash.
    if not candidates.query.where:
        return _Scope(None, (), notes)
    sql, params = candidates.order_by().values("pk").query.sql_with_params()
    return _Scope(sql, tuple(params), notes)


def _snippet(case: Case, where: str, snippet: str | None) -> tuple[tuple[str, bool], ...]:
    if snippet:
        return segments(snippet)
    text = " ".join(case.description.split())
    return ((text[:200] + ("…" if len(text) > 200 else ""), False),) if text else ()


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite(
    parsed: ParsedQuery, scope: _Scope, limit: int
) -> list[tuple[int, float, str, str | None]]:
    match = parsed.fts5()
    in_case, case_params = scope.clause("f.rowid")
    in_message, message_params = _sqlite_messages(scope)
    in_org, org_params = scope.clause("c.id")
    # bm25 is lower-is-better: negated, so that the sources add up. Each source is read
    # ``depth`` deep, best first, like the raw query would be; snippets come later, for the
    # rows shown only (snippet() here would run for every match). MATERIALIZED: SQLite
    # would otherwise flatten them into the aggregate, where bm25() cannot run.
    sql = f"""
        WITH case_hits AS MATERIALIZED (
            SELECT f.rowid AS case_id, -bm25(cases_case_fts, 2.0, 1.0) AS score
            FROM cases_case_fts f WHERE cases_case_fts MATCH %s AND {in_case}
            ORDER BY bm25(cases_case_fts, 2.0, 1.0) LIMIT %s
        ), message_hits AS MATERIALIZED (
            SELECT f.rowid AS message_id, -bm25(cases_casemessage_fts) AS score
            FROM cases_casemessage_fts f WHERE cases_casemessage_fts MATCH %s AND {in_message}
            ORDER BY bm25(cases_casemessage_fts) LIMIT %s
        ), org_hits AS MATERIALIZED (
            SELECT f.rowid AS org_id, -bm25(cases_organization_fts) AS score
            FROM cases_organization_fts f WHERE cases_organization_fts MATCH %s
            ORDER BY bm25(cases_organization_fts) LIMIT %s
        )
        SELECT case_id, SUM(score) AS total FROM (
            SELECT case_id, score FROM case_hits
            UNION ALL
            SELECT m.case_id, MAX(h.score) FROM message_hits h
            JOIN cases_casemessage m ON m.id = h.message_id GROUP BY m.case_id
            UNION ALL
            SELECT * FROM (
                SELECT c.id, o.score FROM org_hits o
                JOIN cases_case c ON c.organization_id = o.org_id
                WHERE {in_org} ORDER BY o.score DESC, c.id DESC LIMIT %s
            )
        ) GROUP BY case_id ORDER BY total DESC, case_id DESC LIMIT %s
    """  # noqa: S608 (the sub-selects are compiled by the ORM; every value is a parameter)
    depth = max(limit, SOURCE_DEPTH)
    params = [
        *(match, *case_params, depth),
        *(match, *message_params, depth),
        *(match, depth),
        *(*org_params, depth),
        limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ranked = [(row[0], float(row[1])) for row in cursor.fetchall()]
    return _with_snippets(ranked, _sqlite_snippets(match, ranked, notes=scope.notes))


def _sqlite_messages(scope: _Scope) -> tuple[str, tuple[Any, ...]]:
    """The messages the scope may match, as a condition on the FTS table's rowid (the
    message id): every message for staff without filters, so that the ranking reads no
    message row for the matches it drops."""
    conditions, params = [], scope.params if scope.sql is not None else ()
    if scope.sql is not None:
        conditions.append(f"m.case_id IN ({scope.sql})")
    if not scope.notes:
        conditions.append("m.is_internal = 0")
    if not conditions:
        return "1 = 1", ()
    where = " AND ".join(conditions)
    return f"f.rowid IN (SELECT m.id FROM cases_casemessage m WHERE {where})", params  # noqa: S608


def _sqlite_snippets(
    match: str, ranked: list[tuple[int, float]], *, notes: bool
) -> dict[int, tuple[str, str]]:
    """``{case id: (where, snippet)}`` for the ranked cases, from the case's own text or
    else from its best message the user may read."""
    ids = [pk for pk, _ in ranked]
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    found: dict[int, tuple[str, str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT rowid, snippet(cases_case_fts, -1, char(2), char(3), '…', 20)
                FROM cases_case_fts WHERE cases_case_fts MATCH %s AND rowid IN ({marks})""",  # noqa: S608
            [match, *ids],
        )
        found.update((pk, (IN_CASE, snip)) for pk, snip in cursor.fetchall())
        rest = [pk for pk in ids if pk not in found]
        if rest:
            # The messages of these cases first (by the case index), then the full-text
            # query on those rows only.
            marks = ", ".join(["%s"] * len(rest))
            visible = "" if notes else "AND is_internal = 0"
            cursor.execute(
                f"""SELECT id, case_id, is_internal FROM cases_casemessage
                    WHERE case_id IN ({marks}) {visible}""",  # noqa: S608
                rest,
            )
            of_case = {pk: (case, bool(internal)) for pk, case, internal in cursor.fetchall()}
            if of_case:
                marks = ", ".join(["%s"] * len(of_case))
                cursor.execute(
                    f"""SELECT rowid, snippet(cases_casemessage_fts, 0, char(2), char(3), '…', 20)
                        FROM cases_casemessage_fts
                        WHERE cases_casemessage_fts MATCH %s AND rowid IN ({marks})
                        ORDER BY bm25(cases_casemessage_fts), rowid""",  # noqa: S608
                    [match, *of_case],
                )
                for message, snip in cursor.fetchall():  # best first: keep the first
                    case, internal = of_case[message]
                    found.setdefault(case, (IN_NOTE if internal else IN_REPLY, snip))
    return found


def _with_snippets(
    ranked: list[tuple[int, float]], snippets: dict[int, tuple[str, str]]
) -> list[tuple[int, float, str, str | None]]:
    out: list[tuple[int, float, str, str | None]] = []
    for pk, score in ranked:
        where, snip = snippets.get(pk, (IN_ORGANIZATION, None))
        out.append((pk, score, where, snip))
    return out


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgresql(
    parsed: ParsedQuery, scope: _Scope, limit: int
) -> list[tuple[int, float, str, str | None]]:
    in_case, case_params = scope.clause("c.id")
    in_message, message_params = scope.clause("m.case_id")
    in_org, org_params = scope.clause("c.id")
    notes = "" if scope.notes else "AND NOT m.is_internal"
    # Each source read ``depth`` deep, best first, as on SQLite.
    sql = f"""
        WITH q AS (SELECT to_tsquery('english', %s) AS q)
        SELECT case_id, SUM(score) AS total FROM (
            (SELECT c.id AS case_id, 2 * ts_rank_cd(c.search, q.q) AS score
             FROM cases_case c, q WHERE c.search @@ q.q AND {in_case}
             ORDER BY score DESC LIMIT %s)
            UNION ALL
            SELECT case_id, MAX(score) FROM (
                SELECT m.case_id, ts_rank_cd(m.search, q.q) AS score
                FROM cases_casemessage m, q WHERE m.search @@ q.q AND {in_message} {notes}
                ORDER BY score DESC LIMIT %s
            ) messages GROUP BY case_id
            UNION ALL
            (SELECT c.id, ts_rank_cd(to_tsvector('english', o.name), q.q) AS score
             FROM accounts_organization o JOIN cases_case c ON c.organization_id = o.id, q
             WHERE to_tsvector('english', o.name) @@ q.q AND {in_org}
             ORDER BY score DESC, c.id DESC LIMIT %s)
        ) hits GROUP BY case_id ORDER BY total DESC, case_id DESC LIMIT %s
    """  # noqa: S608 (the sub-selects are compiled by the ORM; every value is a parameter)
    depth = max(limit, SOURCE_DEPTH)
    params = [parsed.tsquery(), *case_params, depth, *message_params, depth, *org_params, depth]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        ranked = [(row[0], float(row[1])) for row in cursor.fetchall()]
    return _with_snippets(ranked, _postgresql_snippets(parsed, ranked, notes=notes))


def _postgresql_snippets(
    parsed: ParsedQuery, ranked: list[tuple[int, float]], *, notes: str
) -> dict[int, tuple[str, str]]:
    ids = [pk for pk, _ in ranked]
    if not ids:
        return {}
    found: dict[int, tuple[str, str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id,
                       ts_headline('english', c.subject || ' — ' || c.description, q, {_HIGHLIGHT})
                FROM cases_case c, to_tsquery('english', %s) q
                WHERE c.id = ANY(%s) AND c.search @@ q""",  # noqa: S608
            [parsed.tsquery(), ids],
        )
        found.update((pk, (IN_CASE, snip)) for pk, snip in cursor.fetchall())
        rest = [pk for pk in ids if pk not in found]
        if rest:
            cursor.execute(
                f"""SELECT DISTINCT ON (m.case_id) m.case_id, m.is_internal,
                           ts_headline('english', m.body, q, {_HIGHLIGHT})
                    FROM cases_casemessage m, to_tsquery('english', %s) q
                    WHERE m.case_id = ANY(%s) AND m.search @@ q {notes}
                    ORDER BY m.case_id, ts_rank_cd(m.search, q) DESC, m.id""",  # noqa: S608
                [parsed.tsquery(), rest],
            )
            for pk, internal, snip in cursor.fetchall():
                found[pk] = (IN_NOTE if internal else IN_REPLY, snip)
    return found
