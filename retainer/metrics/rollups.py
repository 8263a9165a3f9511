"""Support roll-ups: per month and per (product, team, plan tier), the tallies the support
dashboards read instead of scanning the cases (docs/metrics.md "Roll-ups").

A case's contribution — the ``SupportMonth`` cells it adds to — is a pure function of
the case as it now is (:func:`contribution`). It is kept on ``CaseFigures``; when a case
event arrives, :func:`refresh_cases` computes the case's contribution again and applies
the difference to the tallies (``n = n + delta``, an upsert), in the dispatch
transaction. Recomputing from the case rather than adding per event makes the upkeep
indifferent to the order events arrive in and to a repeated message. ``rebuild`` does the
same for every case (or those touched since a day) and then rewrites the tallies from the
stored contributions.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from retainer.cases.choices import ClockKind, RootCause
from retainer.cases.models import BusinessCalendar, Case, CsatResponse, SlaClock, TimeEntry
from retainer.cases.sla import calendar_from_row
from retainer.contracts.choices import Channel
from retainer.lib.business_hours import Calendar
from retainer.lib.outbox import Message
from retainer.metrics import definitions as d
from retainer.metrics.models import CaseFigures, SupportMonth

#: The case events after which a case's contribution may have changed.
TOPICS = (
    "case.opened",
    "case.replied",
    "case.status_changed",
    "case.sla_met",
    "case.sla_breached",
    "case.csat_answered",
    "case.fields_changed",
    "case.contract_changed",
    "case.decision_overridden",
    "case.time_logged",
    "case.time_changed",
    "case.time_deleted",
)
#: Demand dimensions as stored: key -> (the case field, the field naming it).
DEMAND = {
    "root_cause": "root_cause",
    "category": "category",
    "product": "product_id",
    "release": "release_id",
    "channel": "channel",
}
_LABELS: dict[str, dict[str, str]] = {
    "root_cause": dict(RootCause.choices),
    "channel": dict(Channel.choices),
}
UNKNOWN = "—"
#: Cases whose contributions are computed per batch by ``rebuild``.
CHUNK = 2000
#: The nightly job recomputes the cases touched in this many days.
ROLLUP_REFRESH_DAYS = 3
#: Durations are counted in buckets of about 9 % width (``bucket``).
BUCKETS_PER_DOUBLING = 8

Key = tuple[str, int, int, str, str, str]  # month, product, team, tier, figure, value


def bucket(micros: int) -> int:
    """The histogram bucket of a business duration: ``floor(8 · log2(1 + minutes))``."""
    return int(BUCKETS_PER_DOUBLING * math.log2(1 + micros / 60_000_000))


def _month(value: dt.datetime) -> str:
    return (
        timezone.localtime(value, timezone.get_default_timezone()).date().replace(day=1).isoformat()
    )


def _micros(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> int:
    return int(d.business_minutes(calendar, start, end) * 60_000_000)


@dataclass(frozen=True)
class Entry:
    key: Key
    label: str
    n: int
    micros: int


def contributions(case_ids: Sequence[int]) -> dict[int, list[Entry]]:
    """Each case's cells and amounts, from the base tables as they are now. Five
    queries (cases, clocks, answers, time entries, calendars) whatever the number of
    cases."""
    rows = _case_rows(case_ids)
    sources = _Sources(
        clocks=_decided_clocks(case_ids),
        answers=_answers(case_ids),
        logged=_logged(case_ids),
        times=_BusinessTimes(rows),
    )
    return {row["pk"]: _entries(row, sources) for row in rows}


def _case_rows(case_ids: Sequence[int]) -> list[dict[str, Any]]:
    calendar_of = SlaClock.objects.filter(
        case=OuterRef("pk"), kind=ClockKind.FIRST_RESPONSE
    ).values("target__calendar_id")[:1]
    from retainer.metrics.queries import REOPENED  # one definition of "reopened"

    return list(
        Case.objects.filter(pk__in=case_ids)
        .annotate(calendar_id=Subquery(calendar_of), was_reopened=REOPENED)
        .values(
            "pk", "created_at", "first_response_at", "resolved_at", "product_id",
            "product__name", "queue_id", "contract__terms__tier", "root_cause", "category",
            "release_id", "release__version", "channel", "organization__time_zone",
            "calendar_id", "was_reopened",
        )
    )  # fmt: skip


def _decided_clocks(case_ids: Sequence[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Each case's decided SLA clocks: (kind, month, ``met`` or ``missed``)."""
    clocks: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for case_id, kind, stopped, breached in SlaClock.objects.filter(
        Q(stopped_at__isnull=False) | Q(breached_at__isnull=False), case_id__in=case_ids
    ).values_list("case_id", "kind", "stopped_at", "breached_at"):
        when = stopped or breached
        if when is None:  # not decided (the filter above leaves none)
            continue
        clocks[case_id].append((kind, _month(when), "met" if breached is None else "missed"))
    return clocks


