"""One rule per operation, whatever the door: the check function, the API and the admin
refuse the same actors, with 403, and the refusal changes nothing."""

from __future__ import annotations

import pytest

from retainer.accounts import checks
from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent, Contact, Organization, Team
from retainer.lib.errors import NotPermitted


def history() -> int:
    return AccountEvent.objects.count()


# --- Organizations ---------------------------------------------------------------------------


def test_an_agent_may_not_change_an_organization_through_any_door(cast):
    before = history()
    with pytest.raises(NotPermitted):
        checks.check_update_organization(cast.agent, cast.acme, name="Renamed")
    api = cast.client_for(cast.agent).patch(
        f"/api/v1/organizations/{cast.acme.pk}/",
        {"name": "Renamed"},
        content_type="application/json",
    )
    admin = cast.client_for(cast.agent).post(
        f"/admin/accounts/organization/{cast.acme.pk}/change/", {"name": "Renamed"}
    )
    assert (api.status_code, admin.status_code) == (403, 403)
    assert Organization.objects.get(pk=cast.acme.pk).name == "Acme"
    assert history() == before


def test_billing_may_change_an_organization_through_every_door(cast):
    checks.check_update_organization(cast.billing, cast.acme, name="Acme One")
    api = cast.client_for(cast.billing).patch(
        f"/api/v1/organizations/{cast.acme.pk}/",
        {"name": "Acme Two"},
        content_type="application/json",
    )
    assert api.status_code == 200
    assert Organization.objects.get(pk=cast.acme.pk).name == "Acme Two"


def test_deactivating_an_organization_needs_the_change_permission(cast):
    with pytest.raises(NotPermitted):
        checks.check_set_organization_active(cast.agent, cast.acme, False)
    checks.check_set_organization_active(cast.manager, cast.acme, False)
    assert not Organization.objects.get(pk=cast.acme.pk).is_active


def test_the_admin_refuses_a_taken_domain_on_change_and_saves_nothing(cast):
    before = history()
    response = cast.client_for(cast.manager).post(
        f"/admin/accounts/organization/{cast.acme.pk}/change/",
        {
            "name": "Acme Renamed",
            "time_zone": "Europe/Berlin",
            "currency": "EUR",
            "account_owner": "",
            "domain_list": "acme.test, globex.test",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "globex.test: This domain already belongs to an organization." in (
        response.content.decode()
    )
    assert Organization.objects.get(pk=cast.acme.pk).name == "Acme"
    assert history() == before


# --- Contacts --------------------------------------------------------------------------------


def test_a_customer_member_may_not_manage_a_colleague_through_any_door(cast):
    member = cast.contact.user
    with pytest.raises(NotPermitted):
        checks.check_update_contact(member, cast.unauthorized, full_name="Renamed")
    with pytest.raises(NotPermitted):
        checks.check_set_contact_active(member, cast.unauthorized, False)
    client = cast.client_for(cast.contact)
    url = f"/api/v1/contacts/{cast.unauthorized.pk}/"
    patch = client.patch(url, {"full_name": "Renamed"}, content_type="application/json")
    deactivate = client.post(f"{url}deactivate/")
    assert (patch.status_code, deactivate.status_code) == (403, 403)
    assert Contact.objects.get(pk=cast.unauthorized.pk).is_active


def test_a_customer_admin_manages_only_their_own_organizations_contacts(cast):
    admin = cast.customer_admin.user
    checks.check_update_contact(admin, cast.unauthorized, phone="+49 30 1234")
    with pytest.raises(NotPermitted):
        checks.check_set_contact_active(admin, cast.outsider, False)


def test_a_customer_admin_may_not_create_contacts(cast):
    with pytest.raises(NotPermitted):
        checks.check_create_contact(
            cast.customer_admin.user, organization=cast.acme, full_name="X", email="x@acme.test"
        )


def test_a_refusal_is_a_403_even_when_the_body_is_wrong_too(cast):
    response = cast.client_for(cast.contact).patch(
        f"/api/v1/contacts/{cast.unauthorized.pk}/",
        {"email": "not an address"},
        content_type="application/json",
    )
    assert response.status_code == 403


# --- Staff and teams -------------------------------------------------------------------------


def test_only_admins_change_roles(cast):
    with pytest.raises(NotPermitted):
        checks.check_set_staff_roles(cast.manager, cast.agent, ["manager"])
    checks.check_set_staff_roles(cast.admin, cast.agent, ["agent", "billing"])
    assert sorted(cast.agent.groups.values_list("name", flat=True)) == ["agent", "billing"]


def test_the_admin_sets_roles_through_the_action(cast):
    from django.contrib.auth.models import Group

    billing = Group.objects.get(name="billing")
    response = cast.client_for(cast.admin).post(
        f"/admin/accounts/user/{cast.agent.pk}/change/",
        {
            "email": cast.agent.email,
            "full_name": cast.agent.full_name,
            "is_active": "on",
            "groups": [str(billing.pk)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(cast.agent.groups.values_list("name", flat=True)) == ["billing"]
    assert cast.agent.account_events.filter(type=AccountEventType.STAFF_ROLES_CHANGED).exists()


def test_a_team_needs_the_team_permissions_through_every_door(cast):
    with pytest.raises(NotPermitted):
        checks.check_save_team(cast.agent, None, name="Night shift")
    admin = cast.client_for(cast.agent).post(
        "/admin/accounts/team/add/", {"name": "Night shift", "description": ""}
    )
    assert admin.status_code == 403
    assert not Team.objects.exists()
    team = checks.check_save_team(cast.manager, None, name="Night shift", members=[cast.agent])
    assert list(team.members.all()) == [cast.agent]
