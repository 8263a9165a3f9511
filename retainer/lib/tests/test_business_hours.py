"""Business-hours calendars and SLA clock arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from retainer.lib.business_hours import (
    Calendar,
    Pause,
    add_business_time,
    business_time_between,
    is_business_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def office(time_zone: str = "Europe/Berlin", holidays: tuple[date, ...] = ()) -> Calendar:
    return Calendar.office_hours(time_zone, time(9), time(18), holidays=holidays)


# --- Examples ---------------------------------------------------------------------------------


def test_a_case_opened_friday_evening_is_due_monday_midday() -> None:
    due = add_business_time(office(), berlin(2025, 3, 7, 17, 30), 4 * H)
    assert due == berlin(2025, 3, 10, 12, 30)
    assert due is not None and due.tzinfo is UTC


def test_a_holiday_on_monday_moves_the_due_time_to_tuesday() -> None:
    calendar = office(holidays=(date(2025, 3, 10),))
    assert add_business_time(calendar, berlin(2025, 3, 7, 17, 30), 4 * H) == berlin(
        2025, 3, 11, 12, 30
    )


def test_a_due_time_at_the_end_of_the_day_stays_there() -> None:
    assert add_business_time(office(), berlin(2025, 3, 7, 17, 0), H) == berlin(2025, 3, 7, 18)


def test_a_start_before_opening_counts_from_opening() -> None:
    assert add_business_time(office(), berlin(2025, 3, 7, 6, 0), H) == berlin(2025, 3, 7, 10)


def test_around_the_clock_adds_plain_time() -> None:
    start = datetime(2025, 3, 29, 22, 15, tzinfo=UTC)
    calendar = Calendar.around_the_clock("Europe/Berlin")
    assert add_business_time(calendar, start, 50 * H) == start + 50 * H
    assert business_time_between(calendar, start, start + 50 * H) == 50 * H


def test_pauses_do_not_count() -> None:
    start = berlin(2025, 3, 10, 9)
    pauses: list[Pause] = [(berlin(2025, 3, 10, 10), berlin(2025, 3, 10, 12))]
    assert add_business_time(office(), start, 3 * H, pauses) == berlin(2025, 3, 10, 14)
    assert business_time_between(office(), start, berlin(2025, 3, 10, 14), pauses) == 3 * H


def test_overlapping_and_unordered_pauses_count_once() -> None:
    start = berlin(2025, 3, 10, 9)
    pauses: list[Pause] = [
        (berlin(2025, 3, 10, 11), berlin(2025, 3, 10, 12)),
        (berlin(2025, 3, 10, 10), berlin(2025, 3, 10, 11, 30)),
        (berlin(2025, 3, 10, 20), berlin(2025, 3, 11, 10)),  # overnight, ends in the next day
    ]
    assert business_time_between(office(), start, berlin(2025, 3, 11, 18), pauses) == 15 * H


def test_an_open_pause_stops_the_clock_for_good() -> None:
    start = berlin(2025, 3, 10, 9)
    pauses: list[Pause] = [(berlin(2025, 3, 10, 11), None)]
    assert add_business_time(office(), start, 3 * H, pauses) is None
    assert add_business_time(office(), start, 2 * H, pauses) == berlin(2025, 3, 10, 11)
    assert business_time_between(office(), start, berlin(2025, 3, 20), pauses) == 2 * H


def test_holidays_are_skipped_when_measuring() -> None:
    calendar = office(holidays=(date(2025, 12, 25), date(2025, 12, 26)))
    start, end = berlin(2025, 12, 22, 0), berlin(2025, 12, 29, 0)
    assert business_time_between(calendar, start, end) == 3 * 9 * H


def test_several_windows_a_day_and_midnight_as_the_end() -> None:
    calendar = Calendar(
        "Europe/Berlin",
        {0: [(time(13), time(17)), (time(8), time(12))], 1: [(time(22), time(0))]},
    )
    assert add_business_time(calendar, berlin(2025, 3, 10, 0), 5 * H) == berlin(2025, 3, 10, 14)
    assert add_business_time(calendar, berlin(2025, 3, 10, 0), 9 * H) == berlin(2025, 3, 11, 23)
    assert add_business_time(calendar, berlin(2025, 3, 10, 0), 10 * H) == berlin(2025, 3, 12, 0)
    assert add_business_time(calendar, berlin(2025, 3, 10, 0), 11 * H) == berlin(2025, 3, 17, 9)


def test_a_long_duration_is_computed_by_windows_not_minutes() -> None:
    # Ten years of nine-hour days: fast because it walks days, not minutes.
    start = berlin(2020, 1, 1)
    due = add_business_time(office(), start, 9 * H * 261 * 10)
    assert due is not None
    assert business_time_between(office(), start, due) == 9 * H * 261 * 10


def test_a_calendar_without_working_time_is_refused_when_adding() -> None:
    with pytest.raises(ValueError, match="no working hours"):
        add_business_time(Calendar("Europe/Berlin"), berlin(2025, 1, 1), H)
    assert business_time_between(Calendar("UTC"), berlin(2025, 1, 1), berlin(2026, 1, 1)) == (
        timedelta(0)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"hours": {0: [(time(18), time(9))]}}, "ends before it starts"),
        ({"hours": {0: [(time(9), time(12)), (time(11), time(13))]}}, "overlap"),
        ({"hours": {7: [(time(9), time(12))]}}, "Weekdays"),
        ({"hours": {0: [(time(9, tzinfo=UTC), time(12))]}}, "without a zone"),
        ({"always_open": True, "holidays": {date(2025, 1, 1)}}, "24×7"),
    ],
)
def test_malformed_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"time_zone": "Europe/Berlin", **kwargs}
    with pytest.raises(ValueError, match=message):
        Calendar(**arguments)  # type: ignore[arg-type]


def test_naive_datetimes_and_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_time(office(), datetime(2025, 1, 1), H)
    with pytest.raises(ValueError, match="negative"):
        add_business_time(office(), berlin(2025, 1, 1), -H)
    with pytest.raises(ValueError, match="before start"):
        business_time_between(office(), berlin(2025, 1, 2), berlin(2025, 1, 1))


def test_is_business_time_includes_the_start_of_a_window_but_not_its_end() -> None:
    assert is_business_time(office(), berlin(2025, 3, 10, 9))
    assert not is_business_time(office(), berlin(2025, 3, 10, 18))
    assert not is_business_time(office(), berlin(2025, 3, 9, 12))  # Sunday


# --- Daylight saving: a Sunday 00:00–04:00 window contains the clock change --------------------

SUNDAY_NIGHT = {6: [(time(0), time(4))]}


@pytest.mark.parametrize(
    ("time_zone", "sunday", "real_hours"),
    [
        ("Europe/Berlin", date(2025, 3, 30), 3),  # 02:00 → 03:00
        ("Europe/Berlin", date(2025, 10, 26), 5),  # 03:00 → 02:00
        ("America/New_York", date(2025, 3, 9), 3),  # 02:00 → 03:00
        ("America/New_York", date(2025, 11, 2), 5),  # 02:00 → 01:00
        ("Europe/Berlin", date(2025, 3, 23), 4),  # an ordinary Sunday
    ],
)
def test_a_window_spanning_a_clock_change_has_its_real_length(
    time_zone: str, sunday: date, real_hours: int
) -> None:
    calendar = Calendar(time_zone, SUNDAY_NIGHT)
    zone = ZoneInfo(time_zone)
    saturday_noon = datetime.combine(sunday - timedelta(days=1), time(12), zone)
    monday_noon = datetime.combine(sunday + timedelta(days=1), time(12), zone)
    assert business_time_between(calendar, saturday_noon, monday_noon) == real_hours * H
    due = add_business_time(calendar, saturday_noon, real_hours * H)
    assert due is not None
    assert due.astimezone(zone).replace(tzinfo=None) == datetime.combine(sunday, time(4))


def test_spring_forward_in_berlin_due_times_skip_the_missing_hour() -> None:
    calendar = Calendar("Europe/Berlin", SUNDAY_NIGHT)
    start = berlin(2025, 3, 30, 0)
    # From 00:00 CET (23:00 UTC), two real hours end at 01:00 UTC, which the wall clock shows
    # as 03:00 CEST: 02:00–03:00 never happened.
    assert add_business_time(calendar, start, 2 * H) == datetime(2025, 3, 30, 1, tzinfo=UTC)
    assert add_business_time(calendar, start, 2 * H) == berlin(2025, 3, 30, 3)


def test_fall_back_in_new_york_counts_the_repeated_hour_twice() -> None:
    calendar = Calendar("America/New_York", SUNDAY_NIGHT)
    start = datetime(2025, 11, 2, 0, tzinfo=NEW_YORK)  # 04:00 UTC
    due = add_business_time(calendar, start, 2 * H)
    assert due == datetime(2025, 11, 2, 6, tzinfo=UTC)  # 01:00 EST, the second 01:00
    assert due is not None and due.astimezone(NEW_YORK).fold == 1


def test_a_window_starting_in_the_spring_gap_starts_at_the_jump() -> None:
    calendar = Calendar("Europe/Berlin", {6: [(time(2, 30), time(5))]})
    saturday = berlin(2025, 3, 29)
    assert business_time_between(calendar, saturday, saturday + 48 * H) == 2 * H
    assert add_business_time(calendar, saturday, M) == datetime(2025, 3, 30, 1, 1, tzinfo=UTC)


def test_a_skipped_calendar_day_is_simply_absent() -> None:
    # Samoa skipped 30 December 2011 entirely.
    calendar = Calendar("Pacific/Apia", {day: [(time(9), time(17))] for day in range(7)})
    zone = ZoneInfo("Pacific/Apia")
    start = datetime(2011, 12, 29, 0, tzinfo=zone)
    end = datetime(2012, 1, 1, 0, tzinfo=zone)
    assert business_time_between(calendar, start, end) == 2 * 8 * H


# --- Properties -------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",  # 30-minute daylight saving
    "America/Santiago",  # changes at midnight
    "Europe/Dublin",  # negative daylight saving in the tz database
]
BASE = datetime(2015, 1, 1, tzinfo=UTC)


@st.composite
def day_windows(draw: st.DrawFn) -> list[tuple[time, time]]:
    marks = sorted(draw(st.sets(st.integers(0, 24 * 4), max_size=6)))
    marks = marks[: len(marks) // 2 * 2]
    windows = []
    for first, second in zip(marks[::2], marks[1::2], strict=True):
        start = time(first // 4, first % 4 * 15)
        end = time(0) if second == 96 else time(second // 4, second % 4 * 15)
        windows.append((start, end))
    return windows


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    time_zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return Calendar.around_the_clock(time_zone)
    hours = {day: draw(day_windows()) for day in range(7)}
    assume(any(hours.values()))
    holidays = draw(
        st.sets(st.dates(min_value=date(2015, 1, 1), max_value=date(2017, 12, 31)), max_size=40)
    )
    return Calendar(time_zone, hours, frozenset(holidays))


# Half the starts fall in the months with clock changes, so windows around them get exercised.
instants = st.one_of(
    st.integers(0, 3 * 365 * 24 * 60).map(lambda minutes: BASE + minutes * M),
    st.builds(
        lambda year, month, day, minute: datetime(year, month, day, tzinfo=UTC) + minute * M,
        st.integers(2015, 2017),
        st.sampled_from([3, 4, 9, 10, 11]),
        st.integers(1, 30),
        st.integers(0, 24 * 60 - 1),
    ),
)
durations = st.integers(0, 300 * 60).map(lambda minutes: minutes * M)


@st.composite
def closed_pauses(draw: st.DrawFn, around: datetime) -> list[Pause]:
    pauses: list[Pause] = []
    for _ in range(draw(st.integers(0, 4))):
        offset = draw(st.integers(-2 * 24 * 60, 20 * 24 * 60)) * M
        length = draw(st.integers(0, 3 * 24 * 60)) * M
        pauses.append((around + offset, around + offset + length))
    return pauses


PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(calendars(), instants, durations, durations)
def test_a_longer_duration_is_never_due_earlier(
    calendar: Calendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    early, late = (
        add_business_time(calendar, start, shorter),
        add_business_time(calendar, start, longer),
    )
    assert early is not None and late is not None
    assert early <= late


@PROPERTY
@given(calendars(), instants, instants, durations)
def test_a_later_start_is_never_due_earlier(
    calendar: Calendar, first: datetime, second: datetime, duration: timedelta
) -> None:
    earlier, later = sorted((first, second))
    due_earlier = add_business_time(calendar, earlier, duration)
    due_later = add_business_time(calendar, later, duration)
    assert due_earlier is not None and due_later is not None
    assert due_earlier <= due_later


@PROPERTY
@given(st.data(), calendars(), instants, durations)
def test_measuring_up_to_the_due_time_gives_back_the_duration(
    data: st.DataObject, calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    pauses = data.draw(closed_pauses(start))
    due = add_business_time(calendar, start, duration, pauses)
    assert due is not None
    assert business_time_between(calendar, start, due, pauses) == duration


@PROPERTY
@given(st.data(), calendars(), instants, durations)
def test_pauses_never_make_the_due_time_earlier(
    data: st.DataObject, calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    pauses = data.draw(closed_pauses(start))
    if data.draw(st.booleans()):
        pauses.append((start + data.draw(durations), None))
    unpaused = add_business_time(calendar, start, duration)
    paused = add_business_time(calendar, start, duration, pauses)
    assert unpaused is not None
    assert paused is None or paused >= unpaused


@PROPERTY
@given(st.data(), calendars(), instants, durations, durations)
def test_adding_in_two_steps_equals_adding_at_once(
    data: st.DataObject,
    calendar: Calendar,
    start: datetime,
    first: timedelta,
    second: timedelta,
) -> None:
    pauses = data.draw(closed_pauses(start))
    halfway = add_business_time(calendar, start, first, pauses)
    assert halfway is not None
    assert add_business_time(calendar, halfway, second, pauses) == add_business_time(
        calendar, start, first + second, pauses
    )


def _works_by_the_wall_clock(calendar: Calendar, instant: datetime) -> bool | None:
    """Independent oracle: the local date is a working day and the wall clock is in a window.

    Returns None where the wall clock is ambiguous (a repeated hour), which the module resolves
    by its own documented rule.
    """
    zone = ZoneInfo(calendar.time_zone)
    local = instant.astimezone(zone)
    naive = local.replace(tzinfo=None)
    if (
        naive.replace(tzinfo=zone, fold=0).utcoffset()
        != naive.replace(tzinfo=zone, fold=1).utcoffset()
    ):
        return None
    if calendar.always_open:
        return True
    if local.date() in calendar.holidays:
        return False
    clock = local.time()
    return any(
        start <= clock and (end == time(0) or clock < end)
        for start, end in calendar.hours.get(local.weekday(), ())
    )


@PROPERTY
@given(calendars(), instants, durations.filter(lambda duration: duration > timedelta(0)))
def test_the_clock_was_running_just_before_a_due_time(
    calendar: Calendar, start: datetime, duration: timedelta
) -> None:
    # So a due time is inside working hours, or exactly at the end of a window; never on a
    # holiday or at night.
    due = add_business_time(calendar, start, duration)
    assert due is not None
    verdict = _works_by_the_wall_clock(calendar, due - timedelta(seconds=1))
    assert verdict in (True, None)
