"""The agent console: queues, the case page and its forms, through HTTP."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from retainer.cases import actions
from retainer.cases.models import Case, RunningTimer, TimeEntry


def opened(cast, desk, who=None, **extra) -> Case:
    contact = who or cast.contact
    return actions.check_open_case(
        contact=contact, product=desk.product, subject=extra.pop("subject", "Posting fails"),
        description="It fails.", channel="web", actor=contact.user, **extra,
    )  # fmt: skip


def count_on(html: str) -> str:
    match = re.search(r"Page \d+ · ([\d+]+) cases", html)
    assert match, html[-500:]
    return match.group(1)


def test_queues_count_and_list_the_right_cases(cast, desk, incident_bank):
    mine = opened(cast, desk)
    actions.do_update_case(mine, assignee=cast.agent, actor=cast.agent)
    opened(cast, desk, subject="Nobody's yet")
    client = cast.client_for(cast.agent)
    page = client.get("/console/cases/?view=mine").content.decode()
    assert mine.reference in page and count_on(page) == "1"
    unassigned = client.get("/console/cases/?view=unassigned").content.decode()
    assert "Nobody&#x27;s yet" in unassigned and mine.reference not in unassigned


def test_filters_search_and_empty_any_options(cast, desk, incident_bank):
    opened(cast, desk, severity=1, subject="Critical outage")
    opened(cast, desk, severity=4, subject="Cosmetic")
    client = cast.client_for(cast.agent)
    assert count_on(client.get("/console/cases/?view=active&severity=1").content.decode()) == "1"
    assert (
        count_on(
            client.get("/console/cases/?view=active&severity=&entitlement=&q=").content.decode()
        )
        == "2"
    )
    assert count_on(client.get("/console/cases/?view=active&q=outage").content.decode()) == "1"


def test_htmx_gets_only_the_rows(cast, desk, incident_bank):
    opened(cast, desk)
    response = cast.client_for(cast.agent).get(
        "/console/cases/?view=active", HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in response.content and b"queue-table" in response.content


def test_the_queue_runs_a_fixed_number_of_queries(
    cast, desk, incident_bank, django_assert_max_num_queries
):
    for n in range(3):
        opened(cast, desk, subject=f"Case {n}")
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(20) as few:
        client.get("/console/cases/?view=active")
    for n in range(15):
        opened(cast, desk, subject=f"More {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/console/cases/?view=active")


def test_the_case_page_runs_a_fixed_number_of_queries(
    cast, desk, hour_bank, django_assert_max_num_queries
):
    case = opened(cast, desk)
    client = cast.client_for(cast.agent)
    actions.do_add_message(case, author=cast.agent, body="first")
    with django_assert_max_num_queries(40) as few:
        client.get(f"/console/cases/{case.public_id}/")
    for n in range(10):
        actions.do_add_message(case, author=cast.agent, body=f"more {n}")
        actions.do_log_time(case, agent=cast.agent, minutes=5, actor=cast.agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/console/cases/{case.public_id}/")


def test_an_agent_replies_writes_a_note_resolves_and_the_customer_sees_only_the_reply(
    cast, desk, incident_bank
):
    case = opened(cast, desk)
    agent = cast.client_for(cast.agent)
    base = f"/console/cases/{case.public_id}"
    agent.post(f"{base}/assign/", {"me": "1"})
    agent.post(f"{base}/replies/", {"body": "Please try the patch."})
    agent.post(f"{base}/replies/", {"body": "Customer is on an old JVM", "internal": "on"})
    agent.post(f"{base}/transition/", {"status": "resolved", "root_cause": "configuration"})
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.assignee) == (
        "resolved",
        "configuration",
        cast.agent,
    )
    messages = cast.client_for(cast.contact).get(f"/api/v1/cases/{case.public_id}/messages/").json()
    assert [m["body"] for m in messages] == ["Please try the patch."]


def test_resolving_without_a_root_cause_shows_the_reason(cast, desk, incident_bank):
    case = opened(cast, desk)
    response = cast.client_for(cast.agent).post(
        f"/console/cases/{case.public_id}/transition/", {"status": "resolved"}, follow=True
    )
    assert "Choose a root cause" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "new"


def test_the_timer_survives_reloads_and_logs_the_elapsed_minutes(cast, desk, hour_bank):
    case = opened(cast, desk)
    agent = cast.client_for(cast.agent)
    base = f"/console/cases/{case.public_id}"
    agent.post(f"{base}/timer/start/")
    assert b"Timer running since" in agent.get(f"{base}/").content
    RunningTimer.objects.filter(agent=cast.agent).update(
        started_at=timezone.now() - dt.timedelta(minutes=45)
    )
    agent.post(f"{base}/timer/stop/", {"billable": "on"})
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.billable, entry.covered_minutes) == (45, True, 45)
    assert not RunningTimer.objects.exists()


def test_the_time_preview_shows_cover_and_overage_before_saving(cast, desk, hour_bank):
    case = opened(cast, desk)
    client = cast.client_for(cast.agent)
    html = client.get(
        f"/console/cases/{case.public_id}/time/preview/?minutes=90&billable=on"
    ).content.decode()
    assert "1:00" in html and "0:30 overage" in html
    assert TimeEntry.objects.count() == 0


def test_console_mutations_refuse_get_and_customers(cast, desk, incident_bank):
    case = opened(cast, desk)
    base = f"/console/cases/{case.public_id}"
    agent = cast.client_for(cast.agent)
    for action in (
        "replies",
        "transition",
        "assign",
        "fields",
        "defect",
        "override",
        "time",
        "timer/start",
        "timer/stop",
    ):
        assert agent.get(f"{base}/{action}/").status_code == 405, action
        assert cast.client_for(cast.contact).post(f"{base}/{action}/", {}).status_code == 404, (
            action
        )


def test_console_forms_need_a_csrf_token(cast, desk, incident_bank):
    case = opened(cast, desk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.agent)
    assert (
        client.post(f"/console/cases/{case.public_id}/replies/", {"body": "x"}).status_code == 403
    )


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[x](javascript:alert(1))",
        "\u202eevil",
    ],
)
def test_hostile_case_content_is_inert_in_the_console(cast, desk, incident_bank, payload):
    """A page with hostile content has exactly the active parts of the same page with
    harmless content: the page's own forms and scripts, nothing the customer wrote."""
    from collections import Counter

    from retainer.lib.tests.hostile import active_content

    def pages(subject: str, body: str) -> list[str]:
        case = opened(cast, desk, subject=subject)
        actions.do_add_message(case, author=cast.contact.user, body=body)
        client = cast.client_for(cast.agent)
        return [
            client.get(f"/console/cases/{case.public_id}/").content.decode(),
            client.get(f"/console/cases/?view=active&q={case.reference}").content.decode(),
            client.get(f"/console/organizations/{cast.acme.pk}/").content.decode(),
        ]

    for harmless, hostile in zip(
        pages("Plain subject", "Plain body"), pages(payload, payload), strict=True
    ):
        assert Counter(active_content(hostile)) == Counter(active_content(harmless))


