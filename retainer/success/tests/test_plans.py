"""Success plans: realization (the issue's 3, 2, 5 example), weighted milestones refused at
weight 0 on every door with nothing written, the console pages and forms, the customer's
read-only view of their own plan only, the ROI record and the events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from retainer.lib.tests.hostile import PAYLOADS, active_content
from retainer.success import actions
from retainer.success.models import Milestone, SuccessEvent, SuccessGoal, SuccessPlan
from retainer.success.realization import Step, realization
from retainer.success.tests.world import acme_plan

DUE = dt.date(2026, 6, 30)


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _counts() -> tuple[int, int, int, int]:
    return (
        SuccessPlan.objects.count(),
        SuccessGoal.objects.count(),
        Milestone.objects.count(),
        SuccessEvent.objects.count(),
    )


# --- The pure rule ---------------------------------------------------------------------------


def test_weights_3_2_5_with_the_first_two_done_is_50_percent():
    result = realization([Step(3, True), Step(2, True), Step(5, False)])
    assert (result.done_weight, result.total_weight, result.pct) == (5, 10, Decimal("50.0"))


def test_a_plan_without_milestones_has_no_realization():
    assert realization([]).pct is None


def test_a_weight_of_0_is_refused_by_the_rule():
    with pytest.raises(ValueError, match="at least 1"):
        realization([Step(0, True)])


@given(st.lists(st.tuples(st.integers(1, 1000), st.booleans()), min_size=1, max_size=30))
def test_realization_is_between_0_and_100_and_100_only_when_all_are_done(items):
    result = realization([Step(w, d) for w, d in items])
    assert result.pct is not None
    assert Decimal(0) <= result.pct <= Decimal(100)
    assert (result.pct == 100) == all(d for _w, d in items)


# --- Actions ---------------------------------------------------------------------------------


def test_the_first_goal_starts_the_plan_and_records_its_events(cast):
    milestones = acme_plan(cast)
    plan = milestones[0].goal.plan
    types = list(
        SuccessEvent.objects.filter(organization=cast.acme)
        .order_by("id")
        .values_list("type", flat=True)
    )
    assert types[:2] == ["success_plan_created", "success_goal_saved"]
    assert types.count("milestone_saved") == 3 and types.count("milestone_done") == 2
    assert plan.organization == cast.acme


def test_a_milestone_of_weight_0_is_refused_and_nothing_is_written(cast):
    goal = acme_plan(cast)[0].goal
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        actions.do_add_milestone(
            goal, title="Nothing", weight=0, owner=cast.manager, due_date=DUE, actor=cast.manager
        )
    assert "weight" in refused.value.message_dict
    assert _counts() == before


def test_a_milestone_owner_must_be_staff(cast):
    goal = acme_plan(cast)[0].goal
    with pytest.raises(ValidationError) as refused:
        actions.do_add_milestone(
            goal,
            title="Owned by a customer",
            weight=1,
            owner=cast.contact.user,
            due_date=DUE,
            actor=cast.manager,
        )
    assert "owner" in refused.value.message_dict


def test_marking_done_twice_changes_nothing_and_opening_again_clears_the_date(cast):
    milestone = acme_plan(cast)[0]
    events = SuccessEvent.objects.count()
    again = actions.do_set_milestone_done(milestone, done=True, actor=cast.manager)
    assert SuccessEvent.objects.count() == events and again.completed_on is not None
    opened = actions.do_set_milestone_done(milestone, done=False, actor=cast.manager)
    assert opened.completed_on is None
    assert SuccessEvent.objects.latest("id").type == "milestone_undone"


def test_a_milestone_cannot_be_done_in_the_future(cast):
    milestone = acme_plan(cast)[2]
    with pytest.raises(ValidationError):
        actions.do_set_milestone_done(
            milestone, done=True, completed_on=dt.date(2999, 1, 1), actor=cast.manager
        )
    milestone.refresh_from_db()
    assert milestone.completed_on is None


def test_an_roi_without_currency_is_refused_and_nothing_is_written(cast):
    acme_plan(cast)
    before = _counts()
    with pytest.raises(ValidationError, match="currency"):
        actions.do_update_plan(cast.acme, roi_investment=Decimal(1000), actor=cast.manager)
    assert _counts() == before


# --- The API ---------------------------------------------------------------------------------


def test_the_api_shows_the_plan_at_50_percent_to_staff_and_to_the_customer(cast):
    plan = acme_plan(cast)[0].goal.plan
    for who in (cast.agent, cast.contact):
        body = cast.client_for(who).get(f"/api/v1/success-plans/{plan.pk}/").json()
        assert body["realization_pct"] == "50.0"
        assert (body["done_weight"], body["total_weight"]) == (5, 10)
        assert [m["weight"] for m in body["goals"][0]["milestones"]] == [3, 2, 5]
        assert body["roi"] is None


def test_another_organizations_plan_is_a_404_and_never_listed(cast):
    plan = acme_plan(cast)[0].goal.plan
    outsider = cast.client_for(cast.outsider)
    assert outsider.get(f"/api/v1/success-plans/{plan.pk}/").status_code == 404
    assert outsider.get("/api/v1/success-plans/").json() == []
    assert len(cast.client_for(cast.contact).get("/api/v1/success-plans/").json()) == 1


def test_a_customer_cannot_write_a_plan(cast):
    plan = acme_plan(cast)[0].goal.plan
    before = _counts()
    client = cast.client_for(cast.customer_admin)
    assert (
        _post(client, f"/api/v1/success-plans/{plan.pk}/goals/", {"title": "x"}).status_code == 403
    )
    assert _counts() == before


def test_the_api_refuses_a_weight_of_0_beside_the_field_and_writes_nothing(cast):
    goal = acme_plan(cast)[0].goal
    before = _counts()
    body = {"title": "Zero", "weight": 0, "owner": cast.manager.pk, "due_date": "2026-07-01"}
    response = _post(
        cast.client_for(cast.manager), f"/api/v1/success-goals/{goal.pk}/milestones/", body
    )
    assert response.status_code == 400
    assert response.json()["errors"]["weight"] == ["A milestone weighs at least 1."]
    assert _counts() == before


def test_the_api_creates_a_plan_adds_a_goal_a_milestone_and_marks_it_done(cast):
    client = cast.client_for(cast.manager)
    body = {
        "organization": cast.globex.pk,
        "owner": cast.manager.pk,
        "roi_investment": "20000",
        "roi_return": "50000",
        "roi_currency": "EUR",
        "roi_note": "Fewer late closes.",
    }
    plan = _post(client, "/api/v1/success-plans/", body)
    assert plan.status_code == 201, plan.content
    assert plan.json()["roi"]["return"] == "50000.0000"
    plan_id = plan.json()["id"]
    goal = _post(client, f"/api/v1/success-plans/{plan_id}/goals/", {"title": "Faster closes"})
    goal_id = goal.json()["goals"][0]["id"]
    milestone = {"title": "Pilot", "weight": 4, "owner": cast.agent.pk, "due_date": "2026-05-01"}
    created = _post(client, f"/api/v1/success-goals/{goal_id}/milestones/", milestone).json()
    done = _post(client, f"/api/v1/milestones/{created['id']}/done/", {"done": True})
    assert done.status_code == 200 and done.json()["done"] is True
    again = client.get(f"/api/v1/success-plans/{plan_id}/").json()
    assert again["realization_pct"] == "100.0"
    changed = client.patch(
        f"/api/v1/milestones/{created['id']}/", {"weight": 0}, content_type="application/json"
    )
    assert changed.status_code == 400


# --- Console and portal ----------------------------------------------------------------------


def test_the_console_adds_a_goal_and_a_milestone_and_marks_it_done(cast):
    client = cast.client_for(cast.manager)
    base = f"/console/success/organizations/{cast.acme.pk}/plan/"
    assert client.post(f"{base}goals/", {"title": "Audit passes"}).status_code == 302
    goal = SuccessGoal.objects.get(title="Audit passes")
    body = {"title": "Dry run", "weight": "2", "owner": cast.manager.pk, "due_date": "2026-04-01"}
    response = client.post(f"/console/success/goals/{goal.pk}/milestones/", body)
    assert response.status_code == 302
    milestone = Milestone.objects.get(title="Dry run")
    client.post(f"/console/success/milestones/{milestone.pk}/done/", {"done": "on"})
    milestone.refresh_from_db()
    assert milestone.is_done
    page = client.get(base)
    assert b"100.0 %" in page.content and b"Dry run" in page.content


def test_the_console_shows_a_weight_of_0_beside_the_field_with_a_400(cast):
    goal = acme_plan(cast)[0].goal
    before = _counts()
    body = {"title": "Zero", "weight": "0", "owner": cast.manager.pk, "due_date": "2026-04-01"}
    response = cast.client_for(cast.manager).post(
        f"/console/success/goals/{goal.pk}/milestones/", body
    )
    assert response.status_code == 400
    assert "A milestone weighs at least 1." in response.content.decode()
    assert _counts() == before


def test_the_console_edits_a_milestone(cast):
    milestone = acme_plan(cast)[2]
    client = cast.client_for(cast.manager)
    url = f"/console/success/milestones/{milestone.pk}/edit/"
    assert client.get(url).status_code == 200
    body = {
        "title": "First fast close",
        "weight": "7",
        "owner": cast.agent.pk,
        "due_date": "2026-08-01",
    }
    assert client.post(url, body).status_code == 302
    milestone.refresh_from_db()
    assert (milestone.weight, milestone.owner) == (7, cast.agent)


def test_an_agent_reads_the_plan_but_may_not_change_it(cast):
    acme_plan(cast)
    client = cast.client_for(cast.agent)
    page = client.get(f"/console/success/organizations/{cast.acme.pk}/plan/")
    assert page.status_code == 200 and b"Add a goal" not in page.content
    before = _counts()
    response = client.post(
        f"/console/success/organizations/{cast.acme.pk}/plan/goals/", {"title": "x"}
    )
    assert response.status_code == 403
    assert _counts() == before


def test_the_portal_shows_the_customer_their_plan_and_never_another(cast):
    acme_plan(cast)
    page = cast.client_for(cast.contact).get("/portal/success-plan/")
    assert page.status_code == 200
    assert b"Close the books in two days" in page.content and b"50.0 %" in page.content
    assert b"Mark " not in page.content  # read only
    other = cast.client_for(cast.outsider).get("/portal/success-plan/")
    assert b"Close the books" not in other.content and b"No success plan yet" in other.content


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_the_plan_pages_do_not_grow_with_the_milestones(cast):
    acme_plan(cast)
    goal = SuccessGoal.objects.get()
    pages = (
        (cast.client_for(cast.manager), f"/console/success/organizations/{cast.acme.pk}/plan/"),
        (cast.client_for(cast.contact), "/portal/success-plan/"),
        (cast.client_for(cast.manager), "/console/success/plans/"),
    )
    before = [_queries(client, url) for client, url in pages]
    for n in range(5):
        actions.do_add_milestone(
            goal, title=f"Extra {n}", weight=1, owner=cast.agent, due_date=DUE, actor=cast.manager
        )
    actions.do_add_goal(cast.acme, title="Second goal", actor=cast.manager)
    assert [_queries(client, url) for client, url in pages] == before
    assert max(before) <= 35


def _plan_pages(cast: Any, text: str) -> list[str]:
    goal = SuccessGoal.objects.get()
    milestone = goal.milestones.get(weight=5)
    actions.do_update_goal(goal, title=text[:200], description=text, actor=cast.manager)
    actions.do_update_milestone(milestone, title=text[:200], actor=cast.manager)
    actions.do_update_plan(cast.acme, summary=text, roi_note=text, actor=cast.manager)
    return [
        client.get(url).content.decode()
        for client, url in (
            (cast.client_for(cast.manager), f"/console/success/organizations/{cast.acme.pk}/plan/"),
            (cast.client_for(cast.contact), "/portal/success-plan/"),
            (cast.client_for(cast.manager), f"/console/success/goals/{goal.pk}/edit/"),
            (cast.client_for(cast.manager), f"/console/success/milestones/{milestone.pk}/edit/"),
        )
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_plan_text_is_inert(cast, payload):
    """Titles, descriptions, the summary and the ROI note show as the text typed (bidi
    controls removed): the pages hold exactly the active parts of harmless ones."""
    acme_plan(cast)
    harmless = _plan_pages(cast, "Plain words")
    hostile = _plan_pages(cast, payload)
    for plain, bad in zip(harmless, hostile, strict=True):
        assert Counter(active_content(bad)) == Counter(active_content(plain))


def test_the_api_list_does_not_grow_with_the_plans(cast):
    acme_plan(cast)
    client = cast.client_for(cast.agent)
    few = _queries(client, "/api/v1/success-plans/")
    goal = actions.do_add_goal(cast.globex, title="Fewer tickets", actor=cast.manager)
    actions.do_add_milestone(
        goal, title="Self-service", weight=2, owner=cast.agent, due_date=DUE, actor=cast.manager
    )
    assert _queries(client, "/api/v1/success-plans/") == few
    assert len(client.get("/api/v1/success-plans/").json()) == 2
