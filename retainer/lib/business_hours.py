"""Business-hours calendars and SLA clock arithmetic: pure functions over plain values.

A :class:`Calendar` says when the clock runs: working hours per weekday as local wall-clock
times in one IANA time zone, minus whole-day public holidays (local dates), or around the
clock. :func:`add_business_time` answers "when is this due?", :func:`business_time_between`
answers "how much of the budget is used?"; both skip pause intervals (a case waiting on the
customer, for example).

All instants going in must be timezone-aware; instants coming out are aware UTC. Durations
are ``timedelta`` and exact to the microsecond (callers that store minutes round once, at the
edge).

Daylight-saving rule. Working hours are wall-clock times, so a working window that spans a
clock change has correspondingly fewer or more real hours: on the spring-forward Sunday in
Europe/Berlin, 01:00–03:00 lasts one real hour; on the fall-back Sunday it lasts three.
Each window is one contiguous span of real time, from the first instant the wall clock shows
its start to the last instant it shows its end:

* a start or end time that does not exist that day (inside a spring-forward gap) maps to the
  instant of the jump, the first instant whose wall clock is past it;
* an ambiguous start time (inside a fall-back repeat) maps to its first occurrence and an
  ambiguous end time to its second, so a window that contains the repeated hour gets it twice.

Where two windows of one day would then overlap in real time, the overlap counts once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "Calendar",
    "Pause",
    "add_business_time",
    "business_time_between",
    "is_business_time",
]

#: A pause in the clock: ``(start, end)``, aware instants; ``end=None`` means "paused since
#: ``start`` and still paused".
Pause = tuple[datetime, datetime | None]

Window = tuple[time, time]

_MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
# Stands in for "forever" in a 24×7 calendar; far enough out for any SLA, and arithmetic on it
# cannot overflow for realistic durations.
_END_OF_TIME = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Calendar:
    """When the business clock runs.

    ``time_zone``: IANA name such as ``"Europe/Berlin"``; working hours and holidays are read
    in it.
    ``hours``: weekday (0 = Monday … 6 = Sunday) → list of ``(start, end)`` wall-clock
    windows, naive ``datetime.time`` values with ``start < end``; ``end == time(0)`` means
    midnight at the end of the day (24:00). Windows of one day must not overlap; they may
    touch. A missing weekday has no working hours.
    ``holidays``: local dates that are entirely off.
    ``always_open``: a 24×7 calendar; then ``hours`` and ``holidays`` must be empty.

    Raises ``ValueError`` for an unknown time zone or malformed hours.
    """

    time_zone: str
    hours: Mapping[int, Sequence[Window]] = field(default_factory=dict, hash=False)
    holidays: AbstractSet[date] = field(default_factory=frozenset, hash=False)
    always_open: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _week: tuple[tuple[Window, ...], ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ValueError, LookupError):
            # ZoneInfoNotFoundError is a KeyError; malformed keys raise ValueError.
            raise ValueError(f"Unknown time zone {self.time_zone!r}.") from None
        if self.always_open and (any(self.hours.values()) or self.holidays):
            raise ValueError("A 24×7 calendar has no working hours or holidays to set.")
        unknown = set(self.hours) - set(range(7))
        if unknown:
            raise ValueError(f"Weekdays are 0 (Monday) to 6 (Sunday), got {sorted(unknown)}.")
        week = tuple(_check_windows(day, self.hours.get(day, ())) for day in range(7))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_week", week)

    @classmethod
    def around_the_clock(cls, time_zone: str = "UTC") -> Calendar:
        """A 24×7 calendar: business time is plain elapsed time."""
        return cls(time_zone, always_open=True)

    @classmethod
    def office_hours(
        cls,
        time_zone: str,
        start: time,
        end: time,
        *,
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> Calendar:
        """The same single window on each of ``weekdays`` (Monday to Friday by default)."""
        return cls(time_zone, {day: [(start, end)] for day in weekdays}, frozenset(holidays))

    @property
    def has_working_time(self) -> bool:
        """False for a calendar whose clock never runs (no hours on any weekday)."""
        return self.always_open or any(self._week)


def _check_windows(day: int, windows: Sequence[Window]) -> tuple[Window, ...]:
    checked = sorted(windows, key=lambda window: window[0])
    previous_end: time | None = None
    for start, end in checked:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"Working hours are wall-clock times without a zone (day {day}).")
        if end != _MIDNIGHT and end <= start:
            raise ValueError(f"Working window {start}–{end} on day {day} ends before it starts.")
        if previous_end is not None and (previous_end == _MIDNIGHT or start < previous_end):
            raise ValueError(f"Working windows on day {day} overlap at {start}.")
        previous_end = end
    return tuple(checked)


def _aware_utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}.")
    return value.astimezone(UTC)


def _local_to_utc(local: datetime, zone: ZoneInfo, *, is_end: bool) -> datetime:
    """Map a naive wall-clock time to an instant by the module's daylight-saving rule."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:  # repeated wall-clock time (fall back)
        return second if is_end else first
    # Nonexistent wall-clock time (spring forward): fold=1 reads it with the offset after the
    # jump and lands before the jump, fold=0 with the offset before and lands after it. The
    # jump lies in between; find it to the second (transitions fall on whole seconds).
    before = second.astimezone(zone).utcoffset()
    low, high = math.floor(second.timestamp()), math.ceil(first.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)