def test_a_reply_whose_file_is_refused_leaves_no_reply_behind(
    cast, desk, incident_bank, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from retainer.cases.models import CaseMessage

    settings.MEDIA_ROOT = tmp_path
    case = opened(cast, desk)
    response = cast.client_for(cast.agent).post(
        f"/console/cases/{case.public_id}/replies/",
        {
            "body": "See the page",
            "file": SimpleUploadedFile("page.html", b"<html><script>x</script>"),
        },
        follow=True,
    )
    assert (
        "not allowed" in response.content.decode().lower()
        or "type" in response.content.decode().lower()
    )
    assert not CaseMessage.objects.filter(case=case).exists()


# --- What the case page says ---------------------------------------------------------------------


@pytest.fixture
def office(db):
    from retainer.cases.models import BusinessCalendar, SlaTarget

    calendar = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
    )
    return SlaTarget.objects.create(
        severity=2, calendar=calendar, first_response_minutes=4 * 60, resolution_minutes=45 * 60
    )


def test_a_breached_clock_says_how_long_it_is_overdue(cast, desk, incident_bank, office):
    from zoneinfo import ZoneInfo

    import time_machine

    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with time_machine.travel(monday, tick=False):
        case = opened(cast, desk, severity=2)  # first response due at 13:00
    with time_machine.travel(monday + dt.timedelta(hours=7, minutes=10), tick=False):
        client = cast.client_for(cast.agent)
        page = client.get(f"/console/cases/{case.public_id}/").content.decode()
        queue = client.get("/console/cases/?view=active").content.decode()
    assert "(overdue by 3 h 10 min)" in page and "0 minutes" not in page
    assert "overdue by 3 h 10 min" in queue


def test_the_timeline_speaks_in_sentences_with_the_staff_wording_and_timer_notes(
    cast, desk, incident_bank, office
):
    case = opened(cast, desk, severity=2)
    client = cast.client_for(cast.agent)
    base = f"/console/cases/{case.public_id}"
    client.post(f"{base}/timer/start/")
    response = client.post(f"{base}/timer/stop/", {"note": "Read the night logs"}, follow=True)
    page = response.content.decode()
    assert "Logged 1 minute." in page  # a timer stopped at once logs one minute
    timeline = page.split('id="timeline-title"')[1].split("</ol>")[0]
    assert "SLA started" in timeline and "Sla Started" not in timeline
    assert "First response, due" in timeline
    assert "1 minute, not billable: “Read the night logs”" in timeline
    assert f"Covered by contract #{incident_bank.pk}." in timeline
    assert "Your request is covered" not in timeline  # the customer's wording stays theirs
    entitlement = page.split("<h2>Entitlement</h2>")[1].split("</section>")[0]
    assert f"Covered by contract #{incident_bank.pk}." in entitlement


def test_the_console_case_page_shows_overage_billed_on_the_case(cast, desk, hour_bank):
    case = opened(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=90, actor=cast.agent)
    page = cast.client_for(cast.agent).get(f"/console/cases/{case.public_id}/").content.decode()
    assert "Work is billed as overage at €120.00 per hour." in page
    assert "Overage on this case so far: 0:30 h (€60.00)." in page
