"""The agent page: one's own open cases, the SLA clocks at risk and the time logged, each
figure leading to its rows; another agent's page only for those who read support figures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from retainer.cases import actions
from retainer.cases.models import BusinessCalendar, Case, SlaTarget

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
PAGE = reverse("metrics:agent")


def opened(cast, desk) -> Case:
    return actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=desk.product, subject="Posting fails",
        description="It fails.", channel="web", severity=2,
    )  # fmt: skip


@pytest.fixture
def work(cast, desk, incident_bank) -> tuple[Case, Case]:
    """Two cases of Ann Agent on a 9–18 calendar (first response in 4 business hours):
    one opened at 9:00 (due 13:00), one at 12:00 (due 16:00); 90 minutes logged, 30 of
    them billable; a third case nobody works on."""
    calendar = BusinessCalendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
    )  # fmt: skip
    SlaTarget.objects.create(
        severity=2, calendar=calendar, first_response_minutes=4 * 60, resolution_minutes=45 * 60
    )
    with time_machine.travel(MONDAY, tick=False):
        early = opened(cast, desk)
    with time_machine.travel(MONDAY + dt.timedelta(hours=3), tick=False):
        late = opened(cast, desk)
        opened(cast, desk)
        for case in (early, late):
            actions.do_update_case(case, assignee=cast.agent, actor=cast.agent)
        actions.do_log_time(early, agent=cast.agent, minutes=60, billable=False, actor=cast.agent)
        actions.do_log_time(late, agent=cast.agent, minutes=30, billable=True, actor=cast.agent)
    return early, late


def at_two_pm(client, path: str, **params: str):
    with time_machine.travel(MONDAY + dt.timedelta(hours=5), tick=False):  # 14:00
        return client.get(path, {"period": "2026-11", **params})


def test_an_agent_sees_their_queue_risk_and_time_in_a_few_queries(
    cast, work, django_assert_max_num_queries
):
    early, late = work
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(20):
        response = at_two_pm(client, PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "My work" in html
    queue = html.split('id="h-agent_queue"')[1].split("</section>")[0]
    assert f"assignee={cast.agent.pk}" in queue and ">2<" in queue
    risk = html.split('id="h-agent_sla_risk"')[1].split("</section>")[0]
    # 14:00: the first response of the early case breached an hour ago, the late one is
    # due in two hours; both are listed, the breached one first.
    assert risk.index(early.reference) < risk.index(late.reference)
    assert "breached 1 h 00 min ago" in risk and "due in 2 h 00 min" in risk
    time = html.split('id="h-agent_time"')[1].split("</section>")[0]
    assert "Week of 2026-11-23" in time and "1:30" in time and "0:30" in time
    assert "33.3 %" in time or "33 %" in time


def test_the_time_drills_down_to_the_agents_own_entries(cast, work):
    client = cast.client_for(cast.agent)
    html = at_two_pm(client, PAGE).content.decode()
    section = html.split('id="h-agent_time"')[1].split("</section>")[0]
    hrefs = [part.split('"')[0] for part in section.split('href="')[1:]]
    drill = next(href for href in hrefs if "figure=time" in href)
    rows = client.get(drill.replace("&amp;", "&"))
    assert rows.status_code == 200 and work[0].reference in rows.content.decode()
    other = at_two_pm(
        client, reverse("metrics:drill_down"), figure="time", agent=str(cast.manager.pk)
    )
    assert other.status_code == 403
    assert at_two_pm(client, reverse("metrics:drill_down"), figure="backlog").status_code == 403


def test_another_agents_page_is_for_those_who_read_support_figures(cast, work):
    mine = at_two_pm(cast.client_for(cast.agent), PAGE, agent=str(cast.manager.pk))
    assert mine.status_code == 403
    theirs = at_two_pm(cast.client_for(cast.manager), PAGE, agent=str(cast.agent.pk))
    assert theirs.status_code == 200
    assert f"Work of {cast.agent.full_name}" in theirs.content.decode()
    assert at_two_pm(cast.client_for(cast.manager), PAGE, agent="x").status_code == 404
    assert at_two_pm(cast.client_for(cast.customer_admin), PAGE).status_code == 404


def test_an_agent_exports_their_own_tables(cast, work):
    client = cast.client_for(cast.agent)
    own = at_two_pm(client, reverse("metrics:export_csv"), table="agent_time")
    assert own.status_code == 200 and "Week of 2026-11-23" in own.content.decode()
    other = at_two_pm(
        client, reverse("metrics:export_csv"), table="agent_time", agent=str(cast.manager.pk)
    )
    assert other.status_code == 403
