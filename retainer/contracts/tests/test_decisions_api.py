"""Recorded decisions through the API: found by their case's public id, and shown to
customers through an allow-list."""

from __future__ import annotations

import pytest

from retainer.cases import actions as case_actions
from retainer.cases.models import Case
from retainer.contracts import actions
from retainer.contracts.choices import Outcome, Preset
from retainer.contracts.serializers import CustomerDecisionOut, EntitlementDecisionOut

from .conftest import TODAY
from .helpers import post, url

STAFF_ONLY = {"considered", "facts", "override_reason", "overridden_by", "override_contract"}


@pytest.fixture
def case(cast, shop) -> Case:
    actions.do_create_contract(
        organization=cast.acme, preset=Preset.BANK, start_date=TODAY,
        covered_products=[shop.product], actor=cast.admin,
    )  # fmt: skip
    return case_actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=shop.product, subject="Posting fails",
        description="The nightly job stops.", channel="web",
    )  # fmt: skip


def _override(cast, case: Case, outcome: str = Outcome.NOT_ENTITLED, **contract) -> None:
    """Override on the case, the one door for a case's decision."""
    response = post(
        cast.client_for(cast.agent),
        "case_override",
        case.public_id,
        outcome=outcome,
        reason="Internal: reseller pays",
        **contract,
    )
    assert response.status_code == 200, response.json()


def test_a_cases_decision_is_not_overridden_behind_the_cases_back(cast, case) -> None:
    response = post(
        cast.client_for(cast.agent),
        "decision_override",
        case.decision_id,
        new_outcome=Outcome.NOT_ENTITLED,
        reason="x",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "decision_of_a_case"
    case.refresh_from_db()
    assert case.entitlement == Outcome.COVERED
    assert case.decision is not None and case.decision.override_outcome == ""


def test_the_staff_shape_holds_every_customer_field() -> None:
    assert set(CustomerDecisionOut.Meta.fields) <= set(EntitlementDecisionOut.Meta.fields)
    assert not STAFF_ONLY & set(CustomerDecisionOut.Meta.fields)


def test_a_customer_never_sees_a_staff_only_field_of_a_decision(cast, case) -> None:
    _override(cast, case)
    client = cast.client_for(cast.contact)
    listed = client.get(url("decision_list")).json()["results"]
    detail = client.get(url("decision_detail", case.decision_id)).json()
    for body in [*listed, detail]:
        assert not STAFF_ONLY & set(body), body
        assert set(body) == set(CustomerDecisionOut.Meta.fields)
        assert "reseller" not in str(body)
    assert detail["outcome"] == Outcome.NOT_ENTITLED  # the outcome in force


def test_staff_see_the_whole_decision(cast, case) -> None:
    _override(cast, case)
    body = cast.client_for(cast.agent).get(url("decision_detail", case.decision_id)).json()
    assert set(body) >= STAFF_ONLY
    assert body["override_reason"] == "Internal: reseller pays"


def test_a_decision_is_found_by_its_cases_public_id(cast, case, shop) -> None:
    for who in (cast.agent, cast.contact):
        found = cast.client_for(who).get(url("decision_list"), {"case": case.public_id}).json()
        assert [row["id"] for row in found["results"]] == [case.decision_id]
        assert found["results"][0]["case"] == case.public_id


def test_an_unknown_case_finds_no_decision(cast, case) -> None:
    found = cast.client_for(cast.agent).get(url("decision_list"), {"case": "nope"}).json()
    assert found["results"] == []


def test_the_contract_history_hides_an_overrides_reason_from_customers(cast, case) -> None:
    assert case.decision is not None
    contract_id = case.decision.contract_id
    _override(cast, case, Outcome.COVERED_BILLABLE, contract=contract_id)
    path = url("contract_events", contract_id)
    staff = cast.client_for(cast.agent).get(path, {"type": "decision_overridden"}).json()
    customer = cast.client_for(cast.contact).get(path, {"type": "decision_overridden"}).json()
    assert staff["results"][0]["data"]["reason"] == "Internal: reseller pays"
    assert customer["results"][0]["data"] == {}
