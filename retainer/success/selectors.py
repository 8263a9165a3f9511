"""Reads shared by the console and the API: the pipeline board, timelines and the
customer-success view of an organization. They write nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from retainer.accounts.models import Organization
from retainer.success.choices import OpportunityStatus, StageKind
from retainer.success.models import (
    Interaction,
    Lead,
    OnboardingPlan,
    OnboardingStep,
    Opportunity,
    Stage,
)


def leads_for_list(*, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    return leads.select_related("owner", "organization")


def opportunities_for_list(*, opportunities: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    return opportunities.select_related("organization", "stage", "owner", "plan")


def open_stages() -> QuerySet[Stage]:
    return Stage.objects.filter(kind=StageKind.OPEN, is_active=True).order_by("order")


@dataclass
class Column:
    """One stage of the board: its cards, their total and the probability-weighted total,
    per currency (a pipeline may sell in several)."""

    stage: Stage
    cards: list[Opportunity] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)


def pipeline_board(*, opportunities: QuerySet[Opportunity], closed: int = 10) -> list[Column]:
    """The board: a column per open stage with its open deals, then the won and lost
    stages with the ``closed`` most recently closed deals each. Three queries."""
    stages = list(Stage.objects.filter(is_active=True).order_by("order"))
    columns = {stage.pk: Column(stage) for stage in stages}
    rows = opportunities_for_list(opportunities=opportunities)
    for opp in rows.filter(status=OpportunityStatus.OPEN).order_by("expected_close_date", "id"):
        if opp.stage_id in columns:
            columns[opp.stage_id].cards.append(opp)
    closed_rows = rows.exclude(status=OpportunityStatus.OPEN).order_by("-closed_at", "-id")
    for status in (OpportunityStatus.WON, OpportunityStatus.LOST):
        for opp in closed_rows.filter(status=status)[:closed]:
            if opp.stage_id in columns:
                columns[opp.stage_id].cards.append(opp)
    for column in columns.values():
        for card in column.cards:
            column.totals[card.currency] = column.totals.get(card.currency, 0) + card.amount
            share = card.amount * column.stage.probability / 100
            column.weighted[card.currency] = column.weighted.get(card.currency, 0) + share
    return list(columns.values())


def interactions_for(
    *, interactions: QuerySet[Interaction], limit: int = 100
) -> QuerySet[Interaction]:
    """A timeline, newest first, with who logged it and about whom."""
    return interactions.select_related("author", "contact", "lead", "opportunity").order_by(
        "-occurred_at", "-id"
    )[:limit]


def onboarding_plans_for(*, plans: QuerySet[OnboardingPlan]) -> QuerySet[OnboardingPlan]:
    steps = OnboardingStep.objects.select_related("done_by").order_by("order")
    return plans.select_related(
        "success_owner", "team", "template", "organization"
    ).prefetch_related(Prefetch("steps", queryset=steps))


@dataclass
class Handoff:
    """Everything sales knew about an organization, for the service team."""

    organization: Organization
    won: list[Opportunity]
    open: list[Opportunity]
    plans: list[OnboardingPlan]
    leads: list[Lead]
    interactions: list[Interaction]


def handoff_for_organization(*, organization: Organization) -> Handoff:
    """The customer-success view of one organization, in a fixed number of queries."""
    opportunities = list(
        opportunities_for_list(opportunities=organization.opportunities.all())
        .prefetch_related("products", "contracts")
        .order_by("-closed_at", "-id")
    )
    plans = onboarding_plans_for(plans=OnboardingPlan.objects.filter(organization=organization))
    return Handoff(
        organization=organization,
        won=[o for o in opportunities if o.status == OpportunityStatus.WON],
        open=[o for o in opportunities if o.status == OpportunityStatus.OPEN],
        plans=list(plans),
        leads=list(organization.leads.select_related("owner")),
        interactions=list(
            interactions_for(interactions=Interaction.objects.filter(organization=organization))
        ),
    )


def progress(plan: OnboardingPlan) -> tuple[int, int]:
    """Done and total steps of a plan whose steps are prefetched."""
    steps = list(plan.steps.all())
    return sum(1 for s in steps if s.is_done), len(steps)
