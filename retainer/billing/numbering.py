"""Gap-free document numbers: ``INV-2026-000123``, ``CN-2026-000007``.

A number is allocated only inside the transaction that issues the document: the
series' counter row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
immediate transactions already hold the write lock), incremented, and the document
saved with its number before the commit. A transaction that rolls back (a killed run,
a failed issue) rolls the counter back too, so the numbers have no gap.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from retainer.billing.models import NumberSeries

INVOICE_PREFIX = "INV"
CREDIT_NOTE_PREFIX = "CN"
DIGITS = 6


def series_name(prefix: str, year: int) -> str:
    return f"{prefix}-{year}"


def format_number(series: str, number: int) -> str:
    return f"{series}-{number:0{DIGITS}d}"


def _locked_series(name: str) -> NumberSeries:
    try:
        with transaction.atomic():
            NumberSeries.objects.get_or_create(name=name)
    except IntegrityError:  # created by a concurrent transaction: it exists now
        pass
    return NumberSeries.objects.select_for_update().get(name=name)


def allocate(prefix: str, year: int, count: int = 1) -> list[str]:
    """Take the next ``count`` numbers of a series. Must run inside the issuing
    transaction (locks the series row until it ends)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers are allocated only inside the issuing transaction.")
    if count <= 0:
        return []
    name = series_name(prefix, year)
    series = _locked_series(name)
    first = series.last_number + 1
    series.last_number += count
    series.save(update_fields=["last_number"])
    return [format_number(name, n) for n in range(first, first + count)]
