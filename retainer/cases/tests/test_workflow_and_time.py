"""Transitions with their ledger effects, conversation, time entries, defects and CSAT."""

import datetime as dt

import pytest
from django.utils import timezone

from retainer.cases import actions
from retainer.cases.models import Case, CaseEvent, TimeEntry
from retainer.cases.tests.conftest import make_contract, open_case, post
from retainer.contracts.choices import DecrementPoint, Preset
from retainer.contracts.models import LedgerEntry
from retainer.contracts.selectors import ledger_sum


def opened(cast, desk, who=None) -> Case:
    body = open_case(cast.client_for(who or cast.contact), desk).json()
    return Case.objects.get(public_id=body["id"])


def test_cancelling_credits_a_creation_mode_incident_back(cast, desk, incident_bank):
    case = opened(cast, desk)
    response = post(
        cast.client_for(cast.agent),
        f"/api/v1/cases/{case.public_id}/transition/",
        status="cancelled",
    )
    assert response.status_code == 200, response.json()
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 10 == ledger_sum(contract=incident_bank)
    assert CaseEvent.objects.filter(case=case, type="incident_credited").exists()


def test_resolution_mode_consumes_on_resolve_and_credits_on_reopen(cast, desk):
    contract = make_contract(
        cast, desk, Preset.BANK, decrement_point=DecrementPoint.CASE_RESOLUTION
    )
    case = opened(cast, desk)
    contract.refresh_from_db()
    assert contract.balance == 10
    agent = cast.client_for(cast.agent)
    url = f"/api/v1/cases/{case.public_id}/transition/"
    assert post(agent, url, status="resolved", root_cause="configuration").status_code == 200
    contract.refresh_from_db()
    assert contract.balance == 9
    assert post(cast.client_for(cast.contact), url, status="open").status_code == 200
    contract.refresh_from_db()
    assert contract.balance == 10
    assert post(agent, url, status="resolved", root_cause="configuration").status_code == 200
    contract.refresh_from_db()
    assert contract.balance == 9 == ledger_sum(contract=contract)


