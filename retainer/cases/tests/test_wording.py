"""The staff wording of decisions and events, and durations as people say them."""

from __future__ import annotations

import datetime as dt

from retainer.cases import wording
from retainer.cases.selectors import countdown_text, duration_text

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_durations_are_singular_for_one():
    assert duration_text(1) == "1 minute"
    assert duration_text(45) == "45 minutes"
    assert duration_text(190) == "3 h 10 min"
    assert duration_text(120) == "2 h"
    assert wording.minutes_text(1) == "1 minute"


def test_a_passed_due_time_is_overdue_not_zero():
    assert countdown_text(NOW - dt.timedelta(hours=3, minutes=10), now=NOW) == (
        "overdue by 3 h 10 min"
    )
    assert countdown_text(NOW + dt.timedelta(minutes=25), now=NOW) == "in 25 minutes"


def test_staff_read_which_contract_or_why_none():
    assert wording.staff_decision_text(outcome="covered", reason="chosen", contract=7) == (
        "Covered by contract #7."
    )
    refused = wording.staff_decision_text(
        outcome="not_entitled", reason="contact_not_named", contract=None
    )
    assert refused == "Not entitled: The contact is not a named contact on the contract."
    out = wording.staff_decision_text(
        outcome="out_of_scope",
        reason="release_unsupported",
        contract=None,
        offering_kind="backport",
    )
    assert "Out of the scope of support" in out and "backport service" in out


def test_events_read_as_sentences():
    assert wording.EVENT_LABELS["sla_started"] == "SLA started"
    started = wording.event_summary(
        "sla_started", {"clock": "first_response", "due_at": "2026-11-23T13:00:00+00:00"}
    )
    assert started == "First response, due 2026-11-23 13:00"
    logged = {"entry": 1, "minutes": 1, "billable": True, "covered": 1, "overage": 0}
    assert wording.event_summary("time_logged", logged, note="Logs") == (
        "1 minute, billable (1 minute covered): “Logs”"
    )
    assert wording.event_summary("status_changed", {"old": "new", "new": "open"}) == "New → Open"


def test_an_event_row_older_than_its_shape_reads_as_nothing():
    assert wording.event_summary("decision_overridden", {}) == ""
