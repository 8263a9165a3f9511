"""SLA clocks on a case: due times on business hours, pauses while waiting on the
customer, one warning and one breach per clock, met when answered."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from retainer.cases import actions
from retainer.cases.models import BusinessCalendar, CaseEvent, SlaClock, SlaTarget

BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def office(db):
    calendar = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
        holidays=["2026-12-25"],
    )
    return SlaTarget.objects.create(
        severity=2,
        calendar=calendar,
        first_response_minutes=4 * 60,
        next_response_minutes=8 * 60,
        resolution_minutes=5 * 9 * 60,
    )


def open_on(cast, desk, when):
    with time_machine.travel(when, tick=False):
        return actions.check_open_case(
            contact=cast.contact, product=desk.product, subject="Down", description="All down",
            channel="web", severity=2, actor=cast.contact.user,
        )  # fmt: skip


def clock(case, kind):
    return SlaClock.objects.get(case=case, kind=kind)


def test_friday_1730_with_four_business_hours_is_due_monday_1230(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 20, 17, 30))  # a Friday
    assert clock(case, "first_response").due_at == at(2026, 11, 23, 12, 30)


def test_waiting_on_the_customer_pauses_the_clocks(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))  # Monday 09:00, due 13:00
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        actions.do_transition_case(case, "waiting_on_customer", actor=cast.agent)
    assert clock(case, "first_response").due_at is None  # no end in sight while paused
    with time_machine.travel(at(2026, 11, 23, 15, 0), tick=False):
        actions.do_transition_case(case, "open", actor=cast.agent)
    # 1 hour ran before the pause, 3 remain from 15:00.
    assert clock(case, "first_response").due_at == at(2026, 11, 23, 18, 0)


def test_a_public_reply_meets_the_first_response_target(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 9, 30), tick=False):
        actions.do_add_message(case, author=cast.agent, body="On it.")
    first = clock(case, "first_response")
    assert first.stopped_at == at(2026, 11, 23, 9, 30) and first.breached_at is None
    assert CaseEvent.objects.filter(case=case, type="sla_met").count() == 1


def test_a_customer_reply_starts_the_next_response_clock(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 9, 30), tick=False):
        actions.do_add_message(case, author=cast.agent, body="Which version?")
    with time_machine.travel(at(2026, 11, 23, 16, 0), tick=False):
        actions.do_add_message(case, author=cast.contact.user, body="5.0")
    assert clock(case, "next_response").due_at == at(2026, 11, 24, 15, 0)


def test_the_scan_warns_once_and_breaches_once(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))  # first response due 13:00, warning at 12:12
    assert actions.do_scan_sla_clocks(now=at(2026, 11, 23, 12, 30)) == {"warned": 1, "breached": 0}
    assert actions.do_scan_sla_clocks(now=at(2026, 11, 23, 12, 40)) == {"warned": 0, "breached": 0}
    assert actions.do_scan_sla_clocks(now=at(2026, 11, 23, 13, 1)) == {"warned": 0, "breached": 1}
    assert actions.do_scan_sla_clocks(now=at(2026, 11, 23, 13, 5)) == {"warned": 0, "breached": 0}
    assert CaseEvent.objects.filter(case=case, type="sla_breached").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
def test_scans_side_by_side_warn_each_clock_once(cast, desk, office):
    """Several workers may run scans at once: the second waits for the first's row
    locks and finds the clock warned."""
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))  # warning at 12:12, due 13:00
    now = at(2026, 11, 23, 12, 30)
    scanned, release, results = threading.Event(), threading.Event(), {}

    def first_scan() -> None:
        try:
            with transaction.atomic():  # holds its locks until released
                results["first"] = actions.do_scan_sla_clocks(now=now)
                scanned.set()
                release.wait(10)
        finally:
            connection.close()

    def second_scan() -> None:
        try:
            results["second"] = actions.do_scan_sla_clocks(now=now)
        finally:
            connection.close()

    first = threading.Thread(target=first_scan)
    first.start()
    assert scanned.wait(10)
    second = threading.Thread(target=second_scan)
    second.start()
    second.join(1)
    blocked = second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert blocked, "the second scan did not wait for the first one's locks"
    assert results == {
        "first": {"warned": 1, "breached": 0},
        "second": {"warned": 0, "breached": 0},
    }
    assert CaseEvent.objects.filter(case=case, type="sla_warning").count() == 1


def test_holidays_are_skipped(cast, desk, office):
    case = open_on(cast, desk, at(2026, 12, 24, 17, 0))  # Thursday; Friday 25th is a holiday
    assert clock(case, "first_response").due_at == at(2026, 12, 28, 12, 0)


def test_resolving_stops_every_clock(cast, desk, office):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        actions.do_transition_case(case, "resolved", root_cause="how_to", actor=cast.agent)
    assert not SlaClock.objects.filter(case=case, stopped_at__isnull=True).exists()


def test_a_case_without_targets_has_no_clocks(cast, desk):
    case = open_on(cast, desk, at(2026, 11, 23, 9, 0))
    assert not SlaClock.objects.filter(case=case).exists()


def test_a_calendar_with_bad_hours_is_refused(db):
    from django.core.exceptions import ValidationError

    calendar = BusinessCalendar(name="Broken", hours={"0": [["18:00", "09:00"]]})
    with pytest.raises(ValidationError):
        calendar.full_clean()
