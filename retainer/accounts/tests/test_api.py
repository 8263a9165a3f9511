"""The accounts API: scoping, writes by role, and bad input that saves nothing."""

import pytest

from retainer.accounts.choices import AccountEventType
from retainer.accounts.models import AccountEvent, Contact, Organization, OrganizationDomain
from retainer.lib.models import OutboxMessage


def counts():
    return (
        Organization.objects.count(),
        OrganizationDomain.objects.count(),
        Contact.objects.count(),
        AccountEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def rows():
    """Everything an organization or contact write may touch, as it now stands."""
    return (
        list(Organization.objects.values()),
        list(OrganizationDomain.objects.values()),
        list(Contact.objects.values()),
        AccountEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_a_customer_lists_only_their_own_organization(cast):
    response = cast.client_for(cast.contact).get("/api/v1/organizations/")
    assert [row["id"] for row in response.json()["results"]] == [cast.acme.pk]


def test_a_customer_lists_only_their_colleagues(cast):
    response = cast.client_for(cast.outsider).get("/api/v1/contacts/")
    assert {row["email"] for row in response.json()["results"]} == {"otto@globex.test"}


def test_staff_see_every_organization_and_can_filter_by_domain(cast):
    response = cast.client_for(cast.agent).get("/api/v1/organizations/?domain=globex.test")
    assert [row["name"] for row in response.json()["results"]] == ["Globex"]


def test_a_manager_creates_an_organization_with_domains(cast):
    response = cast.client_for(cast.manager).post(
        "/api/v1/organizations/",
        {
            "name": "Initech",
            "domains": ["initech.test", "Initech.example"],
            "time_zone": "Europe/Paris",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["domains"] == ["initech.example", "initech.test"]


def test_an_agent_may_not_create_organizations(cast):
    before = counts()
    response = cast.client_for(cast.agent).post(
        "/api/v1/organizations/", {"name": "Initech"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert counts() == before


def test_customers_may_not_create_contacts(cast):
    response = cast.client_for(cast.customer_admin).post(
        "/api/v1/contacts/",
        {"organization": cast.acme.pk, "full_name": "X", "email": "x@acme.test"},
        content_type="application/json",
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"full_name": "Eve", "email": "not-an-email"}, "email", "valid email"),
        ({"full_name": "Eve", "email": "CARL@acme.test"}, "non_field_errors", "already exists"),
        (
            {"full_name": "Eve", "email": "eve@acme.test", "phone": "call me <maybe>"},
            "phone",
            "digits",
        ),
        ({"full_name": "", "email": "eve@acme.test"}, "full_name", "blank"),
    ],
)
def test_bad_contact_input_is_a_clear_400_and_saves_nothing(cast, payload, field, message):
    before = counts()
    response = cast.client_for(cast.agent).post(
        "/api/v1/contacts/",
        {"organization": cast.acme.pk, **payload},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert field in body["errors"]
    assert message in body["detail"].lower() or message in str(body["errors"]).lower()
    assert counts() == before


def test_a_duplicate_organization_domain_is_refused_and_nothing_is_saved(cast):
    before = counts()
    response = cast.client_for(cast.manager).post(
        "/api/v1/organizations/",
        {"name": "Acme Clone", "domains": ["clone.test", "ACME.test"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (
        "acme.test: This domain already belongs to an organization."
        in response.json()["errors"]["domains"]
    )
    assert counts() == before


@pytest.mark.parametrize("domain", ["https://acme.example", "acme", "acme..example", "a b.example"])
def test_malformed_domains_are_refused(cast, domain):
    before = counts()
    response = cast.client_for(cast.manager).post(
        "/api/v1/organizations/",
        {"name": "Bad", "domains": [domain]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "domains" in response.json()["errors"]
    assert counts() == before


def test_an_unknown_time_zone_or_currency_is_refused(cast):
    client = cast.client_for(cast.manager)
    for payload in ({"name": "X", "time_zone": "Mars/Base"}, {"name": "X", "currency": "XXX"}):
        response = client.post("/api/v1/organizations/", payload, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"


def test_updating_domains_replaces_them_and_records_the_change(cast):
    response = cast.client_for(cast.manager).patch(
        f"/api/v1/organizations/{cast.acme.pk}/",
        {"domains": ["acme.example"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["domains"] == ["acme.example"]
    assert AccountEvent.objects.filter(type=AccountEventType.ORGANIZATION_DOMAINS_CHANGED).exists()


def test_a_taken_domain_refuses_the_whole_update(cast):
    before = rows()
    response = cast.client_for(cast.manager).patch(
        f"/api/v1/organizations/{cast.acme.pk}/",
        {"name": "Acme Renamed", "domains": ["acme.test", "globex.test"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["domains"] == [
        "globex.test: This domain already belongs to an organization."
    ]
    assert rows() == before


@pytest.mark.parametrize(
    "payload", [{"is_active": False}, {"name": "X", "created_at": "2020-01-01"}]
)
def test_a_field_the_api_does_not_set_is_refused(cast, payload):
    before = rows()
    response = cast.client_for(cast.manager).patch(
        f"/api/v1/organizations/{cast.acme.pk}/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "field_not_allowed"
    assert rows() == before


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("post", "/api/v1/organizations/", {"name": "Initech", "is_active": False}),
        ("post", "/api/v1/contacts/", {"full_name": "Eve", "email": "e@a.test", "user": 1}),
        ("patch", "/api/v1/contacts/{contact}/", {"organization": "{globex}"}),
        ("patch", "/api/v1/contacts/{contact}/", {"is_active": False}),
        ("post", "/api/v1/contacts/{contact}/deactivate/", {"reason": "left"}),
    ],
)
def test_every_write_refuses_fields_it_does_not_take(cast, method, url, payload):
    ids = {"contact": cast.contact.pk, "globex": cast.globex.pk}
    payload = {
        key: (value.format(**ids) if isinstance(value, str) and "{" in value else value)
        for key, value in payload.items()
    }
    if url == "/api/v1/contacts/":
        payload["organization"] = cast.acme.pk
    before = rows()
    response = getattr(cast.client_for(cast.manager), method)(
        url.format(**ids), payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "field_not_allowed"
    assert rows() == before


def test_a_customer_may_read_but_not_change_their_organization(cast):
    client = cast.client_for(cast.customer_admin)
    before = rows()
    response = client.patch(
        f"/api/v1/organizations/{cast.acme.pk}/", {"name": "Ours"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert rows() == before


def test_a_customer_admin_deactivates_a_colleague_but_a_member_cannot(cast):
    member = cast.client_for(cast.contact).post(
        f"/api/v1/contacts/{cast.unauthorized.pk}/deactivate/"
    )
    assert member.status_code == 403
    admin = cast.client_for(cast.customer_admin).post(
        f"/api/v1/contacts/{cast.unauthorized.pk}/deactivate/"
    )
    assert admin.status_code == 200
    assert admin.json()["is_active"] is False


def test_an_outsider_cannot_touch_another_organizations_contact(cast):
    client = cast.client_for(cast.outsider)
    assert client.post(f"/api/v1/contacts/{cast.contact.pk}/deactivate/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/contacts/{cast.contact.pk}/",
            {"full_name": "Hacked"},
            content_type="application/json",
        ).status_code
        == 404
    )
    cast.contact.refresh_from_db()
    assert cast.contact.full_name == "Carl Contact"


def test_writes_without_a_csrf_token_are_refused_for_session_users(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)
    response = client.post("/api/v1/organizations/", {"name": "X"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
