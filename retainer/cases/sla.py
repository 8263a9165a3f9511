"""SLA clocks on business-hours calendars: the arithmetic is in ``retainer.lib.business_hours``;
this module turns stored rows into its plain values and answers "when is it due"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from retainer.lib.business_hours import Calendar, add_business_time

Pause = tuple[dt.datetime, dt.datetime | None]


def _parse_time(value: str) -> dt.time:
    if value in ("24:00", "24:00:00"):
        return dt.time(0)
    return dt.time.fromisoformat(value)


def calendar_from_row(row: Any, time_zone: str) -> Calendar:
    """A ``Calendar`` from a ``BusinessCalendar`` row read in ``time_zone``."""
    if row.always_open:
        return Calendar.around_the_clock(time_zone)
    hours = {
        int(day): [(_parse_time(start), _parse_time(end)) for start, end in windows]
        for day, windows in (row.hours or {}).items()
    }
    holidays = frozenset(dt.date.fromisoformat(day) for day in row.holidays or [])
    return Calendar(time_zone, hours, holidays)


@dataclass(frozen=True)
class ClockTimes:
    due_at: dt.datetime | None  # None while paused with no end in sight
    warn_at: dt.datetime | None


def clock_times(
    calendar: Calendar,
    *,
    started_at: dt.datetime,
    target_minutes: int,
    warning_percent: int,
    pauses: list[Pause],
) -> ClockTimes:
    """Due and warning instants of a clock that started at ``started_at``."""
    target = dt.timedelta(minutes=target_minutes)
    warn = dt.timedelta(minutes=target_minutes * warning_percent / 100)
    return ClockTimes(
        due_at=add_business_time(calendar, started_at, target, pauses),
        warn_at=add_business_time(calendar, started_at, warn, pauses),
    )
