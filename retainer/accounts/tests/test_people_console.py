"""The console's People page: staff members and teams made and changed through the pages,
with the same checks as every other door; refusals are form errors that write nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client

from conftest import PASSWORD
from retainer.accounts import actions
from retainer.accounts.choices import AccountEventType, Role
from retainer.accounts.events import TeamCreated, TeamUpdated
from retainer.accounts.models import AccountEvent, Team, User
from retainer.lib.errors import InvalidInput
from retainer.lib.events import parse
from retainer.lib.tests.hostile import PAYLOADS, active_content

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long first passphrase 42"


def _new_staff(**overrides):
    data = {
        "full_name": "Pat Support",
        "email": "Pat@Vendor.test",
        "roles": [Role.AGENT],
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    return {**data, **overrides}


def _events() -> int:
    return AccountEvent.objects.count()


# --- The page ------------------------------------------------------------------------------


def test_the_admin_sees_staff_and_teams_with_their_roles_leads_and_last_sign_in(cast, client):
    team = actions.do_save_team(
        None, name="Night shift", members=[cast.agent], lead=cast.manager, actor=cast.admin
    )
    assert client.login(username=cast.admin.email, password=PASSWORD)
    response = client.get("/console/people/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Staff" in page and "Teams" in page
    assert "agent@vendor.test" in page and "Agent" in page
    assert f'href="/console/people/teams/{team.pk}/"' in page
    assert cast.manager.full_name in page
    assert 'href="/console/people/staff/new/"' in page
    assert 'href="/console/people/teams/new/"' in page
    assert 'href="/console/people/"' in page  # the top bar's link
    # Signed in just now: a date, not "Never", on the admin's own row.
    assert User.objects.get(pk=cast.admin.pk).last_login is not None


def test_the_page_lists_no_service_accounts(cast):
    actions.do_create_service_token(
        name="Exporter", role=Role.AGENT, scopes=["cases:read"], expires_in_days=30,
        actor=cast.admin,
    )  # fmt: skip
    page = cast.client_for(cast.admin).get("/console/people/").content.decode()
    assert "Exporter (service token)" not in page


def test_a_manager_sees_only_the_teams(cast):
    client = cast.client_for(cast.manager)
    page = client.get("/console/people/").content.decode()
    assert "Teams" in page and 'href="/console/people/teams/new/"' in page
    assert "staff/new" not in page and "agent@vendor.test" not in page
    assert client.get("/console/people/staff/new/").status_code == 403


@pytest.mark.parametrize(
    "url",
    ["/console/people/", "/console/people/staff/new/", "/console/people/teams/new/"],
)
def test_an_agent_is_refused(cast, url):
    client = cast.client_for(cast.agent)
    assert client.get(url).status_code == 403
    if url != "/console/people/":
        assert client.post(url, {"name": "x"}).status_code == 403
    page = client.get("/console/").content.decode()
    assert 'href="/console/people/"' not in page


def test_an_agent_cannot_deactivate_or_edit_anyone(cast):
    client = cast.client_for(cast.agent)
    before = _events()
    url = f"/console/people/staff/{cast.billing.pk}/"
    assert client.post(url, {"full_name": "X", "roles": [Role.ADMIN]}).status_code == 403
    assert client.post(f"{url}active/", {"active": "0"}).status_code == 403
    assert _events() == before
    assert User.objects.get(pk=cast.billing.pk).is_active


def test_the_page_keeps_its_query_count_as_people_are_added(cast, django_assert_max_num_queries):
    client = cast.client_for(cast.admin)
    client.get("/console/people/")
    for n in range(6):
        user = actions.do_create_staff_user(
            email=f"p{n}@vendor.test", full_name=f"P {n}", roles=[Role.AGENT], actor=None
        )
        actions.do_save_team(None, name=f"Team {n}", members=[user], lead=user, actor=None)
    with django_assert_max_num_queries(12):
        assert client.get("/console/people/").status_code == 200


# --- Staff members ---------------------------------------------------------------------------


def test_an_admin_adds_a_staff_member_who_can_then_sign_in(cast, client):
    admin = cast.client_for(cast.admin)
    response = admin.post("/console/people/staff/new/", _new_staff())
    assert response.status_code == 302 and response["Location"] == "/console/people/"
    user = User.objects.get(email="pat@vendor.test")
    assert user.is_staff and user.full_name == "Pat Support"
    assert [g.name for g in user.groups.all()] == [Role.AGENT]
    event = AccountEvent.objects.get(type=AccountEventType.STAFF_CREATED, user=user)
    assert event.actor == cast.admin
    assert client.login(username="pat@vendor.test", password=NEW_PASSWORD)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "agent@vendor.test"}, "email"),  # taken
        ({"full_name": ""}, "full_name"),
        ({"full_name": "x" * 201}, "full_name"),
        ({"roles": ["wizard"]}, "roles"),
        ({"password2": "something else entirely"}, "password2"),
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"password1": "", "password2": ""}, "password1"),
    ],
)
def test_a_refused_new_staff_member_is_a_form_error_and_nothing_is_written(cast, overrides, field):
    before = (User.objects.count(), _events())
    response = cast.client_for(cast.admin).post(
        "/console/people/staff/new/", _new_staff(**overrides)
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert (User.objects.count(), _events()) == before


def test_an_admin_renames_a_staff_member_and_changes_their_roles_at_once(cast):
    client = cast.client_for(cast.admin)
    url = f"/console/people/staff/{cast.agent.pk}/"
    form = client.get(url).context["form"]
    assert form.initial == {"full_name": cast.agent.full_name, "roles": [Role.AGENT]}
    response = client.post(url, {"full_name": "Alex Senior", "roles": [Role.AGENT, Role.MANAGER]})
    assert response.status_code == 302
    agent = User.objects.get(pk=cast.agent.pk)
    assert agent.full_name == "Alex Senior"
    assert sorted(g.name for g in agent.groups.all()) == [Role.AGENT, Role.MANAGER]
    types = set(AccountEvent.objects.filter(user=agent).values_list("type", flat=True))
    assert {AccountEventType.STAFF_UPDATED, AccountEventType.STAFF_ROLES_CHANGED} <= types


def test_a_refused_edit_changes_neither_the_name_nor_the_roles(cast):
    before = _events()
    response = cast.client_for(cast.admin).post(
        f"/console/people/staff/{cast.agent.pk}/", {"full_name": "", "roles": [Role.ADMIN]}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["full_name"]
    agent = User.objects.get(pk=cast.agent.pk)
    assert agent.full_name == cast.agent.full_name
    assert [g.name for g in agent.groups.all()] == [Role.AGENT]
    assert _events() == before


def test_a_customer_login_is_not_a_staff_member_here(cast):
    client = cast.client_for(cast.admin)
    assert client.get(f"/console/people/staff/{cast.contact.user_id}/").status_code == 404
    assert client.get("/console/people/staff/999999/").status_code == 404


def test_deactivation_asks_first_then_closes_the_login_and_reactivation_reopens_it(cast):
    client = cast.client_for(cast.admin)
    agent_session = cast.client_for(cast.agent)
    url = f"/console/people/staff/{cast.agent.pk}/active/"
    page = client.get(url)
    assert page.status_code == 200
    assert "will no longer be able to sign in" in page.content.decode()
    assert User.objects.get(pk=cast.agent.pk).is_active  # GET changes nothing
    assert client.post(url, {"active": "0"}).status_code == 302
    assert not User.objects.get(pk=cast.agent.pk).is_active
    assert AccountEvent.objects.filter(type=AccountEventType.USER_DEACTIVATED).count() == 1
    assert not _can_sign_in(cast.agent.email)
    assert agent_session.get("/console/").status_code == 302  # their session is over
    assert client.post(url, {"active": "0"}).status_code == 302  # again: nothing more
    assert AccountEvent.objects.filter(type=AccountEventType.USER_DEACTIVATED).count() == 1
    assert "Reactivate" in client.get(url).content.decode()
    assert client.post(url, {"active": "1"}).status_code == 302
    assert User.objects.get(pk=cast.agent.pk).is_active
    assert _can_sign_in(cast.agent.email)


def _can_sign_in(email: str) -> bool:
    return Client().login(username=email, password=PASSWORD)


def test_an_admin_cannot_deactivate_themselves(cast):
    client = cast.client_for(cast.admin)
    url = f"/console/people/staff/{cast.admin.pk}/active/"
    page = client.get(url).content.decode()
    assert "You cannot deactivate yourself" in page and 'type="submit" class="primary"' not in page
    before = _events()
    response = client.post(url, {"active": "0"})
    assert response.status_code == 400
    assert "You cannot deactivate yourself." in response.content.decode()
    assert User.objects.get(pk=cast.admin.pk).is_active
    assert _events() == before


def test_an_empty_deactivation_request_is_refused(cast):
    response = cast.client_for(cast.admin).post(f"/console/people/staff/{cast.agent.pk}/active/")
    assert response.status_code == 400
    assert User.objects.get(pk=cast.agent.pk).is_active


# --- Teams -----------------------------------------------------------------------------------


def test_an_admin_forms_a_team_with_members_and_a_lead(cast):
    client = cast.client_for(cast.admin)
    form = client.get("/console/people/teams/new/").content.decode()
    assert cast.agent.full_name in form and cast.contact.full_name not in form
    response = client.post(
        "/console/people/teams/new/",
        {
            "name": "Night shift",
            "description": "Out of hours",
            "members": [cast.agent.pk, cast.billing.pk],
            "lead": cast.manager.pk,
        },
    )
    assert response.status_code == 302
    team = Team.objects.get(name="Night shift")
    assert team.lead == cast.manager and team.description == "Out of hours"
    assert set(team.members.all()) == {cast.agent, cast.billing}
    event = parse(AccountEvent.objects.get(type=AccountEventType.TEAM_CREATED, team=team))
    assert isinstance(event, TeamCreated)
    assert event.lead == cast.manager.pk
    assert event.members == sorted([cast.agent.pk, cast.billing.pk])


def test_a_manager_edits_a_team_and_changes_its_lead(cast):
    team = actions.do_save_team(
        None, name="Night shift", members=[cast.agent], lead=cast.manager, actor=cast.admin
    )
    client = cast.client_for(cast.manager)
    url = f"/console/people/teams/{team.pk}/"
    assert "Night shift" in client.get(url).content.decode()
    response = client.post(
        url,
        {"name": "Nights", "description": "", "members": [cast.agent.pk], "lead": cast.agent.pk},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Nights" and team.lead == cast.agent
    event = parse(AccountEvent.objects.get(type=AccountEventType.TEAM_UPDATED, team=team))
    assert isinstance(event, TeamUpdated) and event.lead == cast.agent.pk
    response = client.post(url, {"name": "Nights", "members": [cast.agent.pk], "lead": ""})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.lead is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Tier 1"}, "name"),  # taken
        ({"lead": "999999"}, "lead"),
        ({"members": ["999999"]}, "members"),
    ],
)
def test_a_refused_team_is_a_form_error_and_nothing_is_written(cast, values, field):
    actions.do_save_team(None, name="Tier 1", actor=cast.admin)
    before = (Team.objects.count(), _events())
    response = cast.client_for(cast.admin).post(
        "/console/people/teams/new/", {"name": "Night shift", **values}
    )
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert (Team.objects.count(), _events()) == before


def test_an_inactive_or_customer_lead_is_not_offered_and_is_refused(cast):
    actions.do_set_user_active(cast.billing, False, actor=cast.admin)
    client = cast.client_for(cast.admin)
    for lead in (cast.billing.pk, cast.contact.user_id):
        response = client.post("/console/people/teams/new/", {"name": "Nights", "lead": lead})
        assert response.status_code == 400 and response.context["form"].errors["lead"]
    assert not Team.objects.filter(name="Nights").exists()


def test_the_action_refuses_a_lead_who_is_not_active_staff(cast):
    actions.do_set_user_active(cast.billing, False, actor=cast.admin)
    for lead in (cast.billing, User.objects.get(pk=cast.contact.user_id)):
        with pytest.raises(InvalidInput) as refused:
            actions.do_save_team(None, name="Nights", lead=lead, actor=cast.admin)
        assert refused.value.field == "lead"
    assert not Team.objects.filter(name="Nights").exists()


def test_editing_a_team_keeps_an_inactive_member_offered(cast):
    team = actions.do_save_team(
        None, name="Night shift", members=[cast.agent, cast.billing], actor=cast.admin
    )
    actions.do_set_user_active(cast.billing, False, actor=cast.admin)
    page = cast.client_for(cast.admin).get(f"/console/people/teams/{team.pk}/").content.decode()
    assert f"{cast.billing.full_name} (inactive)" in page


def test_names_and_descriptions_are_shown_inert(cast):
    client = cast.client_for(cast.admin)
    team = actions.do_save_team(None, name="Plain", actor=cast.admin)
    user = actions.do_create_staff_user(
        email="named@vendor.test", full_name="Plain", roles=[], actor=None
    )

    def page(name: str) -> str:
        actions.do_save_team(
            team, name=name[:100], description=name, members=[user], lead=user, actor=None
        )
        actions.do_update_staff_user(user, full_name=name[:200], actor=None)
        return "".join(
            client.get(url).content.decode()
            for url in (
                "/console/people/",
                f"/console/people/teams/{team.pk}/",
                f"/console/people/staff/{user.pk}/",
                f"/console/people/staff/{user.pk}/active/",
            )
        )

    baseline = Counter(active_content(page("Plain name")))
    for n, payload in enumerate(PAYLOADS):
        assert Counter(active_content(page(f"{payload} {n}"))) == baseline, payload
