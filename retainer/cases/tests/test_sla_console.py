"""SLA settings in the console: calendars and targets read by every staff role, changed by
managers and admins, refused with the field's error; and what a clock's warning or breach
does to its case once the scan reaches it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from retainer.accounts import actions as account_actions
from retainer.cases import actions
from retainer.cases.choices import Priority, SlaAction
from retainer.cases.models import BusinessCalendar, CaseEvent, SlaClock, SlaTarget
from retainer.lib.tests.hostile import PAYLOADS, active_content

OFFICE = {
    "name": "Berlin office",
    "time_zone": "Europe/Berlin",
    "monday": "09:00-12:30, 13:30-18:00",
    "tuesday": "9:00-18:00",
    "friday": "09:00-16:00",
    "holidays": "2026-12-25\n2026-12-24",
}


@pytest.fixture
def calendar(cast) -> BusinessCalendar:
    return actions.do_save_calendar(
        None,
        name="Office",
        time_zone="UTC",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
        actor=cast.admin,
    )


@pytest.fixture
def around_the_clock(cast) -> BusinessCalendar:
    return actions.do_save_calendar(None, name="24×7", always_open=True, actor=cast.admin)


def test_every_staff_role_reads_the_settings_with_durations_as_hours(cast, calendar):
    actions.do_save_sla_target(
        None, severity=1, calendar=calendar, first_response_minutes=90,
        resolution_minutes=8 * 60, breach_action=SlaAction.RAISE_PRIORITY, actor=cast.admin,
    )  # fmt: skip
    for user in (cast.agent, cast.billing, cast.manager):
        response = cast.client_for(user).get(reverse("console:sla_settings"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "Office" in body and "Monday 09:00-18:00" in body
        assert "1:30" in body and "8:00" in body
        assert "Raise the priority one step" in body
    assert "New target" not in cast.client_for(cast.agent).get("/console/sla/").content.decode()
    assert "New target" in cast.client_for(cast.manager).get("/console/sla/").content.decode()


def test_a_manager_creates_a_calendar_with_hours_per_weekday_and_holidays(cast):
    response = cast.client_for(cast.manager).post(reverse("console:calendar_new"), OFFICE)
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Berlin office")
    assert calendar.time_zone == "Europe/Berlin"
    assert calendar.hours == {
        "0": [["09:00", "12:30"], ["13:30", "18:00"]],
        "1": [["09:00", "18:00"]],
        "4": [["09:00", "16:00"]],
    }
    assert calendar.holidays == ["2026-12-24", "2026-12-25"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("monday", "18:00-09:00", "ends before it starts"),
        ("monday", "09:00-12:00, 11:00-18:00", "overlap"),
        ("tuesday", "9 to 5", "is not a working window"),
        ("wednesday", "09:00-25:00", "is not a working window"),
        ("holidays", "25.12.2026", "is not a date"),
        ("time_zone", "Mars/Olympus", "is not an IANA time zone"),
    ],
)
def test_a_bad_value_is_refused_beside_its_field(cast, field, value, message):
    response = cast.client_for(cast.manager).post(
        reverse("console:calendar_new"), {**OFFICE, field: value}
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not BusinessCalendar.objects.exists()


def test_a_24x7_calendar_with_hours_is_refused(cast):
    response = cast.client_for(cast.manager).post(
        reverse("console:calendar_new"), {**OFFICE, "always_open": "on"}
    )
    assert response.status_code == 400
    assert "always_open" in response.context["form"].errors


def test_editing_a_calendar_shows_its_values_and_saves_the_change(cast, calendar):
    client = cast.client_for(cast.manager)
    url = reverse("console:calendar_edit", kwargs={"pk": calendar.pk})
    form = client.get(url).context["form"]
    assert form["monday"].value() == "09:00-18:00"
    response = client.post(url, {"name": "Office", "time_zone": "UTC", "monday": "08:00-17:00"})
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert calendar.hours == {"0": [["08:00", "17:00"]]}


def test_a_duplicate_calendar_name_is_refused_on_the_name(cast, calendar):
    response = cast.client_for(cast.manager).post(
        reverse("console:calendar_new"), {**OFFICE, "name": "Office"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"]


def test_agents_and_billing_may_not_change_the_sla_settings(cast, calendar):
    for user in (cast.agent, cast.billing):
        client = cast.client_for(user)
        assert client.get(reverse("console:calendar_new")).status_code == 403
        assert client.post(reverse("console:calendar_new"), OFFICE).status_code == 403
        assert client.post(reverse("console:sla_target_new"), {}).status_code == 403
    assert BusinessCalendar.objects.count() == 1


def test_the_check_refuses_an_agent_whatever_the_door(cast):
    from retainer.lib.errors import NotPermitted

    with pytest.raises(NotPermitted):
        actions.check_save_calendar(cast.agent, None, name="Mine")


def test_a_manager_creates_a_target_in_hours_and_minutes(cast, calendar):
    team = account_actions.do_save_team(None, name="Escalations", actor=cast.admin)
    response = cast.client_for(cast.manager).post(
        reverse("console:sla_target_new"),
        {
            "severity": "1", "calendar": calendar.pk, "first_response_minutes": "0:30",
            "next_response_minutes": "1:00", "resolution_minutes": "8", "warning_percent": "75",
            "warning_action": SlaAction.NOTIFY_ASSIGNEE, "breach_action": SlaAction.ESCALATE,
            "escalation_team": team.pk,
        },
    )  # fmt: skip
    assert response.status_code == 302
    target = SlaTarget.objects.get()
    assert (target.plan, target.severity) == (None, 1)
    assert (target.first_response_minutes, target.next_response_minutes) == (30, 60)
    assert (target.resolution_minutes, target.warning_percent) == (480, 75)
    assert target.escalation_team == team


def test_escalating_without_a_team_is_refused_on_the_team(cast, calendar):
    response = cast.client_for(cast.manager).post(
        reverse("console:sla_target_new"),
        {
            "severity": "2", "calendar": calendar.pk, "first_response_minutes": "1:00",
            "resolution_minutes": "bad", "warning_percent": "80", "warning_action": "none",
            "breach_action": SlaAction.ESCALATE,
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "h:mm" in response.context["form"].errors["resolution_minutes"][0]
    response = cast.client_for(cast.manager).post(
        reverse("console:sla_target_new"),
        {
            "severity": "2", "calendar": calendar.pk, "first_response_minutes": "1:00",
            "resolution_minutes": "9:00", "warning_percent": "80", "warning_action": "none",
            "breach_action": SlaAction.ESCALATE,
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors["escalation_team"]
    assert not SlaTarget.objects.exists()


def test_a_second_default_target_for_a_severity_is_refused(cast, calendar):
    actions.do_save_sla_target(
        None, severity=3, calendar=calendar, first_response_minutes=60, resolution_minutes=600,
        actor=cast.admin,
    )  # fmt: skip
    response = cast.client_for(cast.manager).post(
        reverse("console:sla_target_new"),
        {
            "severity": "3", "calendar": calendar.pk, "first_response_minutes": "2:00",
            "resolution_minutes": "9:00", "warning_percent": "80", "warning_action": "none",
            "breach_action": "none",
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert "already a default target" in str(response.context["form"].non_field_errors())


def test_editing_a_target_changes_the_clocks_of_new_cases(cast, desk, calendar, around_the_clock):
    target = actions.do_save_sla_target(
        None, severity=2, calendar=calendar, first_response_minutes=60, resolution_minutes=600,
        actor=cast.admin,
    )  # fmt: skip
    url = reverse("console:sla_target_edit", kwargs={"pk": target.pk})
    form = cast.client_for(cast.manager).get(url).context["form"]
    assert form["first_response_minutes"].as_widget().count('value="1:00"') == 1
    response = cast.client_for(cast.manager).post(
        url,
        {
            "severity": "2", "calendar": around_the_clock.pk, "first_response_minutes": "2:00",
            "resolution_minutes": "10:00", "warning_percent": "80", "warning_action": "none",
            "breach_action": "none",
        },
    )  # fmt: skip
    assert response.status_code == 302
    opened = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)  # a Saturday: 24×7 runs
    with time_machine.travel(opened, tick=False):
        case = actions.check_open_case(
            cast.contact.user, contact=cast.contact, product=desk.product, subject="Down",
            description="All down", channel="web", severity=2,
        )  # fmt: skip
    clock = SlaClock.objects.get(case=case, kind="first_response")
    assert clock.due_at == opened + dt.timedelta(hours=2)


@pytest.mark.parametrize("payload", PAYLOADS[::4])
def test_calendar_names_show_as_the_text_typed(cast, calendar, payload):
    """The settings page holds exactly the active parts it holds for a harmless name."""
    client = cast.client_for(cast.manager)
    edit = reverse("console:calendar_edit", kwargs={"pk": calendar.pk})
    harmless = client.get(reverse("console:sla_settings")).content.decode()
    assert client.post(edit, {"name": payload, "time_zone": "UTC"}).status_code == 302
    hostile = client.get(reverse("console:sla_settings")).content.decode()
    assert active_content(hostile) == active_content(harmless)


def test_the_settings_page_queries_do_not_grow_with_the_targets(
    cast, calendar, django_assert_max_num_queries
):
    for severity in (1, 2, 3, 4):
        actions.do_save_sla_target(
            None, severity=severity, calendar=calendar, first_response_minutes=60,
            resolution_minutes=600, actor=cast.admin,
        )  # fmt: skip
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("console:sla_settings")).status_code == 200


# --- What the scan does on a warning or a breach --------------------------------------------


def _open_assigned(cast, desk, *, at: dt.datetime):
    with time_machine.travel(at, tick=False):
        case = actions.check_open_case(
            cast.contact.user, contact=cast.contact, product=desk.product, subject="Down",
            description="All down", channel="web", severity=1,
        )  # fmt: skip
        actions.do_update_case(case, assignee=cast.agent, actor=cast.agent)
    return case


def _actions_taken(case) -> list[dict]:
    return list(
        CaseEvent.objects.filter(case=case, type="sla_action_taken").values_list("data", flat=True)
    )


def test_a_warning_leaves_the_assignee_to_the_mail_channel_and_a_breach_raises_the_priority(
    cast, desk, around_the_clock, django_capture_on_commit_callbacks
):
    actions.do_save_sla_target(
        None, severity=1, calendar=around_the_clock, first_response_minutes=60,
        resolution_minutes=600, warning_action=SlaAction.NOTIFY_ASSIGNEE,
        breach_action=SlaAction.RAISE_PRIORITY, actor=cast.admin,
    )  # fmt: skip
    opened = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    case = _open_assigned(cast, desk, at=opened)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=50))  # 80 % of 60
    # No e-mail of its own: the mail channel answers the warning event, once
    # (retainer/mail/tests/test_notifications.py).
    assert mail.outbox == []
    assert _actions_taken(case) == [
        {"clock": "first_response", "moment": "warning", "action": "notify_assignee",
         "detail": f"E-mailed {cast.agent.full_name}."},
    ]  # fmt: skip
    actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=61))
    actions.do_scan_sla_clocks(now=opened + dt.timedelta(minutes=62))  # once per clock
    case.refresh_from_db()
    assert case.priority == Priority.HIGH  # from normal, one step
    assert [e["moment"] for e in _actions_taken(case)] == ["warning", "breached"]
    assert CaseEvent.objects.filter(case=case, type="fields_changed").exists()


def test_a_breach_escalates_to_the_team(cast, desk, around_the_clock):
    team = account_actions.do_save_team(None, name="Escalations", actor=cast.admin)
    actions.do_save_sla_target(
        None, severity=1, calendar=around_the_clock, first_response_minutes=60,
        resolution_minutes=600, breach_action=SlaAction.ESCALATE, escalation_team=team,
        actor=cast.admin,
    )  # fmt: skip
    opened = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    case = _open_assigned(cast, desk, at=opened)
    actions.do_scan_sla_clocks(now=opened + dt.timedelta(hours=11))  # both clocks breached
    case.refresh_from_db()
    assert case.queue == team
    assert [e["detail"] for e in _actions_taken(case)] == [
        "Moved to Escalations.",
        "Already with Escalations.",
    ]
    assert all(e.is_internal for e in CaseEvent.objects.filter(case=case, type="sla_action_taken"))


def test_a_target_without_actions_only_records_the_breach(cast, desk, around_the_clock):
    actions.do_save_sla_target(
        None, severity=1, calendar=around_the_clock, first_response_minutes=60,
        resolution_minutes=600, actor=cast.admin,
    )  # fmt: skip
    opened = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    case = _open_assigned(cast, desk, at=opened)
    assert actions.do_scan_sla_clocks(now=opened + dt.timedelta(hours=2))["breached"] == 1
    assert _actions_taken(case) == []
