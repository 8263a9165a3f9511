"""People are deactivated, never deleted; their history keeps them."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from retainer.accounts import actions
from retainer.accounts.choices import AccountEventType
from retainer.accounts.events import OrganizationUpdated, StaffRolesChanged
from retainer.accounts.models import AccountEvent, Contact, Organization, User
from retainer.lib.errors import Conflict, InvalidInput
from retainer.lib.events import parse


def test_deleting_a_contact_with_history_is_impossible(cast):
    with pytest.raises(ProtectedError):
        cast.contact.delete()
    assert Contact.objects.filter(pk=cast.contact.pk).exists()


def test_deleting_an_organization_with_contacts_is_impossible(cast):
    with pytest.raises(ProtectedError):
        Organization.objects.filter(pk=cast.acme.pk).delete()


def test_deleting_a_staff_user_who_owns_accounts_is_impossible(cast):
    with pytest.raises(ProtectedError):
        cast.manager.delete()


def test_deactivating_a_contact_also_closes_their_portal_login(cast):
    actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
    cast.contact.refresh_from_db()
    assert not cast.contact.is_active
    assert not User.objects.get(pk=cast.contact.user_id).is_active
    event = AccountEvent.objects.get(type=AccountEventType.CONTACT_DEACTIVATED)
    assert event.actor == cast.agent and event.contact == cast.contact


def test_a_deactivated_contact_cannot_sign_in_to_the_portal(cast, client):
    from conftest import PASSWORD

    actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
    response = client.post("/login/", {"username": "carl@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_reactivation_restores_access_and_is_recorded(cast):
    actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
    actions.do_set_contact_active(cast.contact, True, actor=cast.agent)
    assert User.objects.get(pk=cast.contact.user_id).is_active
    assert AccountEvent.objects.filter(type=AccountEventType.CONTACT_REACTIVATED).count() == 1


def test_deactivating_twice_records_one_event(cast):
    actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
    actions.do_set_contact_active(cast.contact, False, actor=cast.agent)
    assert AccountEvent.objects.filter(type=AccountEventType.CONTACT_DEACTIVATED).count() == 1


def test_staff_cannot_deactivate_themselves(cast):
    with pytest.raises(Conflict, match="cannot deactivate yourself"):
        actions.do_set_user_active(cast.admin, False, actor=cast.admin)
    cast.admin.refresh_from_db()
    assert cast.admin.is_active


def test_changing_roles_is_recorded_with_old_and_new(cast):
    actions.do_set_staff_roles(cast.agent, ["agent", "billing"], actor=cast.admin)
    row = AccountEvent.objects.get(type=AccountEventType.STAFF_ROLES_CHANGED)
    assert parse(row) == StaffRolesChanged(old=["agent"], new=["agent", "billing"])
    assert cast.agent.has_perm("accounts.change_organization")


def test_unknown_roles_are_refused(cast):
    with pytest.raises(InvalidInput, match="Unknown role") as refused:
        actions.do_set_staff_roles(cast.agent, ["superhero"], actor=cast.admin)
    assert refused.value.field == "roles"
    assert list(cast.agent.groups.values_list("name", flat=True)) == ["agent"]


def test_the_account_owner_must_be_staff(cast):
    with pytest.raises(ValidationError, match="account owner must be active vendor staff"):
        actions.do_update_organization(cast.acme, account_owner=cast.contact.user, actor=cast.admin)


def test_updates_record_only_what_changed(cast):
    actions.do_update_organization(cast.acme, name="Acme Corp", currency="EUR", actor=cast.admin)
    row = AccountEvent.objects.filter(type=AccountEventType.ORGANIZATION_UPDATED).get()
    assert parse(row) == OrganizationUpdated(changes={"name": {"old": "Acme", "new": "Acme Corp"}})


def test_changing_a_contacts_email_moves_their_login_too(cast):
    actions.do_update_contact(cast.contact, email="Carl.New@acme.test", actor=cast.admin)
    assert User.objects.get(pk=cast.contact.user_id).email == "carl.new@acme.test"


def test_a_refused_domain_leaves_the_other_changes_unsaved(cast):
    with pytest.raises(ValidationError) as refused:
        actions.do_update_organization(
            cast.acme, name="Acme Corp", domains=["acme.test", "globex.test"], actor=cast.admin
        )
    assert (
        "globex.test: This domain already belongs to an organization."
        in (refused.value.message_dict["domains"])
    )
    acme = Organization.objects.get(pk=cast.acme.pk)
    assert acme.name == "Acme"
    assert [d.domain for d in acme.domains.all()] == ["acme.test"]
    assert not AccountEvent.objects.filter(type=AccountEventType.ORGANIZATION_UPDATED).exists()


def test_a_contact_whose_login_address_is_taken_is_not_changed(cast):
    with pytest.raises(ValidationError):
        actions.do_update_contact(cast.contact, email="agent@vendor.test", actor=cast.admin)
    assert Contact.objects.get(pk=cast.contact.pk).email == "carl@acme.test"
    assert User.objects.get(pk=cast.contact.user_id).email == "carl@acme.test"


def test_a_team_of_customers_is_refused_before_anything_is_saved(cast):
    from retainer.accounts.models import Team

    with pytest.raises(InvalidInput, match="vendor staff only"):
        actions.do_save_team(
            None, name="Mixed", members=[cast.agent, cast.contact.user], actor=None
        )
    assert not Team.objects.exists()


def test_a_second_portal_login_is_refused(cast):
    with pytest.raises(Conflict) as refused:
        actions.do_grant_portal_access(cast.contact, password=None, actor=cast.admin)
    assert refused.value.code == "portal_login_exists"
