"""Intake through the API: the decision is taken, recorded and consumed exactly once."""

from typing import Any

from retainer.cases.models import Case, CaseEvent
from retainer.cases.tests.conftest import open_case, post
from retainer.contracts.models import EntitlementDecision, LedgerEntry


def test_an_authorized_contact_consumes_one_incident_and_sees_the_decision(
    cast, desk, incident_bank
):
    response = open_case(cast.client_for(cast.contact), desk)
    body = response.json()
    assert response.status_code == 201, body
    assert body["entitlement"] == "covered"
    assert body["decision"]["sentence"]
    assert body["reference"].startswith("RT-")
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 9
    case = Case.objects.get(public_id=body["id"])
    assert case.incident_consumed and case.contract == incident_bank
    assert LedgerEntry.objects.filter(contract=incident_bank, kind="consume").count() == 1


def test_replaying_the_request_with_its_key_creates_nothing_new(cast, desk, incident_bank):
    client = cast.client_for(cast.contact)
    first = open_case(client, desk, key="intake-1")
    second = open_case(client, desk, key="intake-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 9


def test_the_same_key_with_another_body_is_a_conflict(cast, desk, incident_bank):
    client = cast.client_for(cast.contact)
    open_case(client, desk, key="intake-2")
    response = open_case(client, desk, key="intake-2", subject="Something else")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_an_unauthorized_contact_is_stored_as_not_entitled_with_the_reason_and_nothing_consumed(
    cast, desk, incident_bank
):
    response = open_case(cast.client_for(cast.unauthorized), desk)
    body = response.json()
    assert response.status_code == 201
    assert body["entitlement"] == "not_entitled"
    assert body["decision"]["reason"]
    assert (
        "named" in body["decision"]["sentence"].lower()
        or "authorized" in body["decision"]["sentence"].lower()
    )
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 10
    assert Case.objects.get().incident_consumed is False


def test_a_case_on_an_old_release_is_out_of_scope_and_consumes_nothing(cast, desk, incident_bank):
    body = open_case(cast.client_for(cast.contact), desk, release=desk.old.pk).json()
    assert body["entitlement"] == "out_of_scope"
    assert body["decision"]["offering_kind"] == "backport"
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 10


def test_a_case_without_any_contract_is_still_stored_and_answered(cast, desk):
    body = open_case(cast.client_for(cast.contact), desk).json()
    assert body["entitlement"] == "not_entitled"
    assert Case.objects.filter(public_id=body["id"]).exists()
    assert EntitlementDecision.objects.get().source_id == str(Case.objects.get().pk)


def test_staff_log_a_phone_case_for_a_contact(cast, desk, incident_bank):
    response = post(
        cast.client_for(cast.agent),
        "/api/v1/cases/",
        contact=cast.contact.pk,
        product=desk.product.pk,
        subject="Called in",
        description="Phone call",
        channel="phone",
        priority="high",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == "phone"
    assert response.json()["priority"] == "high"


def test_a_customer_may_not_set_agent_only_fields(cast, desk, incident_bank):
    for field, value in [("priority", "urgent"), ("assignee", cast.agent.pk), ("contract", incident_bank.pk),
                         ("contact", cast.outsider.pk), ("billable", True), ("internal", True)]:  # fmt: skip
        response = open_case(cast.client_for(cast.contact), desk, **{field: value})
        assert response.status_code == 400, field
        assert response.json()["code"] == "field_not_allowed"
    assert Case.objects.count() == 0
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 10


def test_bad_intake_is_refused_and_nothing_is_half_written(cast, desk, incident_bank):
    client = cast.client_for(cast.contact)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"product": 999999}, "product"),
        ({"release": 999999}, "release"),
        ({"subject": ""}, "subject"),
        ({"severity": 7}, "severity"),
    ]
    for payload, field in cases:
        response = open_case(client, desk, **payload)
        assert response.status_code == 400, payload
        assert field in response.json()["errors"], response.json()
    ledgerline_release = desk.releases[0]
    response = open_case(client, desk, product=desk.other.pk, release=ledgerline_release.pk)
    assert response.status_code == 400
    assert "belongs to another product" in response.json()["detail"]
    assert Case.objects.count() == 0
    assert EntitlementDecision.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 10


def test_a_decision_made_stale_by_a_concurrent_intake_is_taken_again_and_recorded_as_applied(
    cast, desk, incident_bank
):
    """Two requests decide while one incident is left; the second to write finds it gone,
    decides again inside its transaction, and records that decision (not entitled)."""
    from retainer.cases import actions
    from retainer.contracts import actions as contract_actions

    for n in range(9):
        contract_actions.do_consume(
            incident_bank, quantity=1, key=f"earlier-{n}", source_type="admin", actor=cast.admin
        )
    fields = {
        "contact": cast.contact,
        "product": desk.product,
        "subject": "Race",
        "description": "x",
        "channel": "web",
    }
    first = actions.plan_intake(**fields, actor=cast.contact.user)
    second = actions.plan_intake(**fields, actor=cast.contact.user)
    assert first.decision.outcome == second.decision.outcome == "covered"
    winner = actions.do_open_case(first, actor=cast.contact.user)
    loser = actions.do_open_case(second, actor=cast.contact.user)
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 0
    assert (winner.entitlement, winner.incident_consumed) == ("covered", True)
    assert (loser.entitlement, loser.incident_consumed) == ("not_entitled", False)
    assert loser.decision is not None and loser.decision.outcome == "not_entitled"
    assert not CaseEvent.objects.filter(case=loser, type="consumption_refused").exists()
