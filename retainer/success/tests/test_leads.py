"""Leads through the API and the console: recorded, converted once into an organization
and a contact (found when they exist), refused to those without the permissions."""

from __future__ import annotations

from typing import Any

from retainer.accounts import actions as account_actions
from retainer.accounts.models import AccountEvent, Contact, Organization
from retainer.success import actions
from retainer.success.choices import LeadStatus
from retainer.success.models import Lead, Opportunity, SuccessEvent


def _post(client: Any, url: str, body: dict | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def test_a_manager_records_a_lead_through_the_api(cast):
    response = _post(
        cast.client_for(cast.manager),
        "/api/v1/leads/",
        {"company": "Hooli", "contact_name": "Gavin B", "email": "Gavin@Hooli.test"},
    )
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.email, lead.status) == ("gavin@hooli.test", LeadStatus.NEW)
    assert SuccessEvent.objects.filter(lead=lead, type="lead_created").exists()


def test_converting_a_lead_creates_the_organization_contact_and_opportunity(cast, sales):
    response = _post(cast.client_for(cast.manager), f"/api/v1/leads/{sales.lead.pk}/convert/")
    assert response.status_code == 201, response.json()
    body = response.json()
    organization = Organization.objects.get(pk=body["organization"])
    contact = Contact.objects.get(pk=body["contact"])
    assert organization.name == "Initech"
    assert (contact.full_name, contact.email, contact.phone) == (
        "Peter Gibbons",
        "peter@initech.test",
        "+1 555 0100",
    )
    assert contact.organization == organization
    opportunity = Opportunity.objects.get(pk=body["opportunity"])
    assert (opportunity.organization, opportunity.stage.name) == (organization, "Qualification")
    assert body["lead"]["status"] == "converted"
    # The accounts actions wrote their own events.
    assert AccountEvent.objects.filter(organization=organization, type="organization_created")
    assert AccountEvent.objects.filter(contact=contact, type="contact_created").exists()
    assert SuccessEvent.objects.filter(lead=sales.lead, type="lead_converted").exists()


def test_converting_a_lead_twice_is_refused_and_changes_nothing(cast, sales):
    client = cast.client_for(cast.manager)
    assert _post(client, f"/api/v1/leads/{sales.lead.pk}/convert/").status_code == 201
    counts = (Organization.objects.count(), Contact.objects.count(), Opportunity.objects.count())
    response = _post(client, f"/api/v1/leads/{sales.lead.pk}/convert/")
    assert response.status_code == 409
    assert response.json()["code"] == "lead_already_converted"
    assert counts == (
        Organization.objects.count(),
        Contact.objects.count(),
        Opportunity.objects.count(),
    )


def test_a_lead_of_a_known_domain_is_linked_to_its_organization(cast):
    lead = actions.do_create_lead(
        company="ACME Corporation", contact_name="Newton", email="newton@acme.test", actor=None
    )
    organization, contact, _ = actions.do_convert_lead(lead, actor=cast.manager)
    assert organization == cast.acme
    assert contact.organization == cast.acme
    assert Organization.objects.filter(name="ACME Corporation").count() == 0


def test_a_lead_whose_email_is_a_contact_of_another_organization_writes_nothing(cast):
    account_actions.do_create_contact(
        organization=cast.globex, full_name="Zed", email="zed@mail.test", actor=cast.admin
    )
    lead = actions.do_create_lead(
        company="Newco", contact_name="Zed", email="zed@mail.test", actor=None
    )
    organizations = Organization.objects.count()
    response = _post(cast.client_for(cast.manager), f"/api/v1/leads/{lead.pk}/convert/")
    assert response.status_code == 400
    assert response.json()["code"] == "contact_of_another_organization"
    assert Organization.objects.count() == organizations
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_agents_and_billing_may_read_leads_but_not_convert_them(cast, sales):
    for user in (cast.agent, cast.billing):
        client = cast.client_for(user)
        assert client.get("/api/v1/leads/").status_code == 200
        response = _post(client, f"/api/v1/leads/{sales.lead.pk}/convert/")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Lead.objects.get(pk=sales.lead.pk).status == LeadStatus.NEW


def test_customers_never_see_leads(cast, sales):
    client = cast.client_for(cast.customer_admin)
    assert client.get("/api/v1/leads/").status_code == 403
    assert client.get(f"/console/success/leads/{sales.lead.pk}/").status_code == 404


def test_the_console_converts_a_lead_and_opens_its_opportunity(cast, sales):
    client = cast.client_for(cast.manager)
    page = client.get(f"/console/success/leads/{sales.lead.pk}/")
    assert page.status_code == 200
    assert b"Convert the lead" in page.content
    response = client.post(
        f"/console/success/leads/{sales.lead.pk}/convert/", {"open_opportunity": "on"}
    )
    opportunity = Opportunity.objects.get(lead=sales.lead)
    assert response.status_code == 302
    assert response["Location"] == f"/console/success/opportunities/{opportunity.pk}/"


def test_a_new_lead_form_with_a_bad_email_is_shown_again_with_the_error(cast):
    client = cast.client_for(cast.manager)
    response = client.post(
        "/console/success/leads/new/",
        {"company": "X", "contact_name": "Y", "email": "not-an-email", "source": "web",
         "status": "new", "currency": "EUR"},
    )  # fmt: skip
    assert response.status_code == 400
    assert b"id_email_error" in response.content
    assert not Lead.objects.filter(company="X").exists()


def test_agents_get_no_lead_form(cast):
    assert cast.client_for(cast.agent).get("/console/success/leads/new/").status_code == 403


def test_the_lead_list_filters_by_status(cast, sales):
    actions.do_create_lead(
        company="Umbrella", contact_name="Alice", email="alice@umbrella.test",
        status=LeadStatus.DISQUALIFIED, actor=None,
    )  # fmt: skip
    client = cast.client_for(cast.agent)
    page = client.get("/console/success/leads/?status=disqualified")
    assert b"Umbrella" in page.content
    assert b"Initech" not in page.content
