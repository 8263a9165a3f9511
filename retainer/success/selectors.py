"""Reads shared by the console and the API: the pipeline board, timelines and the
customer-success view of an organization. They write nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from retainer.accounts.models import Organization
from retainer.success.adoption import Adoption, Figures, adoption
from retainer.success.choices import OpportunityStatus, StageKind
from retainer.success.models import (
    Interaction,
    Lead,
    License,
    LicenseUsage,
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


# --- Licenses and adoption --------------------------------------------------------------------


@dataclass
class LicenseRow:
    """A license, its latest reported month (``None``: nothing reported) and its own
    adoption; ``flagged`` is its organization's flag."""

    license: License
    latest: LicenseUsage | None
    adoption: Adoption
    flagged: bool = False


@dataclass
class AdoptionSummary:
    """Adoption per organization and per product (by name) and overall, seat-weighted."""

    rows: list[LicenseRow]
    by_organization: list[tuple[Organization, Adoption]]
    by_product: list[tuple[str, Adoption]]
    overall: Adoption


def _figures(license: License, latest: LicenseUsage | None) -> Figures:
    if latest is None:
        return Figures(seats=license.seats)
    return Figures(
        seats=license.seats,
        seats_in_use=latest.seats_in_use,
        basic_users=latest.basic_users,
        advanced_users=latest.advanced_users,
    )


def license_adoption(*, licenses: QuerySet[License], threshold: int) -> AdoptionSummary:
    """Every license of ``licenses`` with its latest usage, flagged organizations' rows
    first, and the sums per organization, product and overall. Three queries."""
    latest_first = LicenseUsage.objects.order_by("-period")
    loaded = licenses.select_related("organization", "product").prefetch_related(
        Prefetch("usages", queryset=latest_first, to_attr="latest_usages")
    )
    figures: list[tuple[License, LicenseUsage | None, Figures]] = []
    for item in loaded:
        latest = item.latest_usages[0] if item.latest_usages else None
        figures.append((item, latest, _figures(item, latest)))
    by_org: dict[int, list[Figures]] = {}
    by_product: dict[str, list[Figures]] = {}
    organizations: dict[int, Organization] = {}
    for license, _latest, figure in figures:
        by_org.setdefault(license.organization_id, []).append(figure)
        by_product.setdefault(license.product.name, []).append(figure)
        organizations[license.organization_id] = license.organization
    org_adoption = {pk: adoption(f, threshold=threshold) for pk, f in by_org.items()}
    rows = [
        LicenseRow(
            license=license,
            latest=latest,
            adoption=adoption([figure], threshold=threshold),
            flagged=org_adoption[license.organization_id].flagged,
        )
        for license, latest, figure in figures
    ]
    rows.sort(key=lambda row: not row.flagged)  # stable: flagged first, then as listed
    return AdoptionSummary(
        rows=rows,
        by_organization=sorted(
            ((organizations[pk], a) for pk, a in org_adoption.items()),
            key=lambda pair: (not pair[1].flagged, pair[0].name),
        ),
        by_product=sorted(
            ((name, adoption(f, threshold=threshold)) for name, f in by_product.items()),
            key=lambda pair: pair[0],
        ),
        overall=adoption((f for _l, _u, f in figures), threshold=threshold),
    )