def test_resolving_needs_a_root_cause(cast, desk, incident_bank):
    case = opened(cast, desk)
    response = post(
        cast.client_for(cast.agent),
        f"/api/v1/cases/{case.public_id}/transition/",
        status="resolved",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "root_cause_required"
    case.refresh_from_db()
    assert case.status == "new"


def test_a_transition_not_allowed_from_the_current_state_is_refused(cast, desk, incident_bank):
    case = opened(cast, desk)
    client = cast.client_for(cast.agent)
    url = f"/api/v1/cases/{case.public_id}/transition/"
    assert post(client, url, status="cancelled").status_code == 200
    response = post(client, url, status="open")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert post(client, url, status="flying").status_code == 400


def test_customers_cannot_resolve_but_can_close_and_reopen(cast, desk, incident_bank):
    case = opened(cast, desk)
    customer = cast.client_for(cast.contact)
    url = f"/api/v1/cases/{case.public_id}/transition/"
    assert post(customer, url, status="resolved", root_cause="defect").status_code == 409
    post(cast.client_for(cast.agent), url, status="resolved", root_cause="defect")
    assert post(customer, url, status="closed").status_code == 200


def test_reopening_after_the_window_is_refused(cast, desk, incident_bank):
    case = opened(cast, desk)
    actions.do_transition_case(case, "resolved", root_cause="how_to", actor=cast.agent)
    Case.objects.filter(pk=case.pk).update(resolved_at=timezone.now() - dt.timedelta(days=30))
    response = post(
        cast.client_for(cast.contact), f"/api/v1/cases/{case.public_id}/transition/", status="open"
    )
    assert response.json()["code"] == "reopen_window_passed"


def test_closing_is_never_blocked_by_the_balance(cast, desk, incident_bank):
    cases = [opened(cast, desk) for _ in range(11)]
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 0
    assert cases[-1].entitlement == "not_entitled"
    for case in cases:
        actions.do_transition_case(case, "resolved", root_cause="how_to", actor=cast.agent)
        actions.do_transition_case(case, "closed", actor=cast.agent)
    assert Case.objects.filter(status="closed").count() == 11


def test_a_billable_entry_beyond_the_bank_splits_and_an_edit_restores_the_balance_exactly(
    cast, desk, hour_bank
):
    case = opened(cast, desk)
    agent = cast.client_for(cast.agent)
    response = post(
        agent, f"/api/v1/cases/{case.public_id}/time-entries/", minutes=90, billable=True
    )
    entry = response.json()
    assert response.status_code == 201, entry
    assert (entry["covered_minutes"], entry["overage_minutes"]) == (60, 30)
    hour_bank.refresh_from_db()
    assert hour_bank.balance == 0
    response = agent.patch(
        f"/api/v1/cases/{case.public_id}/time-entries/{entry['id']}/",
        {"minutes": 30},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["covered_minutes"], response.json()["overage_minutes"]) == (30, 0)
    hour_bank.refresh_from_db()
    assert hour_bank.balance == 30 == ledger_sum(contract=hour_bank)
    kinds = list(
        LedgerEntry.objects.filter(contract=hour_bank)
        .order_by("id")
        .values_list("kind", "quantity")
    )
    assert kinds == [("grant", 60), ("consume", -60), ("reverse", 60), ("consume", -30)]


def test_deleting_an_entry_reverses_it_and_keeps_the_row(cast, desk, hour_bank):
    case = opened(cast, desk)
    entry = actions.do_log_time(case, agent=cast.agent, minutes=45, actor=cast.agent)
    response = cast.client_for(cast.agent).delete(
        f"/api/v1/cases/{case.public_id}/time-entries/{entry.pk}/"
    )
    assert response.status_code == 204
    hour_bank.refresh_from_db()
    assert hour_bank.balance == 60
    assert TimeEntry.objects.get(pk=entry.pk).is_deleted


def test_non_billable_time_is_kept_and_consumes_nothing(cast, desk, hour_bank):
    case = opened(cast, desk)
    entry = actions.do_log_time(
        case, agent=cast.agent, minutes=20, billable=False, actor=cast.agent
    )
    hour_bank.refresh_from_db()
    assert hour_bank.balance == 60
    assert entry.covered_minutes == entry.overage_minutes == 0


@pytest.mark.parametrize("minutes", [0, -5, 2000])
def test_a_zero_negative_or_absurd_duration_is_refused(cast, desk, hour_bank, minutes):
    case = opened(cast, desk)
    response = post(
        cast.client_for(cast.agent),
        f"/api/v1/cases/{case.public_id}/time-entries/",
        minutes=minutes,
    )
    assert response.status_code == 400
    assert "minutes" in response.json()["errors"]
    assert TimeEntry.objects.count() == 0


def test_customers_never_see_time_entries_or_internal_notes(cast, desk, hour_bank):
    case = opened(cast, desk)
    actions.do_log_time(case, agent=cast.agent, minutes=30, actor=cast.agent)
    actions.do_add_message(
        case, author=cast.agent, body="Secret: customer is difficult", internal=True
    )
    actions.do_add_message(case, author=cast.agent, body="We are looking into it.")
    customer = cast.client_for(cast.contact)
    assert customer.get(f"/api/v1/cases/{case.public_id}/time-entries/").status_code == 404
    messages = customer.get(f"/api/v1/cases/{case.public_id}/messages/").json()
    assert [m["body"] for m in messages] == ["We are looking into it."]
    detail = customer.get(f"/api/v1/cases/{case.public_id}/").json()
    assert "Secret" not in str(detail)
    hidden = {"incident_consumed", "overage", "assignee", "contract", "priority", "organization"}
    assert not hidden & set(detail)
    assert not {"considered", "computed_outcome", "override_reason"} & set(detail["decision"])


def test_the_first_public_reply_opens_the_case_and_a_customer_reply_hands_it_back(
    cast, desk, incident_bank
):
    case = opened(cast, desk)
    actions.do_add_message(case, author=cast.agent, body="Which version?")
    case.refresh_from_db()
    assert case.status == "open" and case.first_response_at is not None
    actions.do_transition_case(case, "waiting_on_customer", actor=cast.agent)
    post(cast.client_for(cast.contact), f"/api/v1/cases/{case.public_id}/messages/", body="5.0")
    case.refresh_from_db()
    assert case.status == "open"


def test_a_customer_cannot_write_an_internal_note(cast, desk, incident_bank):
    case = opened(cast, desk)
    response = post(
        cast.client_for(cast.contact),
        f"/api/v1/cases/{case.public_id}/messages/",
        body="x",
        internal=True,
    )
    assert response.status_code == 400


def test_setting_a_fix_release_flags_every_linked_open_case_and_lists_the_contacts(
    cast, desk, incident_bank
):
    first, second = opened(cast, desk), opened(cast, desk, who=cast.customer_admin)
    agent = cast.client_for(cast.agent)
    defect = post(agent, "/api/v1/defects/", product=desk.product.pk, title="Posting crash").json()
    for case in (first, second):
        assert (
            post(agent, f"/api/v1/cases/{case.public_id}/defect/", defect=defect["id"]).status_code
            == 200
        )
    response = post(agent, f"/api/v1/defects/{defect['id']}/fix-release/", release=desk.current.pk)
    assert response.status_code == 200
    assert {c["email"] for c in response.json()["notify"]} == {"carl@acme.test", "ada@acme.test"}
    assert CaseEvent.objects.filter(type="fix_available").count() == 2


def test_a_defect_of_another_product_cannot_be_linked(cast, desk, incident_bank):
    case = opened(cast, desk)
    defect = actions.do_create_defect(product=desk.other, title="Elsewhere", actor=cast.agent)
    response = post(
        cast.client_for(cast.agent), f"/api/v1/cases/{case.public_id}/defect/", defect=defect.pk
    )
    assert response.status_code == 400


def test_csat_is_answered_once_through_the_signed_link(cast, desk, incident_bank, client):
    case = opened(cast, desk)
    token = actions.csat_token(case)
    assert (
        post(client, f"/api/v1/csat/{token}/", rating="good").json()["code"] == "case_not_resolved"
    )
    actions.do_transition_case(case, "resolved", root_cause="documentation", actor=cast.agent)
    assert (
        post(client, f"/api/v1/csat/{token}/", rating="good", comment="Quick!").status_code == 201
    )
    assert post(client, f"/api/v1/csat/{token}/", rating="bad").json()["code"] == "survey_answered"
    assert (
        post(client, f"/api/v1/csat/{token[:-2]}xx/", rating="bad").json()["code"]
        == "invalid_survey_link"
    )


def test_an_override_moves_the_incident_to_the_chosen_contract(cast, desk, incident_bank):
    case = opened(cast, desk, who=cast.unauthorized)
    assert case.entitlement == "not_entitled"
    response = post(
        cast.client_for(cast.agent),
        f"/api/v1/cases/{case.public_id}/override-decision/",
        outcome="covered",
        contract=incident_bank.pk,
        reason="Named contact on holiday; approved by the account owner.",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["entitlement"] == "covered"
    incident_bank.refresh_from_db()
    assert incident_bank.balance == 9
    assert CaseEvent.objects.filter(case=case, type="decision_overridden").exists()
