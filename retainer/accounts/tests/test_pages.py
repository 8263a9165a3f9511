"""Sign-in, landing pages per role, the console list and the admin's forms."""

from conftest import PASSWORD
from retainer.accounts.models import Organization, OrganizationDomain


def test_the_login_page_shows_demo_logins_only_when_demo_users_exist(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Demo logins" not in response.content


def test_each_role_lands_on_its_home_after_signing_in(cast, client):
    homes = {
        "agent@vendor.test": "/console/cases/",
        "billing@vendor.test": "/console/invoices/",
        "manager@vendor.test": "/console/team/",
        "admin@vendor.test": "/console/team/",
    }
    for email, home in homes.items():
        response = client.post("/login/", {"username": email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(response["Location"])["Location"] == home, email
        assert client.get(home).status_code == 200, email
        client.logout()
    response = client.post(
        "/login/", {"username": "carl@acme.test", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/portal/"
    assert b"Acme" in response.content


def test_a_wrong_password_is_a_form_error_that_does_not_reveal_the_account(cast, client):
    known = client.post("/login/", {"username": "carl@acme.test", "password": "nope"})
    unknown = client.post("/login/", {"username": "nobody@acme.test", "password": "nope"})
    assert known.status_code == unknown.status_code == 200
    assert b"Please enter a correct" in known.content
    assert known.context["form"].errors == unknown.context["form"].errors


def test_the_portal_shows_only_the_customers_own_organization(cast):
    response = cast.client_for(cast.contact).get("/portal/")
    assert b"Acme" in response.content
    assert b"Globex" not in response.content
    assert b"otto@globex.test" not in response.content


def test_the_console_searches_organizations_and_answers_htmx_with_the_fragment(cast):
    client = cast.client_for(cast.agent)
    page = client.get("/console/?q=glob")
    assert b"Globex" in page.content and b"Acme</a>" not in page.content
    fragment = client.get("/console/?q=glob", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content
    assert b"Globex" in fragment.content


def test_the_console_list_runs_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    from retainer.accounts import actions

    for n in range(30):
        actions.do_create_organization(name=f"Org {n}", domains=[f"org{n}.test"], actor=cast.admin)
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(8):
        client.get("/console/")


def test_signing_out_needs_a_post(cast):
    client = cast.client_for(cast.agent)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302


def test_admin_rejects_a_duplicate_domain_as_a_form_error(cast):
    client = cast.client_for(cast.manager)
    response = client.post(
        "/admin/accounts/organization/add/",
        {
            "name": "Acme Copy",
            "time_zone": "UTC",
            "currency": "EUR",
            "account_owner": "",
            "domain_list": "acme.test",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    # The action's own message, as the API gives it.
    assert "acme.test: This domain already belongs to an organization." in (
        response.content.decode()
    )
    assert not Organization.objects.filter(name="Acme Copy").exists()
    assert OrganizationDomain.objects.count() == 2


def test_admin_creates_an_organization_through_the_action(cast):
    client = cast.client_for(cast.manager)
    response = client.post(
        "/admin/accounts/organization/add/",
        {
            "name": "Initech",
            "time_zone": "Europe/Paris",
            "currency": "EUR",
            "account_owner": "",
            "domain_list": "initech.test",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(name="Initech")
    assert [d.domain for d in organization.domains.all()] == ["initech.test"]
    assert organization.events.get().type == "organization_created"


def test_admin_offers_no_delete_for_people(cast):
    client = cast.client_for(cast.admin)
    response = client.get(f"/admin/accounts/contact/{cast.contact.pk}/delete/")
    assert response.status_code == 403
