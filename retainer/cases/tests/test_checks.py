"""One rule per case operation: every door (console, portal, API) asks the same check,
and a permission refusal is a 403 on each of them, never a form or validation error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from retainer.accounts import actions as account_actions
from retainer.cases import actions
from retainer.cases.choices import CaseStatus, Priority
from retainer.cases.models import Case, CaseEvent, CaseMessage, TimeEntry
from retainer.contracts.choices import Outcome
from retainer.lib.errors import InvalidInput, NotPermitted


def opened(cast, desk) -> Case:
    return actions.check_open_case(
        cast.contact.user, contact=cast.contact, product=desk.product, subject="Posting fails",
        description="Error 42.", channel="web",
    )  # fmt: skip


@pytest.fixture
def no_role(cast):
    """Vendor staff without any role: signs in, may do nothing."""
    return account_actions.do_create_staff_user(
        email="nobody@vendor.test", full_name="No Role", roles=[], actor=cast.admin
    )


def api(client, name: str, case: Case, **data):
    url = reverse(f"api:{name}", args=[case.public_id])
    return client.post(url, data, content_type="application/json")


def console(client, path: str, case: Case, **data):
    return client.post(f"/console/cases/{case.public_id}/{path}/", data)


# --- Logging time: cases.add_timeentry on every door ------------------------------------------


def test_billing_may_not_log_time_on_any_door(cast, desk, hour_bank):
    case = opened(cast, desk)
    client = cast.client_for(cast.billing)
    assert not cast.billing.has_perm("cases.add_timeentry")
    assert api(client, "case_time_entries", case, minutes=10).status_code == 403
    assert console(client, "time", case, minutes=10, billable="on").status_code == 403
    assert console(client, "timer/start", case).status_code == 403
    assert not TimeEntry.objects.exists()


def test_the_console_logs_time_with_the_apis_permission(cast, desk, hour_bank):
    case = opened(cast, desk)
    response = console(cast.client_for(cast.agent), "time", case, minutes=10, billable="on")
    assert response.status_code == 302
    assert TimeEntry.objects.get().minutes == 10


def test_the_check_refuses_a_duration_outside_a_day(cast, desk, hour_bank):
    case = opened(cast, desk)
    for minutes in (0, 24 * 60 + 1):
        with pytest.raises(InvalidInput) as refused:
            actions.check_log_time(cast.agent, case, minutes=minutes)
        assert refused.value.field == "minutes"
    assert not TimeEntry.objects.exists()


# --- Overriding a decision: a permission failure is a 403 -------------------------------------


def test_overriding_without_the_permission_is_a_403_on_every_door(
    cast, desk, incident_bank, no_role
):
    case = opened(cast, desk)
    client = cast.client_for(no_role)
    data = {"outcome": Outcome.NOT_ENTITLED, "reason": "No"}
    assert api(client, "case_override", case, **data).status_code == 403
    assert console(client, "override", case, **data).status_code == 403
    case.refresh_from_db()
    assert case.entitlement == Outcome.COVERED
    assert not CaseEvent.objects.filter(case=case, type="decision_overridden").exists()


def test_billing_overrides_a_decision_through_the_console(cast, desk, incident_bank):
    """Billing holds the override permission but not cases.change_case: overriding is
    not changing the case."""
    case = opened(cast, desk)
    response = console(
        cast.client_for(cast.billing), "override", case, outcome=Outcome.NOT_ENTITLED,
        reason="Wrong contract",
    )  # fmt: skip
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.entitlement == Outcome.NOT_ENTITLED


# --- Changing fields, replying, moving ---------------------------------------------------------


def test_a_customer_may_not_change_agent_fields(cast, desk, incident_bank):
    case = opened(cast, desk)
    response = cast.client_for(cast.contact).patch(
        reverse("api:case_detail", args=[case.public_id]),
        {"priority": Priority.URGENT},
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "staff_only"
    with pytest.raises(NotPermitted):
        actions.check_update_case(cast.contact.user, case, priority=Priority.URGENT)
    case.refresh_from_db()
    assert case.priority == Priority.NORMAL


def test_staff_without_a_role_may_not_reply_on_any_door(cast, desk, incident_bank, no_role):
    case = opened(cast, desk)
    client = cast.client_for(no_role)
    assert console(client, "replies", case, body="hi").status_code == 403
    assert api(client, "case_messages", case, body="hi").status_code in (403, 404)
    assert not CaseMessage.objects.exists()


def test_a_customer_internal_note_is_refused_alike_by_the_check_and_the_api(
    cast, desk, incident_bank
):
    case = opened(cast, desk)
    with pytest.raises(InvalidInput) as refused:
        actions.check_reply(cast.contact.user, case, body="x", internal=True)
    response = api(cast.client_for(cast.contact), "case_messages", case, body="x", internal=True)
    assert response.status_code == 400
    assert response.json()["code"] == refused.value.code == "field_not_allowed"
    assert not CaseMessage.objects.exists()


def test_the_same_refused_move_reads_the_same_on_the_portal_and_the_api(cast, desk, incident_bank):
    case = opened(cast, desk)
    client = cast.client_for(cast.contact)
    response = api(client, "case_transition", case, status=CaseStatus.RESOLVED)
    assert response.status_code == 409
    page = client.post(
        reverse("portal:case_transition", args=[case.public_id]),
        {"status": CaseStatus.RESOLVED},
        follow=True,
    )
    assert response.json()["detail"] in page.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_resolving_without_a_root_cause_is_bad_input(cast, desk, incident_bank):
    case = opened(cast, desk)
    with pytest.raises(InvalidInput) as refused:
        actions.check_transition_case(cast.agent, case, status=CaseStatus.RESOLVED)
    assert (refused.value.code, refused.value.field) == ("root_cause_required", "root_cause")


# --- The survey and opening a case ---------------------------------------------------------------


def test_staff_never_answer_the_survey(cast, desk, incident_bank):
    case = opened(cast, desk)
    with pytest.raises(NotPermitted):
        actions.check_answer_csat(cast.agent, case, rating="good")
    response = api(cast.client_for(cast.agent), "case_csat", case, rating="good")
    assert response.status_code == 403 and response.json()["code"] == "customers_only"


def test_a_customer_opens_cases_only_as_themselves(cast, desk, incident_bank):
    with pytest.raises(NotPermitted):
        actions.check_open_case(
            cast.contact.user, contact=cast.customer_admin, product=desk.product,
            subject="x", description="y", channel="web",
        )  # fmt: skip
    assert not Case.objects.exists()


def test_staff_without_add_case_may_not_open_a_case(cast, desk, no_role):
    with pytest.raises(NotPermitted):
        actions.check_open_case(
            no_role, contact=cast.contact, product=desk.product, subject="x", description="y",
            channel="phone",
        )  # fmt: skip
    response = cast.client_for(no_role).post(
        reverse("api:case_list"),
        {
            "contact": cast.contact.pk,
            "product": desk.product.pk,
            "subject": "x",
            "description": "y",
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_agents_hold_every_case_permission_the_checks_name(cast):
    from retainer.cases.actions import checks

    for perms in (checks.OPEN_CASE, checks.REPLY, checks.LOG_TIME, checks.CHANGE_TIME):
        assert cast.agent.has_perms(perms)
