"""What the cases API answers about one case's coverage: an out-of-scope case carries the
priced service it is offered, in the decision preview's shape."""

from __future__ import annotations

from retainer.cases.tests.conftest import open_case, post


def test_an_out_of_scope_case_answer_carries_the_offered_service_and_its_price(
    cast, desk, incident_bank
):
    customer = cast.client_for(cast.contact)
    created = open_case(customer, desk, release=desk.old.pk)
    assert created.status_code == 201
    offering = created.json()["decision"]["offering"]
    assert offering["name"] == "Backport" and offering["price"] == "2400.0000"
    detail = customer.get(f"/api/v1/cases/{created.json()['id']}/").json()
    assert detail["decision"]["offering"] == offering
    staff = cast.client_for(cast.agent).get(f"/api/v1/cases/{created.json()['id']}/").json()
    assert staff["decision"]["offering"] == offering
    preview = post(
        cast.client_for(cast.agent),
        "/api/v1/decisions/preview/",
        contact=cast.contact.pk, product=desk.product.pk, channel="api", release=desk.old.pk,
    ).json()  # fmt: skip
    assert preview["offering"] == offering


def test_a_covered_case_answer_offers_nothing(cast, desk, incident_bank):
    created = open_case(cast.client_for(cast.contact), desk)
    assert created.json()["decision"]["offering"] is None
