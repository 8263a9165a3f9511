"""People are deactivated, never deleted; their history keeps them."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from retainer.accounts import actions
from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent, Contact, Organization, User


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
    assert not client.login(username="carl@acme.test", password=PASSWORD)


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
    with pytest.raises(ValidationError, match="cannot deactivate yourself"):
        actions.do_set_user_active(cast.admin, False, actor=cast.admin)


def test_changing_roles_is_recorded_with_old_and_new(cast):
    actions.do_set_staff_roles(cast.agent, ["agent", "billing"], actor=cast.admin)
    event = AccountEvent.objects.get(type=AccountEventType.STAFF_ROLES_CHANGED)
    assert event.data == {"old": ["agent"], "new": ["agent", "billing"]}
    assert cast.agent.has_perm("accounts.change_organization")


def test_unknown_roles_are_refused(cast):
    with pytest.raises(ValidationError, match="Unknown role"):
        actions.do_set_staff_roles(cast.agent, ["superhero"], actor=cast.admin)


def test_the_account_owner_must_be_staff(cast):
    with pytest.raises(ValidationError, match="account owner must be active vendor staff"):
        actions.do_update_organization(cast.acme, account_owner=cast.contact.user, actor=cast.admin)


def test_updates_record_only_what_changed(cast):
    actions.do_update_organization(cast.acme, name="Acme Corp", currency="EUR", actor=cast.admin)
    event = AccountEvent.objects.filter(type=AccountEventType.ORGANIZATION_UPDATED).get()
    assert event.data == {"name": {"old": "Acme", "new": "Acme Corp"}}


def test_changing_a_contacts_email_moves_their_login_too(cast):
    actions.do_update_contact(cast.contact, email="Carl.New@acme.test", actor=cast.admin)
    assert User.objects.get(pk=cast.contact.user_id).email == "carl.new@acme.test"