def _windows_from(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals in UTC, in order, non-overlapping, clipped to begin at ``start``.

    Endless unless the calendar has no working time (then it yields nothing, forever: callers
    bound it or check ``has_working_time`` first).
    """
    if calendar.always_open:
        yield start, _END_OF_TIME
        return
    zone = calendar._zone
    # One day back: a window of the previous local day can still be running at ``start``
    # around a clock change.
    day = start.astimezone(zone).date() - _ONE_DAY
    cursor = start
    while True:
        if day not in calendar.holidays:
            for window_start, window_end in calendar._week[day.weekday()]:
                end_day = day + _ONE_DAY if window_end == _MIDNIGHT else day
                begin = _local_to_utc(datetime.combine(day, window_start), zone, is_end=False)
                end = _local_to_utc(datetime.combine(end_day, window_end), zone, is_end=True)
                begin = max(begin, cursor)
                if begin < end:
                    yield begin, end
                    cursor = end
        day += _ONE_DAY


def _merge_pauses(pauses: Iterable[Pause]) -> list[tuple[datetime, datetime | None]]:
    merged: list[tuple[datetime, datetime | None]] = []
    checked: list[tuple[datetime, datetime | None]] = []
    for pause_start, pause_end in pauses:
        begin = _aware_utc("A pause's start", pause_start)
        end = None if pause_end is None else _aware_utc("A pause's end", pause_end)
        if end is not None and end < begin:
            raise ValueError(f"A pause ends before it starts: {pause_start} – {pause_end}.")
        checked.append((begin, end))
    checked.sort(key=lambda pause: pause[0])
    for begin, end in checked:
        if merged:
            last_begin, last_end = merged[-1]
            if last_end is None:
                break  # paused for good: later pauses change nothing
            if begin <= last_end:
                merged[-1] = (last_begin, None if end is None else max(end, last_end))
                continue
        merged.append((begin, end))
    return merged


def _running_intervals(
    calendar: Calendar, start: datetime, pauses: Iterable[Pause]
) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals from ``start`` with the pauses cut out; ends at an open pause."""
    merged = _merge_pauses(pauses)
    index = 0
    for begin, end in _windows_from(calendar, start):
        # Pauses entirely before this interval can no longer matter.
        while index < len(merged) and (stop := merged[index][1]) is not None and stop <= begin:
            index += 1
        cursor = begin
        position = index
        while position < len(merged) and merged[position][0] < end:
            pause_start, pause_end = merged[position]
            if pause_start > cursor:
                yield cursor, pause_start
            if pause_end is None:
                return
            cursor = max(cursor, pause_end)
            if cursor >= end:
                break
            position += 1
        if cursor < end:
            yield cursor, end


def add_business_time(
    calendar: Calendar,
    start: datetime,
    duration: timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The earliest instant at which ``duration`` of business time has run since ``start``.

    ``start`` is aware (any zone); the result is aware UTC. Non-working time, holidays and
    ``pauses`` do not count. A due time that falls exactly at the end of a working window is
    that end (18:00 Friday, not 09:00 Monday). ``duration`` zero returns ``start``.

    Returns ``None`` when an open pause (``(t, None)``) stops the clock before the duration
    is used up: nothing is due until the pause ends. Raises ``ValueError`` for a negative
    duration, a naive datetime, or a calendar that has no working time at all.

    Cost: proportional to the number of working windows crossed, not to the duration's length
    in minutes.
    """
    start = _aware_utc("start", start)
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}.")
    if duration == _ZERO:
        return start
    if not calendar.has_working_time:
        raise ValueError(
            f"The calendar in {calendar.time_zone} has no working hours on any weekday, "
            "so no business time ever elapses."
        )
    remaining = duration
    for begin, end in _running_intervals(calendar, start, pauses):
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    return None


def business_time_between(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[Pause] = (),
) -> timedelta:
    """Business time that runs from ``start`` to ``end``, excluding ``pauses``.

    Both instants are aware (any zone). Raises ``ValueError`` if ``end`` is before ``start``.
    A calendar without working time yields zero.
    """
    start = _aware_utc("start", start)
    end = _aware_utc("end", end)
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start}).")
    if not calendar.has_working_time:
        return _ZERO
    total = _ZERO
    for begin, stop in _running_intervals(calendar, start, pauses):
        if begin >= end:
            break
        total += min(stop, end) - begin
    return total


def is_business_time(calendar: Calendar, instant: datetime) -> bool:
    """Whether the clock runs at ``instant`` (working windows include their start, not end)."""
    instant = _aware_utc("instant", instant)
    if not calendar.has_working_time:
        return False
    begin, _ = next(_windows_from(calendar, instant))
    return begin == instant
