"""The pipeline: configurable stages, opportunities moving through them, the board and
the list, losing with a reason, and interactions on every timeline."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from retainer.success import actions
from retainer.success.models import Interaction, Opportunity, Stage, SuccessEvent
from retainer.success.tests.world import ensure_defaults


def _post(client: Any, url: str, body: dict | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def test_the_default_pipeline_is_seeded(db):
    ensure_defaults()  # a no-op unless a browser test flushed the migration's rows
    stages = list(Stage.objects.values_list("name", "probability", "kind"))
    assert stages == [
        ("Qualification", 10, "open"),
        ("Proposal", 40, "open"),
        ("Negotiation", 70, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]


def test_a_stage_probability_outside_0_to_100_is_refused(cast):
    client = cast.client_for(cast.manager)
    for probability in (101, -1):
        response = _post(
            client,
            "/api/v1/pipeline-stages/",
            {"name": "Pilot", "order": 25, "probability": probability},
        )
        assert response.status_code == 400
        assert "probability" in response.json()["errors"]
    assert not Stage.objects.filter(name="Pilot").exists()
    response = _post(
        client, "/api/v1/pipeline-stages/", {"name": "Pilot", "order": 25, "probability": 55}
    )
    assert response.status_code == 201
    stage = Stage.objects.get(name="Pilot")
    response = client.patch(
        f"/api/v1/pipeline-stages/{stage.pk}/",
        {"probability": 150},
        content_type="application/json",
    )
    assert response.status_code == 400
    stage.refresh_from_db()
    assert stage.probability == 55


def test_the_model_refuses_a_probability_above_100_whatever_the_door(cast):
    with pytest.raises(ValidationError) as refused:
        actions.do_save_stage(None, name="Odd", order=50, probability=120, actor=None)
    assert "probability" in refused.value.message_dict
    assert not Stage.objects.filter(name="Odd").exists()


def test_an_opportunity_moves_through_the_open_stages(cast, sales):
    client = cast.client_for(cast.manager)
    proposal = Stage.objects.get(name="Proposal")
    url = f"/api/v1/opportunities/{sales.opportunity.pk}/stage/"
    response = _post(client, url, {"stage": proposal.pk})
    assert (response.status_code, response.json()["probability"]) == (200, 40)
    moved = SuccessEvent.objects.get(opportunity=sales.opportunity, type="opportunity_moved")
    assert moved.data == {"old_stage": "Qualification", "new_stage": "Proposal", "probability": 40}


def test_moving_to_the_won_stage_is_refused_win_instead(cast, sales):
    won = Stage.objects.get(name="Won")
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{sales.opportunity.pk}/stage/",
        {"stage": won.pk},
    )
    assert (response.status_code, response.json()["code"]) == (400, "stage_not_in_pipeline")
    assert Opportunity.objects.get(pk=sales.opportunity.pk).stage.name == "Qualification"


def test_moving_a_won_opportunity_is_refused(cast, sales):
    proposal = Stage.objects.get(name="Proposal")
    response = _post(
        cast.client_for(cast.manager),
        f"/api/v1/opportunities/{sales.won.pk}/stage/",
        {"stage": proposal.pk},
    )
    assert (response.status_code, response.json()["code"]) == (409, "opportunity_closed")
    assert Opportunity.objects.get(pk=sales.won.pk).stage.name == "Won"


def test_agents_may_not_move_deals(cast, sales):
    proposal = Stage.objects.get(name="Proposal")
    client = cast.client_for(cast.agent)
    url = f"/api/v1/opportunities/{sales.opportunity.pk}/stage/"
    assert _post(client, url, {"stage": proposal.pk}).status_code == 403
    console = client.post(
        f"/console/success/opportunities/{sales.opportunity.pk}/stage/", {"stage": proposal.pk}
    )
    assert console.status_code == 403


def test_losing_needs_a_reason(cast, sales):
    client = cast.client_for(cast.manager)
    url = f"/api/v1/opportunities/{sales.opportunity.pk}/lose/"
    assert _post(client, url, {"reason": "  "}).status_code == 400
    response = _post(client, url, {"reason": "Went with a competitor"})
    assert (response.status_code, response.json()["stage_name"]) == (200, "Lost")


def test_a_tier_that_disagrees_with_the_plan_is_refused(cast, sales):
    response = _post(
        cast.client_for(cast.manager),
        "/api/v1/opportunities/",
        {"name": "Mixed", "organization": cast.acme.pk, "plan": sales.plan.pk, "tier": "basic"},
    )
    assert response.status_code == 400
    assert "tier" in response.json()["errors"]


def test_the_board_shows_each_stage_with_its_deals_and_moves_them(
    cast, sales, django_assert_max_num_queries
):
    client = cast.client_for(cast.manager)
    for n in range(5):
        actions.do_create_opportunity(organization=cast.acme, name=f"Deal {n}", actor=None)
    with django_assert_max_num_queries(12):
        page = client.get("/console/success/opportunities/board/")
    assert page.status_code == 200
    for text in (b"Qualification", b"Proposal", b"Negotiation", b"Won", b"Lost", b"Deal 4"):
        assert text in page.content
    proposal = Stage.objects.get(name="Proposal")
    response = client.post(
        f"/console/success/opportunities/{sales.opportunity.pk}/stage/",
        {"stage": proposal.pk, "from": "board"},
    )
    assert response["Location"] == "/console/success/opportunities/board/"
    assert Opportunity.objects.get(pk=sales.opportunity.pk).stage == proposal


def test_the_list_filters_by_stage_and_status(cast, sales):
    client = cast.client_for(cast.billing)
    page = client.get("/console/success/opportunities/?status=won")
    assert b"Acme renewal" in page.content
    assert b"Acme maintenance" not in page.content


def test_interactions_show_on_the_timelines_they_name(cast, sales):
    client = cast.client_for(cast.manager)
    response = _post(
        client,
        "/api/v1/interactions/",
        {"kind": "call", "summary": "Pricing call", "opportunity": sales.opportunity.pk,
         "contact": cast.contact.pk},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert (interaction.organization, interaction.author) == (cast.acme, cast.manager)
    client.post(
        f"/console/success/leads/{sales.lead.pk}/interactions/",
        {"kind": "email", "summary": "Sent the brochure"},
    )
    assert b"Sent the brochure" in client.get(f"/console/success/leads/{sales.lead.pk}/").content
    org_page = client.get(f"/console/success/organizations/{cast.acme.pk}/")
    assert b"Pricing call" in org_page.content
    by_contact = client.get(f"/api/v1/interactions/?contact={cast.contact.pk}").json()
    assert [i["summary"] for i in by_contact["results"]] == ["Pricing call"]


def test_an_interaction_about_nothing_is_refused(cast):
    response = _post(
        cast.client_for(cast.manager), "/api/v1/interactions/", {"kind": "note", "summary": "?"}
    )
    assert response.status_code == 400
    assert not Interaction.objects.exists()


def test_contacts_of_another_organization_do_not_mix(cast, sales):
    response = _post(
        cast.client_for(cast.manager),
        "/api/v1/interactions/",
        {"kind": "note", "summary": "Mixed", "opportunity": sales.opportunity.pk,
         "contact": cast.outsider.pk},
    )  # fmt: skip
    assert response.status_code == 400


def test_the_console_changes_an_open_deal_and_refuses_a_tier_beside_its_field(cast, sales):
    client = cast.client_for(cast.manager)
    url = f"/console/success/opportunities/{sales.opportunity.pk}/edit/"
    assert client.get(url).status_code == 200
    form = {"name": "Acme maintenance", "amount": "9500", "currency": "EUR",
            "plan": sales.plan.pk, "tier": "basic", "expected_outcomes": "One\nTwo"}  # fmt: skip
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert b"id_tier_error" in refused.content
    form["tier"] = ""
    assert client.post(url, form).status_code == 302
    sales.opportunity.refresh_from_db()
    assert (sales.opportunity.amount, sales.opportunity.expected_outcomes) == (9500, ["One", "Two"])
    assert cast.client_for(cast.agent).get(url).status_code == 403