def _answers(case_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Each case's CSAT answer: (rating, month)."""
    return {
        case_id: (rating, _month(answered))
        for case_id, rating, answered in CsatResponse.objects.filter(
            case_id__in=case_ids
        ).values_list("case_id", "rating", "answered_at")
    }


def _logged(case_ids: Sequence[int]) -> dict[int, list[tuple[str, int, str, int, bool]]]:
    """Each case's time entries: (month, agent id, agent name, minutes, billable)."""
    logged: dict[int, list[tuple[str, int, str, int, bool]]] = defaultdict(list)
    for case_id, agent_id, agent, work_date, minutes, billable in (
        TimeEntry.objects.filter(case_id__in=case_ids, is_deleted=False)
        .values_list("case_id", "agent_id", "agent__full_name", "work_date", "minutes", "billable")
    ):  # fmt: skip
        month = work_date.replace(day=1).isoformat()
        logged[case_id].append((month, agent_id, agent, minutes, billable))
    return logged


class _BusinessTimes:
    """Business time between two instants on a case's calendar (the calendars are read
    once, and only when a case needs one)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        needed = any(r["first_response_at"] or r["resolved_at"] for r in rows)
        self.calendars = {c.pk: c for c in BusinessCalendar.objects.all()} if needed else {}
        self.cache: dict[tuple[int | None, str], Calendar] = {}

    def micros(self, row: dict[str, Any], end: dt.datetime) -> int:
        cal = self.calendars.get(row["calendar_id"])
        zone = row["organization__time_zone"]
        tz = (zone if cal.use_customer_time_zone else cal.time_zone) if cal else "UTC"
        key = (row["calendar_id"] if cal else None, tz)
        if key not in self.cache:
            self.cache[key] = calendar_from_row(cal, tz) if cal else Calendar.around_the_clock()
        return _micros(self.cache[key], row["created_at"], end)


@dataclass(frozen=True)
class _Sources:
    clocks: dict[int, list[tuple[str, str, str]]]
    answers: dict[int, tuple[str, str]]
    logged: dict[int, list[tuple[str, int, str, int, bool]]]
    times: _BusinessTimes


def _demand_label(row: dict[str, Any], dimension: str, value: str) -> str:
    if dimension == "product":
        return str(row["product__name"] or "")
    if dimension == "release":
        return str(row["release__version"] or "")
    return _LABELS.get(dimension, {}).get(value, value)


def _entries(row: dict[str, Any], sources: _Sources) -> list[Entry]:
    """One case's cells: opened, demand, resolved and reopened, SLA, logged time, CSAT,
    and the business times to first response and resolution."""
    dims = (row["product_id"], row["queue_id"] or 0, row["contract__terms__tier"] or "")
    entries: list[Entry] = []

    def add(month: str, figure: str, value: str = "", label: str = "", micros: int = 0) -> None:
        entries.append(Entry((month, *dims, figure, value), label, 1, micros))

    opened = _month(row["created_at"])
    add(opened, "opened")
    for dimension, field in DEMAND.items():
        value = "" if row[field] is None else str(row[field])
        add(opened, f"demand.{dimension}", value, _demand_label(row, dimension, value) or UNKNOWN)
    if row["resolved_at"] is not None:
        add(_month(row["resolved_at"]), "resolved")
        if row["was_reopened"]:
            add(_month(row["resolved_at"]), "reopened")
    for kind, month, outcome in sources.clocks.get(row["pk"], []):
        add(month, f"sla.{kind}", outcome)
    for month, agent_id, agent, minutes, billable in sources.logged.get(row["pk"], []):
        entries.append(Entry((month, *dims, "time.logged", str(agent_id)), agent, minutes, 0))
        if billable:
            entries.append(Entry((month, *dims, "time.billable", str(agent_id)), agent, minutes, 0))
    if row["pk"] in sources.answers:
        rating, month = sources.answers[row["pk"]]
        add(month, "csat", rating)
    for figure, end in (("frt", row["first_response_at"]), ("ttr", row["resolved_at"])):
        if end is not None:
            micros = sources.times.micros(row, end)
            add(opened, figure, str(bucket(micros)), micros=micros)
    return entries


def _encode(entries: Iterable[Entry]) -> list[list[Any]]:
    return [[*e.key, e.label, e.n, e.micros] for e in entries]


def _decode(stored: Iterable[Sequence[Any]]) -> list[Entry]:
    return [Entry(tuple(item[:6]), item[6], item[7], item[8]) for item in stored]


def _totals(entries: Iterable[Entry]) -> tuple[Counter[Key], Counter[Key], dict[Key, str]]:
    n: Counter[Key] = Counter()
    micros: Counter[Key] = Counter()
    labels: dict[Key, str] = {}
    for e in entries:
        n[e.key] += e.n
        micros[e.key] += e.micros
        labels[e.key] = e.label
    return n, micros, labels


#: Add to a tally cell, creating it when missing (PostgreSQL and SQLite alike).
_UPSERT = (
    "INSERT INTO metrics_supportmonth"
    " (month, product_id, team_id, tier, figure, value, label, n, micros)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (month, product_id, team_id, tier, figure, value) DO UPDATE SET"
    " n = metrics_supportmonth.n + excluded.n,"
    " micros = metrics_supportmonth.micros + excluded.micros, label = excluded.label"
)


def _upsert(rows: list[tuple[Any, ...]]) -> None:
    """Add ``(key…, label, n, micros)`` to the tallies: insert, or ``n = n + delta``."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT, rows)


def apply_difference(old: Iterable[Entry], new: Iterable[Entry]) -> int:
    """Move the tallies from a case's old contribution to its new one; returns the
    number of cells changed."""
    old_n, old_micros, old_labels = _totals(old)
    new_n, new_micros, labels = _totals(new)
    rows = []
    for key in sorted(set(old_n) | set(new_n)):
        dn, dm = new_n[key] - old_n[key], new_micros[key] - old_micros[key]
        if dn or dm:
            label = labels.get(key, old_labels.get(key, ""))
            rows.append((dt.date.fromisoformat(key[0]), *key[1:], label, dn, dm))
    _upsert(rows)
    return len(rows)


@transaction.atomic
def refresh_cases(case_ids: Sequence[int]) -> int:
    """Bring the tallies up to date with these cases: lock their ``CaseFigures`` rows,
    compute their contributions again and apply the differences. Returns the cells
    changed."""
    ids = sorted(set(case_ids))
    CaseFigures.objects.bulk_create(
        [CaseFigures(case_id=pk, entries=[]) for pk in ids], ignore_conflicts=True
    )
    stored = {f.case_id: f for f in CaseFigures.objects.select_for_update().filter(case_id__in=ids)}
    found = contributions(ids)
    changed, now = 0, timezone.now()
    for pk, figures in stored.items():
        new = found.get(pk, [])
        changed += apply_difference(_decode(figures.entries), new)
        figures.entries, figures.computed_at = _encode(new), now
    CaseFigures.objects.bulk_update(stored.values(), ["entries", "computed_at"])
    return changed


def wants(topic: str, payload: Mapping[str, Any]) -> bool:
    """Every case event of ``TOPICS`` that names its case (``Subscriber.wants``)."""
    return topic in TOPICS and bool(payload.get("refs", {}).get("case"))


def handle(message: Message) -> None:
    """The outbox subscriber: refresh the case the event is about (idempotent: the
    case's contribution is computed again, not incremented)."""
    case_id = message.refs.get("case")
    if case_id:
        refresh_cases([int(case_id)])


def _chunks(ids: Iterator[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def touched_since(since: dt.datetime) -> Q:
    """Cases changed, answered, with time logged or a clock decided since an instant."""
    return (
        Q(created_at__gte=since)
        | Q(time_entries__created_at__gte=since)
        | Q(updated_at__gte=since)
        | Q(csat__answered_at__gte=since)
        | Q(clocks__stopped_at__gte=since)
        | Q(clocks__breached_at__gte=since)
    )


@dataclass(frozen=True)
class RebuildResult:
    cases: int
    rows: int
    seconds: float


@transaction.atomic
def rebuild(*, since: dt.datetime | None = None) -> RebuildResult:
    """Recompute the contributions of every case (or of the cases touched since an
    instant), then rewrite ``SupportMonth`` from all stored contributions with one
    set-based statement per step. One transaction: readers see the old tallies until it
    commits."""
    began = time.monotonic()
    cases = Case.objects.order_by("pk")
    if since is not None:
        cases = cases.filter(touched_since(since)).distinct()
    else:
        CaseFigures.objects.all().delete()
    count = 0
    for chunk in _chunks(cases.values_list("pk", flat=True).iterator(chunk_size=CHUNK), CHUNK):
        found = contributions(chunk)
        now = timezone.now()
        CaseFigures.objects.bulk_create(
            [CaseFigures(case_id=pk, entries=_encode(found.get(pk, [])), computed_at=now)
             for pk in chunk],
            update_conflicts=True, unique_fields=["case"], update_fields=["entries", "computed_at"],
        )  # fmt: skip
        count += len(chunk)
    rows = _retally()
    return RebuildResult(count, rows, time.monotonic() - began)


def _retally() -> int:
    """Rewrite the tallies from the stored contributions (summed per cell in batches)."""
    SupportMonth.objects.all().delete()
    n: Counter[Key] = Counter()
    micros: Counter[Key] = Counter()
    labels: dict[Key, str] = {}
    for entries in CaseFigures.objects.values_list("entries", flat=True).iterator(chunk_size=CHUNK):
        for item in entries:
            key = tuple(item[:6])
            n[key] += item[7]
            micros[key] += item[8]
            labels[key] = item[6]
    SupportMonth.objects.bulk_create(
        [
            SupportMonth(
                month=dt.date.fromisoformat(k[0]), product_id=k[1], team_id=k[2], tier=k[3],
                figure=k[4], value=k[5], label=labels[k], n=n[k], micros=micros[k],
            )
            for k in n
            if n[k] or micros[k]
        ],
        batch_size=2000,
    )  # fmt: skip
    return SupportMonth.objects.count()


# --- Reading ------------------------------------------------------------------------------


def duration_stats(histogram: Mapping[int, tuple[int, int]]) -> d.DurationStats:
    """Count, average and median from a duration histogram (bucket -> (n, micros)). The
    average is exact; the median is the mean of the bucket holding the middle duration
    (exact when that bucket's durations are equal, otherwise within its ~9 % width)."""
    count = sum(n for n, _ in histogram.values())
    if not count:
        return d.DurationStats(0, None, None)
    total = sum(m for _, m in histogram.values())
    hundredth = Decimal("0.01")

    def hours(micros: Decimal) -> Decimal:
        return (micros / 60_000_000 / 60).quantize(hundredth, ROUND_HALF_UP)

    def nth(index: int) -> Decimal:
        seen = 0
        for key in sorted(histogram):
            n, micros = histogram[key]
            seen += n
            if index < seen:
                return Decimal(micros) / n
        raise IndexError(index)

    middle = count // 2
    median = nth(middle) if count % 2 else (nth(middle - 1) + nth(middle)) / 2
    return d.DurationStats(count, hours(Decimal(total) / count), hours(median))
