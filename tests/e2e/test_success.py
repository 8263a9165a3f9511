"""Sales to service in a real browser: a manager converts a lead, moves its opportunity
across the pipeline board, proposes the plan, wins the deal and lands on the customer-
success page with the contract and the onboarding plan; an agent is refused the win."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from retainer.contracts.models import Contract
from retainer.success.models import Opportunity, Stage
from retainer.success.tests.world import Sales, build_sales

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sales(cast) -> Sales:
    return build_sales(cast)


def _card(page: Any, name: str) -> Any:
    return page.locator("article.board-card").filter(has_text=name)


def test_a_manager_turns_a_lead_into_an_onboarded_customer(cast, sales, page, live_server, login):
    login("manager@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/success/leads/")
    page.get_by_role("link", name="Peter Gibbons").click()
    page.get_by_role("button", name="Convert the lead").click()
    expect(page.get_by_text("Converted: Initech")).to_be_visible()
    opportunity = Opportunity.objects.get(lead=sales.lead)

    page.goto(f"{live_server.url}/console/success/opportunities/board/")
    for stage in ("Proposal", "Negotiation"):
        card = _card(page, "Initech — support")
        card.get_by_label("Move Initech — support to").select_option(label=stage)
        card.get_by_role("button", name="Move").click()
        column = f'section[aria-labelledby="stage-{Stage.objects.get(name=stage).pk}"]'
        expect(page.locator(f"{column} article", has_text="Initech — support")).to_have_count(1)
    assert Opportunity.objects.get(pk=opportunity.pk).stage.name == "Negotiation"

    page.goto(f"{live_server.url}/console/success/opportunities/{opportunity.pk}/")
    page.get_by_role("link", name="Change the deal").click()
    page.get_by_label("Proposed support plan").select_option(label=str(sales.plan))
    page.get_by_label("Products").select_option(label=sales.product.name)
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Expected outcomes").fill("Month-end in one day\nAudit passes")
    page.get_by_role("button", name="Save the opportunity").click()
    expect(page.get_by_text("Opportunity saved.")).to_be_visible()

    page.get_by_label("Customer-success owner").select_option(label=str(cast.manager))
    page.get_by_label("Support team").select_option(label="Onboarding")
    page.get_by_role("button", name="Win the deal").click()

    page.wait_for_url(f"**/console/success/organizations/{opportunity.organization_id}/")
    expect(page.get_by_text("is handed over to customer success")).to_be_visible()
    expect(page.get_by_text("Month-end in one day")).to_be_visible()
    contract = Contract.objects.get(opportunities=opportunity)
    expect(page.get_by_role("link", name=contract.name)).to_be_visible()
    expect(page.get_by_text("0 of 4 steps done")).to_be_visible()
    page.get_by_role("button", name="Mark Kickoff done").click()
    expect(page.get_by_text("1 of 4 steps done")).to_be_visible()


def test_an_agent_sees_the_deal_but_not_the_win(cast, sales, page, live_server, login):
    login("agent@vendor.test", PASSWORD)
    page.goto(f"{live_server.url}/console/success/opportunities/{sales.opportunity.pk}/")
    expect(page.get_by_role("heading", name="Acme maintenance")).to_be_visible()
    expect(page.get_by_role("button", name="Win the deal")).to_have_count(0)
    # Even a hand-made form is refused, for want of the permission (not of a CSRF token).
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/console/success/opportunities/{sales.opportunity.pk}/win/",
        form={"success_owner": str(cast.manager.pk), "team": str(sales.team.pk)},
        headers={"X-CSRFToken": token, "Referer": live_server.url + "/"},
    )
    assert response.status == 403
    assert "CSRF" not in response.text()
    assert Opportunity.objects.get(pk=sales.opportunity.pk).status == "open"
