"""Winning an opportunity hands it to service in one transaction: the contract sold on
the proposed plan and priced by it, the expected outcomes, the success owner and team,
the onboarding plan from the template. Refusals write nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from retainer.contracts.models import Contract, ContractEvent
from retainer.lib.models import OutboxMessage
from retainer.success import actions
from retainer.success.choices import OpportunityStatus
from retainer.success.models import OnboardingPlan, OnboardingStep, Opportunity, SuccessEvent


def _post(client: Any, url: str, body: dict | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def _win_body(cast: Any, sales: Any) -> dict:
    return {"success_owner": cast.manager.pk, "team": sales.team.pk, "start_date": "2026-04-01"}


def _counts() -> tuple[int, ...]:
    return (
        Contract.objects.count(),
        OnboardingPlan.objects.count(),
        OnboardingStep.objects.count(),
        SuccessEvent.objects.count(),
        ContractEvent.objects.count(),
    )


def test_winning_sells_the_plan_assigns_the_owner_and_starts_onboarding(cast, sales):
    opp = sales.opportunity
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{opp.pk}/win/",
        _win_body(cast, sales),
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["stage_name"], body["probability"]) == ("won", "Won", 100)
    (contract,) = Contract.objects.filter(pk__in=body["contracts"])
    # Maintenance: 18 % of the product's 50,000 list price.
    assert (contract.price, contract.currency) == (Decimal(9000), "EUR")
    assert (contract.organization, contract.plan, contract.status) == (
        cast.acme,
        sales.plan,
        "active",
    )
    assert contract.start_date == dt.date(2026, 4, 1)
    assert ContractEvent.objects.filter(contract=contract, type="contract_created").exists()
    plan = OnboardingPlan.objects.get(pk=body["onboarding_plan"])
    assert (plan.success_owner, plan.team) == (cast.manager, sales.team)
    steps = list(plan.steps.values_list("title", "due_date"))
    assert [title for title, _ in steps] == ["Kickoff", "Installation", "Training", "Go-live"]
    assert steps[0][1] == dt.date(2026, 4, 8)
    won = SuccessEvent.objects.get(opportunity=opp, type="opportunity_won")
    assert won.data["expected_outcomes"] == ["Nightly postings never stop", "Audit passes"]
    assert won.data["contracts"] == [contract.pk]
    assert SuccessEvent.objects.filter(onboarding_plan=plan, type="onboarding_plan_created")
    assert OutboxMessage.objects.filter(topic="opportunity.won").exists()


def test_winning_without_a_proposed_plan_is_refused_and_writes_nothing(cast, sales):
    opp = actions.do_create_opportunity(organization=cast.acme, name="No plan", actor=None)
    before = _counts()
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{opp.pk}/win/",
        _win_body(cast, sales),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_proposed_plan"
    assert _counts() == before
    assert Opportunity.objects.get(pk=opp.pk).status == OpportunityStatus.OPEN


def test_winning_with_a_plan_in_another_currency_is_refused_and_writes_nothing(cast, sales):
    opp = actions.do_create_opportunity(
        organization=cast.acme, name="Dollars", currency="EUR", plan=sales.usd_plan, actor=None
    )
    before = _counts()
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{opp.pk}/win/",
        _win_body(cast, sales),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "currency_mismatch"
    assert _counts() == before


def test_a_contract_refusal_rolls_back_the_whole_handoff(cast, sales):
    """Globex is invoiced in USD: the contract action refuses the EUR plan, and nothing of
    the win (stage, status, onboarding) stays."""
    opp = actions.do_create_opportunity(
        organization=cast.globex, name="Globex", currency="EUR", plan=sales.plan, actor=None
    )
    before = _counts()
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{opp.pk}/win/",
        _win_body(cast, sales),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "currency_mismatch"
    assert _counts() == before
    opp.refresh_from_db()
    assert (opp.status, opp.stage.name, opp.success_owner) == ("open", "Qualification", None)


def test_agents_and_billing_are_refused_the_win(cast, sales):
    before = _counts()
    for user in (cast.agent, cast.billing):
        response = _post(
            cast.client_for(user),
            f"/api/v1/opportunities/{sales.opportunity.pk}/win/",
            _win_body(cast, sales),
        )
        assert response.status_code == 403
    assert _counts() == before


def test_a_won_opportunity_cannot_be_won_again_or_lost(cast, sales):
    client = cast.client_for(cast.manager)
    url = f"/api/v1/opportunities/{sales.won.pk}/"
    assert _post(client, url + "win/", _win_body(cast, sales)).status_code == 409
    response = _post(client, url + "lose/", {"reason": "Changed their mind"})
    assert (response.status_code, response.json()["code"]) == (409, "opportunity_closed")


def test_the_console_win_lands_on_the_customer_success_page(cast, sales):
    client = cast.client_for(cast.manager)
    opp = sales.opportunity
    response = client.post(
        f"/console/success/opportunities/{opp.pk}/win/",
        {"success_owner": cast.manager.pk, "team": sales.team.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/console/success/organizations/{cast.acme.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    for text in (b"Acme maintenance", b"Nightly postings never stop", b"Kickoff", b"Onboarding"):
        assert text in page.content
    assert b"9.000,00" in page.content or b"9,000.00" in page.content


def test_the_console_reports_a_win_without_a_plan(cast, sales):
    opp = actions.do_create_opportunity(organization=cast.acme, name="No plan", actor=None)
    client = cast.client_for(cast.manager)
    response = client.post(
        f"/console/success/opportunities/{opp.pk}/win/",
        {"success_owner": cast.manager.pk, "team": sales.team.pk},
        follow=True,
    )
    assert b"Propose a support plan" in response.content
    assert Opportunity.objects.get(pk=opp.pk).status == "open"


def test_an_agent_is_refused_the_console_win(cast, sales):
    response = cast.client_for(cast.agent).post(
        f"/console/success/opportunities/{sales.opportunity.pk}/win/",
        {"success_owner": cast.manager.pk, "team": sales.team.pk},
    )
    assert response.status_code == 403


def test_onboarding_steps_are_ticked_off_and_opened_again(cast, sales):
    step = sales.onboarding.steps.first()
    client = cast.client_for(cast.manager)
    response = _post(client, f"/api/v1/onboarding-steps/{step.pk}/done/", {"done": True})
    assert response.status_code == 200
    assert response.json()["done"] is True
    assert _post(client, f"/api/v1/onboarding-steps/{step.pk}/done/", {}).status_code == 400
    plan = client.get(f"/api/v1/onboarding-plans/{sales.onboarding.pk}/").json()
    assert [s["done"] for s in plan["steps"]] == [True, False, False, False]
    client.post(f"/console/success/onboarding-steps/{step.pk}/done/", {})
    step.refresh_from_db()
    assert step.done_at is None
    types = SuccessEvent.objects.filter(onboarding_plan=sales.onboarding).values_list(
        "type", flat=True
    )
    assert {"onboarding_step_done", "onboarding_step_undone"} <= set(types)
    assert (
        cast.client_for(cast.agent)
        .post(f"/console/success/onboarding-steps/{step.pk}/done/", {"done": "on"})
        .status_code
        == 403
    )


def test_the_customer_follows_the_onboarding_plan_in_the_portal(cast, sales):
    steps = list(sales.onboarding.steps.order_by("order"))
    page = cast.client_for(cast.contact).get("/portal/success-plan/").content.decode()
    assert "Onboarding" in page and f"0 of {len(steps)} steps done" in page
    assert all(step.title in page for step in steps)
    other = cast.client_for(cast.outsider).get("/portal/success-plan/").content.decode()
    assert steps[0].title not in other and "Onboarding" not in other
