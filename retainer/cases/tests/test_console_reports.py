"""The console pages across every queue: search, CSAT results, the team overview."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from retainer.cases import actions
from retainer.cases.choices import CaseStatus, RootCause
from retainer.cases.models import BusinessCalendar, Case, SlaTarget
from retainer.lib.tests.hostile import PAYLOADS, active_content

BERLIN = ZoneInfo("Europe/Berlin")


def opened(cast, desk, who=None, **extra) -> Case:
    contact = who or cast.contact
    return actions.check_open_case(
        contact.user, contact=contact, product=desk.product,
        subject=extra.pop("subject", "Posting fails"),
        description=extra.pop("description", "It fails."), channel="web", **extra,
    )  # fmt: skip


def rated(cast, case: Case, rating: str, comment: str = "", agent=None) -> None:
    actions.do_update_case(case, assignee=agent or cast.agent, actor=cast.agent)
    actions.do_transition_case(case, CaseStatus.OPEN, actor=cast.agent)
    actions.do_transition_case(
        case, CaseStatus.RESOLVED, actor=cast.agent, root_cause=RootCause.CONFIGURATION
    )
    actions.check_answer_csat(case.contact.user, case, rating=rating, comment=comment)


# --- Search ------------------------------------------------------------------------------------


def test_search_finds_a_case_by_a_word_of_a_message(cast, desk, incident_bank):
    case = opened(cast, desk, subject="Nightly job")
    actions.do_add_message(case, author=cast.contact.user, body="The flux capacitor overheats")
    opened(cast, desk, subject="Something else")
    page = cast.client_for(cast.agent).get("/console/search/?q=capacitor").content.decode()
    assert f"/console/cases/{case.public_id}/" in page and "Something else" not in page


def test_search_by_reference_subject_organization_and_contact(cast, desk, incident_bank):
    case = opened(cast, desk, subject="Ledger totals wrong")
    client = cast.client_for(cast.agent)
    for q in (case.reference, case.reference.lower(), "totals", "Acme", "carl@acme", "Carl"):
        page = client.get(f"/console/search/?q={q}").content.decode()
        assert case.reference in page, q
    grouped = client.get("/console/search/?q=acme").content.decode()
    assert f"/console/organizations/{cast.acme.pk}/" in grouped  # the organization
    assert "carl@acme.test" in grouped  # its contacts


def test_search_with_nothing_found_says_so(cast, desk):
    page = cast.client_for(cast.agent).get("/console/search/?q=zzzz").content.decode()
    assert "Nothing matches" in page


def test_search_runs_a_fixed_number_of_queries(
    cast, desk, incident_bank, django_assert_max_num_queries
):
    for n in range(3):
        opened(cast, desk, subject=f"Posting {n}")
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(20) as few:
        client.get("/console/search/?q=posting")
    for n in range(10):
        opened(cast, desk, subject=f"Posting more {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/console/search/?q=posting")


def test_the_search_form_is_in_the_staff_navigation_only(cast, desk):
    assert b'role="search"' in cast.client_for(cast.agent).get("/console/cases/").content
    assert cast.client_for(cast.contact).get("/console/search/?q=x").status_code == 404
    assert b"nav-search" not in cast.client_for(cast.contact).get("/portal/cases/").content


@pytest.mark.parametrize("payload", PAYLOADS[:4])
def test_hostile_text_is_inert_in_search_results(cast, desk, incident_bank, payload):
    harmless = opened(cast, desk, subject="Plain match")
    hostile = opened(cast, desk, subject=f"{payload} match")
    client = cast.client_for(cast.agent)
    page = client.get("/console/search/?q=match").content.decode()
    assert hostile.reference in page and harmless.reference in page
    plain = client.get("/console/search/?q=Plain").content.decode()
    assert sorted(set(active_content(page))) == sorted(set(active_content(plain)))


# --- CSAT ----------------------------------------------------------------------------------------


def test_csat_results_per_agent_and_organization(cast, desk, incident_bank):
    rated(cast, opened(cast, desk), "good", "Quick and clear")
    rated(cast, opened(cast, desk), "bad", "Took a week")
    rated(cast, opened(cast, desk, who=cast.customer_admin), "good", agent=cast.manager)
    page = cast.client_for(cast.manager).get("/console/csat/").content.decode()
    assert "3 answers" in page and "67% satisfied" in page
    agents = page.split('id="csat-agents"')[1].split('id="csat-organizations"')[0]
    assert "Ann Agent" in agents and "50%" in agents and "2.00" in agents
    assert "Took a week" in agents and "Quick and clear" in agents
    assert "Max Manager" in agents and "100%" in agents


def test_csat_period_filter_leaves_out_older_answers(cast, desk, incident_bank):
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=60)):
        rated(cast, opened(cast, desk), "bad", "Long ago")
    rated(cast, opened(cast, desk), "good")
    client = cast.client_for(cast.agent)
    recent = client.get("/console/csat/?period=30d").content.decode()
    assert "1 answer " in recent and "Long ago" not in recent
    assert "Long ago" in client.get("/console/csat/?period=90d").content.decode()
    assert client.get("/console/csat/?period=nonsense").status_code == 200


# --- The team overview ---------------------------------------------------------------------------


@pytest.fixture
def office(db):
    calendar = BusinessCalendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        hours={str(day): [["09:00", "18:00"]] for day in range(5)},
    )
    return SlaTarget.objects.create(
        severity=2, calendar=calendar, first_response_minutes=4 * 60, resolution_minutes=45 * 60
    )


def test_the_team_overview_counts_each_agents_load(cast, desk, incident_bank, office):
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
    with time_machine.travel(monday, tick=False):
        overdue = opened(cast, desk, severity=2)  # first response due 13:00
    with time_machine.travel(monday + dt.timedelta(hours=3), tick=False):
        soon = opened(cast, desk, severity=2)  # due 16:00
        opened(cast, desk, severity=2)  # nobody's
        actions.do_update_case(overdue, assignee=cast.agent, actor=cast.agent)
        actions.do_update_case(soon, assignee=cast.agent, actor=cast.agent)
        actions.do_log_time(soon, agent=cast.agent, minutes=50, actor=cast.agent)
    with time_machine.travel(monday + dt.timedelta(hours=5), tick=False):  # 14:00
        page = cast.client_for(cast.manager).get("/console/team/").content.decode()
    row = page.split("Ann Agent")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in row.split('class="num">')[1:]]
    assert cells[0] == "2"  # open
    assert "badge warn" in row and "badge bad" in row  # one breaching soon, one overdue
    assert "0:50 h" in row
    assert "Unassigned: 1" in page and "Under a day ago" in page


def test_only_managers_and_admins_see_the_team_overview(cast):
    assert cast.client_for(cast.agent).get("/console/team/").status_code == 403
    assert cast.client_for(cast.billing).get("/console/team/").status_code == 403
    assert cast.client_for(cast.admin).get("/console/team/").status_code == 200


def test_the_reports_run_a_fixed_number_of_queries(
    cast, desk, incident_bank, django_assert_max_num_queries
):
    rated(cast, opened(cast, desk), "good", "Fine")
    client = cast.client_for(cast.manager)
    with django_assert_max_num_queries(30) as csat:
        client.get("/console/csat/")
    with django_assert_max_num_queries(30) as team:
        client.get("/console/team/")
    for n in range(4):
        rated(cast, opened(cast, desk), "neutral", f"Comment {n}", agent=cast.manager)
        opened(cast, desk)
    with django_assert_max_num_queries(len(csat.captured_queries)):
        client.get("/console/csat/")
    with django_assert_max_num_queries(len(team.captured_queries)):
        client.get("/console/team/")
