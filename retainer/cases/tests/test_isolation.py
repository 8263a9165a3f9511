"""No cross-organization read or write on any case route, and query counts that do not
grow with the data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.cases import actions
from retainer.cases.models import Case, CaseEvent, CaseMessage, CsatResponse, TimeEntry
from retainer.contracts.models import LedgerEntry

WRITE_ROUTES = [
    ("post", "case_transition", {"status": "cancelled"}),
    ("post", "case_messages", {"body": "hello"}),
    ("post", "case_override", {"outcome": "covered", "reason": "x"}),
    ("post", "case_time_entries", {"minutes": 10}),
    ("post", "case_defect_link", {"defect": 1}),
    ("post", "case_csat", {"rating": "good"}),
    ("patch", "case_detail", {"subject": "hacked"}),
]


def snapshot():
    return [
        m.objects.count()
        for m in (Case, CaseMessage, CaseEvent, TimeEntry, LedgerEntry, CsatResponse)
    ] + list(Case.objects.values_list("subject", "status"))


@pytest.fixture
def globex_case(cast, desk):
    return actions.check_open_case(
        contact=cast.outsider, product=desk.product, subject="Globex issue", description="x",
        channel="web", actor=cast.outsider.user,
    )  # fmt: skip


@pytest.mark.parametrize(("method", "route", "payload"), WRITE_ROUTES)
@pytest.mark.parametrize("who", ["customer_admin", "contact", "unauthorized"])
def test_acme_people_cannot_write_to_a_globex_case(
    cast, desk, globex_case, method, route, payload, who
):
    client = cast.client_for(getattr(cast, who))
    before = snapshot()
    url = reverse(f"api:{route}", kwargs={"public_id": globex_case.public_id})
    response = getattr(client, method)(url, payload, content_type="application/json")
    # 403 where a permission is checked before the case is looked up: it says nothing
    # about the case either way.
    assert response.status_code in (403, 404)
    missing = reverse(f"api:{route}", kwargs={"public_id": "no-such-case-at-all-000"})
    assert (
        getattr(client, method)(missing, payload, content_type="application/json").status_code
        == response.status_code
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "route", ["case_detail", "case_messages", "case_events", "case_time_entries"]
)
def test_acme_people_cannot_read_a_globex_case(cast, globex_case, route):
    response = cast.client_for(cast.contact).get(
        reverse(f"api:{route}", kwargs={"public_id": globex_case.public_id})
    )
    assert response.status_code == 404
    assert b"Globex issue" not in response.content


def test_lists_contain_only_the_customers_own_cases(cast, desk, globex_case):
    actions.check_open_case(
        contact=cast.contact, product=desk.product, subject="Acme issue", description="x",
        channel="web", actor=cast.contact.user,
    )  # fmt: skip
    body = cast.client_for(cast.contact).get("/api/v1/cases/").json()
    assert [row["subject"] for row in body["results"]] == ["Acme issue"]
    staff = cast.client_for(cast.agent).get("/api/v1/cases/").json()
    assert len(staff["results"]) == 2


def test_anonymous_gets_nothing(client, globex_case):
    assert client.get(f"/api/v1/cases/{globex_case.public_id}/").status_code == 403
    assert client.post("/api/v1/cases/", {}, content_type="application/json").status_code == 403


def test_case_ids_in_urls_are_unguessable(globex_case):
    assert len(globex_case.public_id) >= 22  # 128 random bits, URL-safe base64


def _fill(cast, desk, n: int) -> None:
    for i in range(n):
        case = actions.check_open_case(
            contact=cast.contact, product=desk.product, subject=f"Case {i}", description="x",
            channel="web", actor=cast.contact.user,
        )  # fmt: skip
        actions.do_add_message(case, author=cast.agent, body="reply")
        actions.do_add_message(case, author=cast.contact.user, body="thanks")


@pytest.mark.parametrize("who", ["agent", "contact"])
def test_the_api_list_runs_a_fixed_number_of_queries(
    cast, desk, django_assert_max_num_queries, who
):
    _fill(cast, desk, 3)
    client = cast.client_for(getattr(cast, who))
    with django_assert_max_num_queries(9) as small:
        client.get("/api/v1/cases/")
    _fill(cast, desk, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/api/v1/cases/")


def test_case_detail_and_messages_do_not_grow_with_messages(
    cast, desk, django_assert_max_num_queries
):
    _fill(cast, desk, 1)
    case = Case.objects.get()
    client = cast.client_for(cast.agent)
    with django_assert_max_num_queries(12) as few:
        client.get(f"/api/v1/cases/{case.public_id}/")
        client.get(f"/api/v1/cases/{case.public_id}/messages/")
        client.get(f"/api/v1/cases/{case.public_id}/events/")
    for n in range(20):
        actions.do_add_message(case, author=cast.agent, body=f"more {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"/api/v1/cases/{case.public_id}/")
        client.get(f"/api/v1/cases/{case.public_id}/messages/")
        client.get(f"/api/v1/cases/{case.public_id}/events/")


def test_without_sharing_a_contact_sees_only_their_own_cases_everywhere(cast, desk):
    from retainer.accounts.models import Organization

    theirs = actions.check_open_case(
        contact=cast.customer_admin, product=desk.product, subject="Admin's case", description="x",
        channel="web", actor=cast.customer_admin.user,
    )  # fmt: skip
    Organization.objects.filter(pk=cast.acme.pk).update(share_cases_with_colleagues=False)
    contact = cast.client_for(cast.contact)
    assert contact.get("/api/v1/cases/").json()["results"] == []
    assert contact.get(f"/api/v1/cases/{theirs.public_id}/").status_code == 404
    assert contact.get(f"/api/v1/cases/{theirs.public_id}/attachments/").status_code == 404
    assert (
        cast.client_for(cast.customer_admin).get(f"/api/v1/cases/{theirs.public_id}/").status_code
        == 200
    )


def test_without_sharing_a_contact_sees_neither_decisions_nor_ledger_links_of_colleagues(
    cast, desk, incident_bank
):
    from retainer.accounts.models import Organization

    theirs = actions.check_open_case(
        contact=cast.customer_admin, product=desk.product, subject="Admin's case", description="x",
        channel="web", actor=cast.customer_admin.user,
    )  # fmt: skip
    mine = actions.check_open_case(
        contact=cast.contact, product=desk.product, subject="My case", description="x",
        channel="web", actor=cast.contact.user,
    )  # fmt: skip
    Organization.objects.filter(pk=cast.acme.pk).update(share_cases_with_colleagues=False)
    contact = cast.client_for(cast.contact)
    decisions = contact.get("/api/v1/decisions/").json()["results"]
    assert [d["case"] for d in decisions] == [mine.public_id]
    assert contact.get(f"/api/v1/decisions/?case={theirs.public_id}").json()["results"] == []
    ledger = contact.get(f"/api/v1/contracts/{incident_bank.pk}/ledger/").json()["results"]
    linked = {entry["case"] for entry in ledger}
    assert mine.public_id in linked
    assert theirs.public_id not in linked
    # The customer admin, and any contact once the organization shares, see both.
    admin = cast.client_for(cast.customer_admin)
    linked = {
        e["case"]
        for e in admin.get(f"/api/v1/contracts/{incident_bank.pk}/ledger/").json()["results"]
    }
    assert {mine.public_id, theirs.public_id} <= linked
