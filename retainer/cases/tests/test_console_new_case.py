"""Opening a case from the console for a caller: the organization, then the contact and
the form with the same decision preview as the portal, through ``check_open_case``."""

from __future__ import annotations

from typing import Any

from django.test import Client

from retainer.cases.models import Case
from retainer.cases.tests.conftest import Desk
from retainer.cases.tests.test_portal import row_counts

NEW = "/console/cases/new/"


def form(cast, desk: Desk, **data: Any) -> dict[str, Any]:
    return {
        "organization": cast.acme.pk,
        "contact": cast.contact.pk,
        "channel": "phone",
        "product": desk.product.pk,
        "release": desk.current.pk,
        "severity": 2,
        "priority": "high",
        "subject": "Posting stops at night",
        "description": "Called in: error 42 since Tuesday.",
        **data,
    }


def preview(client: Client, data: dict[str, Any]) -> str:
    return client.post(f"{NEW}preview/", data, headers={"HX-Request": "true"}).content.decode()


def test_the_organization_is_found_by_name_first(cast, desk):
    page = cast.client_for(cast.agent).get(f"{NEW}?find=acm").content.decode()
    assert f"?organization={cast.acme.pk}" in page and "Globex" not in page


def test_the_form_offers_only_the_chosen_organizations_active_contacts(cast, desk):
    page = cast.client_for(cast.agent).get(f"{NEW}?organization={cast.acme.pk}").content.decode()
    assert "Carl Contact" in page and "Otto Outsider" not in page
    assert 'value="phone" selected' in page


def test_an_agent_opens_a_phone_case_for_a_contact(cast, desk, incident_bank):
    response = cast.client_for(cast.agent).post(NEW, form(cast, desk))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{case.public_id}/")
    assert (case.contact, case.channel, case.priority, case.opened_by) == (
        cast.contact,
        "phone",
        "high",
        cast.agent,
    )
    assert case.entitlement == "covered" and case.incident_consumed


def test_the_preview_shows_the_portals_decision_in_staff_words_and_writes_nothing(
    cast, desk, incident_bank
):
    client = cast.client_for(cast.agent)
    before = row_counts()
    covered = preview(client, form(cast, desk))
    assert f"Covered by contract #{incident_bank.pk}." in covered
    assert "Your request is covered by your support contract." in covered  # the customer's
    unnamed = preview(client, form(cast, desk, contact=cast.unauthorized.pk))
    assert "Not entitled: The contact is not a named contact on the contract." in unnamed
    old = preview(client, form(cast, desk, release=desk.old.pk))
    assert "Out of scope" in old and "Backport" in old and "€2,400.00" in old
    assert row_counts() == before


def test_an_invalid_form_is_shown_again_with_errors_and_stores_nothing(cast, desk, incident_bank):
    response = cast.client_for(cast.agent).post(NEW, form(cast, desk, subject="", contact=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page and not Case.objects.exists()


def test_a_contact_of_another_organization_is_refused(cast, desk, incident_bank):
    response = cast.client_for(cast.agent).post(NEW, form(cast, desk, contact=cast.outsider.pk))
    assert response.status_code == 400 and not Case.objects.exists()


def test_billing_may_not_open_a_case_and_customers_do_not_see_the_page(cast, desk, incident_bank):
    billing = cast.client_for(cast.billing)
    assert billing.get(f"{NEW}?organization={cast.acme.pk}").status_code == 403
    assert billing.post(NEW, form(cast, desk)).status_code == 403
    assert cast.client_for(cast.contact).get(NEW).status_code == 404
    assert not Case.objects.exists()


def test_new_is_not_read_as_a_case_id(cast, desk):
    assert cast.client_for(cast.agent).get(NEW).status_code == 200


def test_release_options_follow_the_product(cast, desk):
    page = cast.client_for(cast.agent).get(f"{NEW}releases/?product={desk.product.pk}")
    assert "5.0" in page.content.decode() and "1.0" in page.content.decode()
