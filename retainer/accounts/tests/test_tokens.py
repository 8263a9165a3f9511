"""API tokens: bearer access on the API, scopes, expiry and revocation, hashed storage,
the throttled last-use write, and the pages that make and revoke them."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retainer.accounts import actions, checks, tokens
from retainer.accounts.choices import API_AREAS, AccountEventType, Role, TokenKind
from retainer.accounts.models import AccountEvent, ApiToken, Organization, User
from retainer.lib.errors import InvalidInput, NotPermitted
from tests.test_url_access import (  # the matrix's helpers and its world
    EXPECTED,
    GET,
    WRITES,
    Snapshot,
    declared_routes,
    refused,
    send,
    url_for,
    users_by_role,
    world,  # noqa: F401 (a fixture)
)

ALL_READ = [f"{area}:read" for area in API_AREAS]
ALL_WRITE = [f"{area}:write" for area in API_AREAS]


def issue(user, scopes, days=30, name="script"):
    return actions.do_create_api_token(
        user=user, name=name, scopes=scopes, expires_in_days=days, actor=user
    ).text


def bearer(text: str, **kwargs) -> Client:
    return Client(headers={"Authorization": f"Bearer {text}"}, **kwargs)


NEW_ORGANIZATION = {"name": "Initech", "domains": ["initech.test"]}


# --- Bearer access -------------------------------------------------------------------------


def test_a_token_reads_several_areas_of_the_api_as_its_user(cast):
    client = bearer(issue(cast.admin, ALL_READ))
    for url in (
        "/api/v1/organizations/",
        "/api/v1/cases/",
        "/api/v1/contracts/",
        "/api/v1/products/",
    ):
        assert client.get(url).status_code == 200, url


def test_a_customer_token_sees_only_its_own_organization(cast):
    client = bearer(issue(cast.contact.user, ALL_READ))
    response = client.get("/api/v1/organizations/")
    assert [row["id"] for row in response.json()["results"]] == [cast.acme.pk]
    assert client.get(f"/api/v1/organizations/{cast.globex.pk}/").status_code == 404


def test_a_read_scoped_token_cannot_write_and_writes_nothing(cast):
    client = bearer(issue(cast.admin, ["accounts:read"]))
    before = Organization.objects.count()
    response = client.post(
        "/api/v1/organizations/", NEW_ORGANIZATION, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert "accounts:write" in response.json()["detail"]
    assert Organization.objects.count() == before


def test_a_token_is_refused_outside_its_areas(cast):
    client = bearer(issue(cast.admin, ["cases:read"]))
    assert client.get("/api/v1/cases/").status_code == 200
    response = client.get("/api/v1/contracts/")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


def test_a_write_scoped_token_writes_without_a_csrf_token_and_the_session_still_needs_one(cast):
    client = bearer(issue(cast.admin, ["accounts:write"]), enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/organizations/", NEW_ORGANIZATION, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Organization.objects.filter(name="Initech").exists()

    session = Client(enforce_csrf_checks=True)
    session.force_login(cast.admin)
    body = {**NEW_ORGANIZATION, "name": "Other", "domains": ["other.test"]}
    refused = session.post("/api/v1/organizations/", body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_a_token_never_grants_more_than_its_owner_may_do(cast):
    client = bearer(issue(cast.agent, ALL_WRITE))
    response = client.post(
        "/api/v1/organizations/", NEW_ORGANIZATION, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Organization.objects.filter(name="Initech").exists()


def assert_rejected(response):
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401(cast):
    text = issue(cast.manager, ALL_READ)
    client = bearer(text)
    assert client.get("/api/v1/cases/").status_code == 200
    checks.check_revoke_api_token(cast.manager, ApiToken.objects.get())
    assert_rejected(client.get("/api/v1/cases/"))


def test_an_expired_token_gets_401(cast):
    client = bearer(issue(cast.manager, ALL_READ, days=1))
    assert client.get("/api/v1/cases/").status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, seconds=1)):
        assert_rejected(client.get("/api/v1/cases/"))


@pytest.mark.parametrize(
    "text",
    ["rtk_999_" + "a" * 43, "not-a-token", "rtk_1_short", ""],
    ids=["unknown", "garbage", "malformed", "empty"],
)
def test_an_unknown_or_malformed_token_gets_401(cast, text):
    assert_rejected(bearer(text).get("/api/v1/cases/"))


def test_a_token_with_a_wrong_secret_gets_401(cast):
    text = issue(cast.manager, ALL_READ)
    parsed = tokens.parse(text)
    assert parsed is not None
    token_id, secret = parsed
    wrong = tokens.token_text(token_id, ("b" if secret[0] != "b" else "c") + secret[1:])
    assert_rejected(bearer(wrong).get("/api/v1/cases/"))


def test_a_deactivated_users_tokens_stop_working(cast):
    staff = bearer(issue(cast.manager, ALL_READ))
    customer = bearer(issue(cast.contact.user, ALL_READ))
    actions.do_set_user_active(cast.manager, False, actor=cast.admin)
    actions.do_set_contact_active(cast.contact, False, actor=cast.admin)
    assert_rejected(staff.get("/api/v1/cases/"))
    assert_rejected(customer.get("/api/v1/cases/"))


def test_a_contact_of_a_deactivated_organization_has_no_token_access(cast):
    client = bearer(issue(cast.outsider.user, ALL_READ))
    actions.do_set_organization_active(cast.globex, False, actor=cast.admin)
    assert_rejected(client.get("/api/v1/organizations/"))


def test_without_a_bearer_header_an_anonymous_request_is_still_403(cast):
    response = Client().get("/api/v1/cases/")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


# --- Storage, last use, events -----------------------------------------------------------


def test_only_the_digest_of_the_secret_is_stored(cast):
    text = issue(cast.manager, ALL_READ)
    parsed = tokens.parse(text)
    assert parsed is not None
    secret = parsed[1]
    token = ApiToken.objects.get()
    assert token.secret_digest == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = repr(cursor.fetchall())
        cursor.execute("SELECT data FROM accounts_accountevent")
        stored += repr(cursor.fetchall())
    assert secret not in stored
    assert len(secret) == 43  # 256 bits


def test_last_use_is_written_at_most_once_a_minute(cast):
    start = timezone.now().replace(microsecond=0)
    client = bearer(issue(cast.manager, ALL_READ))
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/cases/")
        assert ApiToken.objects.get().last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/cases/").status_code == 200
        assert not [q for q in queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]]
        assert ApiToken.objects.get().last_used_at == start
    later = start + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        client.get("/api/v1/cases/")
        assert ApiToken.objects.get().last_used_at == later


def test_creating_and_revoking_a_token_record_events(cast):
    issued = checks.check_create_api_token(
        cast.contact.user, name="CI", scopes=["cases:write"], expires_in_days=10
    )
    checks.check_revoke_api_token(cast.contact.user, issued.token)
    checks.check_revoke_api_token(cast.contact.user, issued.token)  # again: nothing more
    created, revoked = (
        AccountEvent.objects.filter(
            type__in=[AccountEventType.API_TOKEN_CREATED, AccountEventType.API_TOKEN_REVOKED]
        )
        .order_by("id")
        .all()
    )
    assert created.data["scopes"] == ["cases:read", "cases:write"]
    assert created.user == cast.contact.user and created.contact == cast.contact
    assert revoked.type == AccountEventType.API_TOKEN_REVOKED
    assert revoked.data == {"token_id": issued.token.pk, "token_name": "CI"}


@pytest.mark.parametrize(
    ("scopes", "days", "code"),
    [
        ([], 10, "no_scope"),
        (["cases:delete"], 10, "unknown_scope"),
        (["cases:read"], 0, "invalid_expiry"),
        (["cases:read"], 366, "invalid_expiry"),
        (["cases:read"], None, "expiry_required"),
    ],
)
def test_bad_token_requests_are_refused_and_write_nothing(cast, scopes, days, code):
    with pytest.raises(InvalidInput) as refused:
        checks.check_create_api_token(cast.agent, name="x", scopes=scopes, expires_in_days=days)
    assert refused.value.code == code
    assert not ApiToken.objects.exists()


def test_without_a_maximum_a_token_may_never_expire(cast, settings):
    settings.RETAINER_API_TOKEN_MAX_DAYS = 0
    issued = checks.check_create_api_token(
        cast.agent, name="x", scopes=["cases:read"], expires_in_days=None
    )
    assert issued.token.expires_at is None


# --- Service tokens ----------------------------------------------------------------------


def test_a_service_token_acts_as_its_own_account_with_the_chosen_role(cast):
    issued = checks.check_create_service_token(
        cast.admin, name="CRM sync", role=Role.AGENT, scopes=ALL_WRITE, expires_in_days=30
    )
    account = issued.token.user
    assert account.is_service_account and account.is_staff and not account.has_usable_password()
    assert issued.token.kind == TokenKind.SERVICE
    client = bearer(issued.text)
    assert client.get("/api/v1/cases/").status_code == 200
    # The agent role may not add organizations, so neither may the token.
    refused = client.post(
        "/api/v1/organizations/", NEW_ORGANIZATION, content_type="application/json"
    )
    assert refused.status_code == 403
    # It never signs in.
    web = Client()
    web.force_login(account)
    assert web.get(reverse("accounts:console_home")).status_code == 302


def test_a_service_account_is_never_offered_as_an_assignee(cast):
    from retainer.accounts.selectors import staff_people
    from retainer.cases.forms.console import AssignForm

    issued = checks.check_create_service_token(
        cast.admin, name="CRM sync", role=Role.AGENT, scopes=ALL_WRITE, expires_in_days=30
    )
    account = issued.token.user
    assert not staff_people().filter(pk=account.pk).exists()
    assert staff_people().filter(pk=cast.agent.pk).exists()
    offered = AssignForm().fields["assignee"].queryset  # type: ignore[attr-defined]
    assert not offered.filter(pk=account.pk).exists()


def test_revoking_a_service_token_deactivates_its_account(cast):
    issued = checks.check_create_service_token(
        cast.admin, name="CRM", role=Role.AGENT, scopes=ALL_READ, expires_in_days=30
    )
    checks.check_revoke_api_token(cast.admin, issued.token)
    assert not User.objects.get(pk=issued.token.user_id).is_active
    assert_rejected(bearer(issued.text).get("/api/v1/cases/"))


def test_only_holders_of_the_permission_make_service_tokens(cast):
    with pytest.raises(NotPermitted):
        checks.check_create_service_token(
            cast.manager, name="x", role=Role.AGENT, scopes=ALL_READ, expires_in_days=30
        )
    assert cast.admin.has_perm("accounts.manage_service_tokens")


# --- The pages ---------------------------------------------------------------------------


def token_form(**extra):
    return {"name": "Laptop script", "scope_cases": "write", "expires_in_days": "30", **extra}


@pytest.mark.parametrize("who", ["agent", "contact"])
def test_staff_and_contacts_make_a_token_whose_secret_is_shown_once(cast, who):
    person = getattr(cast, who)
    client = cast.client_for(person)
    page = client.get(reverse("accounts:token_list"))
    assert page.status_code == 200
    created = client.post(reverse("accounts:token_list"), token_form())
    assert created.status_code == 201
    assert created["Cache-Control"] == "no-store"
    text = created.context["issued"].text
    assert text in created.content.decode()
    token = ApiToken.objects.get()
    assert token.scopes == ["cases:read", "cases:write"]
    assert token.user == (person.user if who == "contact" else person)
    again = client.get(reverse("accounts:token_list"))
    assert text not in again.content.decode() and "Laptop script" in again.content.decode()
    assert bearer(text).get("/api/v1/cases/").status_code == 200


def test_a_token_form_without_scopes_is_refused_on_the_form(cast):
    client = cast.client_for(cast.agent)
    response = client.post(reverse("accounts:token_list"), token_form(scope_cases=""))
    assert response.status_code == 400
    assert "Choose at least one scope" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_owner_revokes_their_token_and_nobody_else_but_an_admin_can(cast):
    issue(cast.agent, ALL_READ)
    token = ApiToken.objects.get()
    url = reverse("accounts:token_revoke", args=[token.pk])
    assert cast.client_for(cast.manager).post(url).status_code == 404
    assert cast.client_for(cast.contact).post(url).status_code == 404
    assert cast.client_for(cast.agent).get(url).status_code == 405
    response = cast.client_for(cast.agent).post(url)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:token_list")
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == cast.agent

    other = ApiToken.objects.get(pk=actions.do_create_api_token(
        user=cast.contact.user, name="c", scopes=ALL_READ, expires_in_days=5, actor=cast.contact.user
    ).token.pk)  # fmt: skip
    url = reverse("accounts:token_revoke", args=[other.pk])
    response = cast.client_for(cast.admin).post(url)
    assert response["Location"] == reverse("accounts:token_admin")
    other.refresh_from_db()
    assert other.revoked_by == cast.admin


def test_the_admin_page_lists_every_token_and_makes_service_tokens(
    cast, django_assert_max_num_queries
):
    for person in (cast.agent, cast.contact.user, cast.manager):
        issue(person, ALL_READ, name=f"token of {person.full_name}")
    client = cast.client_for(cast.admin)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("accounts:token_admin"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "token of Ann Agent" in body and "Acme" in body
    created = client.post(
        reverse("accounts:token_admin"), token_form(name="ERP", role=Role.BILLING)
    )
    assert created.status_code == 201
    token = ApiToken.objects.get(name="ERP")
    assert token.kind == TokenKind.SERVICE
    assert list(token.user.groups.values_list("name", flat=True)) == [Role.BILLING]
    assert created.context["issued"].text in created.content.decode()


@pytest.mark.parametrize(("who", "status"), [("manager", 403), ("agent", 403), ("contact", 404)])
def test_the_admin_page_is_refused_to_others(cast, who, status):
    client = cast.client_for(getattr(cast, who))
    assert client.get(reverse("accounts:token_admin")).status_code == status
    assert (
        client.post(reverse("accounts:token_admin"), token_form(role="agent")).status_code == status
    )
    assert not ApiToken.objects.exists()


def test_the_token_pages_show_hostile_names_as_text(cast):
    from collections import Counter

    from retainer.lib.tests.hostile import PAYLOADS, active_content

    client = cast.client_for(cast.admin)
    urls = (reverse("accounts:token_list"), reverse("accounts:token_admin"))

    def seen() -> dict[str, Counter[str]]:
        return {url: Counter(active_content(client.get(url).content.decode())) for url in urls}

    # A revoked token's row has no revoke form: with only revoked tokens, the pages have
    # the active content of an empty list.
    empty = seen()
    for value in PAYLOADS:
        actions.do_revoke_api_token(
            actions.do_create_api_token(
                user=cast.admin, name=value, scopes=ALL_READ, expires_in_days=5, actor=cast.admin
            ).token,
            actor=cast.admin,
        )
    assert seen() == empty


def test_the_schema_declares_the_bearer_scheme(cast):
    schema = Client().get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    operation = schema["paths"]["/api/v1/cases/"]["get"]
    assert {"tokenAuth": []} in operation["security"]
    assert {"401", "429"} <= set(operation["responses"])


# --- The route × role matrix, through tokens ---------------------------------------------


COUNTERS = "accounts_apiratecounter"


@pytest.fixture
def generous_limits(settings):
    """The rate limits on, high enough never to refuse: every route meets the throttle."""
    settings.RETAINER_API_READS_PER_MINUTE = 100_000
    settings.RETAINER_API_WRITES_PER_MINUTE = 100_000


def changed(answer) -> list[str]:
    """The tables a request changed, but the rate counters every API request writes."""
    return [table for table in answer.changed if table != COUNTERS]


def token_client(cast, role: str, scopes: list[str]) -> Client:
    person = users_by_role(cast)[role]
    user = getattr(person, "user", person)
    client = bearer(issue(user, scopes))
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    "role", ["customer_admin", "contact", "outsider", "agent", "billing", "manager", "admin"]
)
def test_every_api_route_answers_a_full_scope_token_as_it_answers_its_user(
    cast,
    world,  # noqa: F811 (the fixture imported above)
    role,
    generous_limits,
):
    """The API part of ``tests/test_url_access.py`` again, signed in with a token holding
    every scope instead of a session: the same status for each read, the same roles let
    through for each write, nothing written by a refused one."""
    client = token_client(cast, role, ALL_WRITE)
    snapshot = Snapshot()
    failures = []
    for route in declared_routes():
        if not route.name.startswith("api:"):
            continue
        url = url_for(route, world)
        answer = send(client, route, GET, url, snapshot)
        if answer.status != EXPECTED[route.name][role] or changed(answer):
            failures.append(
                f"GET {url}: {answer.status} {changed(answer)}, expected {EXPECTED[route.name][role]}"
            )
        for method, roles in WRITES.get(route.name, {}).items():
            answer = send(client, route, method, url, snapshot)
            if (role in roles) == refused(answer) or answer.status >= 500:
                failures.append(f"{method} {url}: {answer.status}, let through: {role in roles}")
            elif refused(answer) and changed(answer):
                failures.append(f"{method} {url}: refused and changed {changed(answer)}")
    assert not failures, "\n".join(failures)


def test_a_read_only_token_writes_nowhere(cast, world, generous_limits):  # noqa: F811
    client = token_client(cast, "admin", ALL_READ)
    snapshot = Snapshot()
    failures = []
    for route in declared_routes():
        for method in WRITES.get(route.name, {}) if route.name.startswith("api:") else ():
            if route.name == "api:csat_by_token":
                continue  # the survey link's door takes no credentials at all
            url = url_for(route, world)
            answer = send(client, route, method, url, snapshot)
            if answer.status != 403 or "insufficient_scope" not in answer.detail or changed(answer):
                failures.append(
                    f"{method} {url}: {answer.status} {answer.detail} {changed(answer)}"
                )
    assert not failures, "\n".join(failures)
