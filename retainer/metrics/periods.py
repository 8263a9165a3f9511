"""The periods the dashboards and the API report on: pure parsing, no ORM.

``2026`` (a calendar year), ``2026-Q1`` (a quarter), ``2026-03`` (a month), or ``12m``
(the twelve months up to and including the current one, the default).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from retainer.metrics.definitions import month_end

DEFAULT = "12m"
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: dt.date  # first day
    end: dt.date  # last day (inclusive)

    @property
    def months(self) -> list[dt.date]:
        """The first day of every month of the period."""
        found, month = [], self.start.replace(day=1)
        while month <= self.end:
            found.append(month)
            month = add_months(month, 1)
        return found

    def as_of(self, today: dt.date) -> dt.date:
        """The last day with figures: the period's end, or today while it runs."""
        return min(self.end, today)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_period(value: str, *, today: dt.date) -> Period:
    """A period from its key; ``ValueError`` with a sentence for anything else."""
    value = (value or DEFAULT).strip()
    if value == DEFAULT:
        start = add_months(today.replace(day=1), -11)
        return Period(DEFAULT, "Last 12 months", start, month_end(today.replace(day=1)))
    if match := _YEAR.match(value):
        year = int(match[1])
        return Period(value, value, dt.date(year, 1, 1), dt.date(year, 12, 31))
    if match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        start = dt.date(year, 3 * quarter - 2, 1)
        return Period(value, f"Q{quarter} {year}", start, month_end(add_months(start, 2)))
    if (match := _MONTH.match(value)) and 1 <= int(match[2]) <= 12:
        start = dt.date(int(match[1]), int(match[2]), 1)
        return Period(value, f"{start:%B %Y}", start, month_end(start))
    raise ValueError("Use a year (2026), a quarter (2026-Q1), a month (2026-03) or 12m.")
