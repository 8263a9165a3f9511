"""Reads shared by the console and the API: the pipeline board, timelines and the
customer-success view of an organization. They write nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts.models import Contact, Organization
from retainer.cases.choices import CsatRating
from retainer.cases.models import Case, CsatResponse
from retainer.contracts.choices import AuthorizationPolicy, ContractStatus
from retainer.contracts.models import Contract, TrainingRecord
from retainer.contracts.selectors import candidate_contracts
from retainer.success.adoption import Adoption, Figures, adoption
from retainer.success.choices import (
    SEATED_STATUSES,
    EnrollmentStatus,
    OpportunityStatus,
    StageKind,
)
from retainer.success.health import Health, HealthInputs, health
from retainer.success.models import (
    Course,
    Enrollment,
    Interaction,
    Lead,
    License,
    LicenseUsage,
    Milestone,
    OnboardingPlan,
    OnboardingStep,
    Opportunity,
    PerceptionSurvey,
    Stage,
    SuccessGoal,
    SuccessPlan,
    TrainingSession,
)
from retainer.success.realization import (
    PerceptionSplit,
    Realization,
    Step,
    perception,
    realization,
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


def onboarding_with_progress(
    *, organization: Organization
) -> list[tuple[OnboardingPlan, int, int]]:
    """The organization's onboarding plans, newest first, each with its done and total
    steps (two queries)."""
    plans = onboarding_plans_for(plans=OnboardingPlan.objects.filter(organization=organization))
    return [(plan, *progress(plan)) for plan in plans]


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


# --- Success plans, perception and health -------------------------------------------------------


@dataclass
class GoalView:
    goal: SuccessGoal
    milestones: list[Milestone]
    realization: Realization
    #: The console's form adding a milestone to this goal (set by the page, not here).
    form: Any = None


@dataclass
class PlanView:
    """A plan (``None``: not started) with its goals and milestones, each goal's
    realization and the plan's."""

    plan: SuccessPlan | None
    goals: list[GoalView]
    realization: Realization


def _milestones() -> Prefetch:
    return Prefetch("milestones", queryset=Milestone.objects.select_related("owner"))


_MILESTONES = _milestones()


def plans_for_list(*, plans: QuerySet[SuccessPlan]) -> QuerySet[SuccessPlan]:
    """Plans with their owner, goals and milestones: three queries for any number."""
    goals = SuccessGoal.objects.prefetch_related(_milestones())
    return plans.select_related("owner").prefetch_related(Prefetch("goals", queryset=goals))


def plan_view(*, plan: SuccessPlan | None) -> PlanView:
    """The plan's goals and milestones (with owners) and realizations: two queries, none
    when the plan comes from ``plans_for_list``."""
    if plan is None:
        return PlanView(plan=None, goals=[], realization=realization([]))
    prefetched = getattr(plan, "_prefetched_objects_cache", {})
    goals = plan.goals.all() if "goals" in prefetched else plan.goals.prefetch_related(_MILESTONES)
    views = []
    everything: list[Step] = []
    for goal in goals:
        items = list(goal.milestones.all())
        steps = [Step(weight=m.weight, done=m.is_done) for m in items]
        everything.extend(steps)
        views.append(GoalView(goal=goal, milestones=items, realization=realization(steps)))
    return PlanView(plan=plan, goals=views, realization=realization(everything))


def plan_of(organization: Organization) -> SuccessPlan | None:
    return SuccessPlan.objects.select_related("owner").filter(organization=organization).first()


def perception_for(*, surveys: QuerySet[PerceptionSurvey]) -> PerceptionSplit:
    """The split of the answered surveys among ``surveys``. One query."""
    return perception(surveys.exclude(answer="").values_list("answer", flat=True))


def _realizations(org_ids: list[int]) -> dict[int, Decimal | None]:
    steps: dict[int, list[Step]] = {}
    rows = Milestone.objects.filter(goal__plan__organization_id__in=org_ids).values_list(
        "goal__plan__organization_id", "weight", "completed_on"
    )
    for org_id, weight, completed_on in rows:
        steps.setdefault(org_id, []).append(Step(weight=weight, done=completed_on is not None))
    return {org_id: realization(items).pct for org_id, items in steps.items()}


def _case_figures(org_ids: list[int], now: dt.datetime) -> tuple[dict, dict]:
    year_ago, recent = now - dt.timedelta(days=365), now - dt.timedelta(days=90)
    csat = {
        row["case__organization_id"]: row
        for row in CsatResponse.objects.filter(
            case__organization_id__in=org_ids, answered_at__gte=year_ago
        )
        .values("case__organization_id")
        .annotate(good=Count("pk", filter=Q(rating=CsatRating.GOOD)), total=Count("pk"))
    }
    cases = {
        row["organization_id"]: row
        for row in Case.objects.filter(organization_id__in=org_ids, created_at__gte=year_ago)
        .values("organization_id")
        .annotate(recent=Count("pk", filter=Q(created_at__gte=recent)), year=Count("pk"))
    }
    return csat, cases


def _renewals(org_ids: list[int]) -> dict[int, dict]:
    return {
        row["organization_id"]: row
        for row in Contract.objects.filter(
            organization_id__in=org_ids, status=ContractStatus.ACTIVE
        )
        .values("organization_id")
        .annotate(earliest=Min("end_date"), open_ended=Count("pk", filter=Q(end_date=None)))
    }


def health_for_organizations(
    *, organizations: QuerySet[Organization], adoption_threshold: int
) -> list[tuple[Organization, Health]]:
    """Each organization's health, lowest score first (no score last). A fixed number of
    queries whatever the number of organizations: the organizations, licenses and their
    usage, milestones, CSAT, cases and contracts."""
    orgs = list(organizations)
    org_ids = [org.pk for org in orgs]
    now = timezone.now()
    adoption_by_org = {
        org.pk: a
        for org, a in license_adoption(
            licenses=License.objects.filter(organization_id__in=org_ids),
            threshold=adoption_threshold,
        ).by_organization
    }
    realized = _realizations(org_ids)
    csat, cases = _case_figures(org_ids, now)
    renewals = _renewals(org_ids)
    today = timezone.localdate()
    result = []
    for org in orgs:
        renewal = renewals.get(org.pk, {})
        earliest = renewal.get("earliest")
        inputs = HealthInputs(
            adoption_pct=adoption_by_org[org.pk].adoption_pct
            if org.pk in adoption_by_org
            else None,
            realization_pct=realized.get(org.pk),
            csat_good=csat.get(org.pk, {}).get("good", 0),
            csat_answered=csat.get(org.pk, {}).get("total", 0),
            cases_recent=cases.get(org.pk, {}).get("recent", 0),
            cases_year=cases.get(org.pk, {}).get("year", 0),
            days_to_renewal=(earliest - today).days if earliest else None,
            has_open_ended=bool(renewal.get("open_ended")),
        )
        result.append((org, health(inputs)))
    result.sort(key=lambda pair: (pair[1].score is None, pair[1].score or 0, pair[0].name))
    return result


# --- Proficiency ------------------------------------------------------------------------------


def courses_for_list(*, courses: QuerySet[Course]) -> QuerySet[Course]:
    """Courses with their product and counts of upcoming sessions and completions."""
    return courses.select_related("product").annotate(
        upcoming=Count(
            "sessions", filter=Q(sessions__starts_at__gte=timezone.now()), distinct=True
        ),
        completions=Count(
            "sessions__enrollments",
            filter=Q(sessions__enrollments__status=EnrollmentStatus.COMPLETED),
            distinct=True,
        ),
    )


def sessions_for_list(*, sessions: QuerySet[TrainingSession]) -> QuerySet[TrainingSession]:
    """Sessions with their course and the seats taken (``taken``)."""
    return sessions.select_related("course__product").annotate(
        taken=Count("enrollments", filter=Q(enrollments__status__in=SEATED_STATUSES))
    )


def enrollments_for_list(*, enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    return enrollments.select_related("session__course", "contact__organization")


@dataclass(frozen=True)
class Certificate:
    """A training record as the contact sees it: ``current`` on the day asked."""

    record: TrainingRecord
    current: bool


@dataclass(frozen=True)
class Requirement:
    """A course one of the organization's active trained-only contracts requires, whether
    the contact holds a current record of it, and its sessions still to come."""

    course: str
    contracts: list[str]
    held: bool
    sessions: list[TrainingSession]


@dataclass(frozen=True)
class TrainingView:
    enrollments: list[Enrollment]
    certificates: list[Certificate]
    requirements: list[Requirement]


def required_courses(*, organization_id: int) -> dict[str, list[str]]:
    """``{course name: [contract names]}`` of the organization's active trained-only
    contracts, by the name the contract requires."""
    required: dict[str, list[str]] = {}
    for candidate in candidate_contracts(organization_id=organization_id):
        facts = candidate.facts
        if (
            facts.authorization_policy == AuthorizationPolicy.TRAINED
            and facts.status == ContractStatus.ACTIVE
            and facts.required_course
        ):
            required.setdefault(facts.required_course, []).append(candidate.contract.name)
    return required


def training_for_contact(*, contact: Contact, enrollments: QuerySet[Enrollment]) -> TrainingView:
    """What the portal's *Training* page shows ``contact``: ``enrollments`` (those the
    caller may see), the contact's training records with their state today, the courses
    the organization's trained-only contracts require, and those courses' next sessions."""
    today, now = timezone.localdate(), timezone.now()
    records = list(TrainingRecord.objects.filter(contact=contact).order_by("course"))
    certificates = [Certificate(record=r, current=r.is_current(today)) for r in records]
    held = {c.record.course.lower() for c in certificates if c.current}
    required = required_courses(organization_id=contact.organization_id)
    names = [name.lower() for name in required]
    upcoming: dict[str, list[TrainingSession]] = {}
    if names:
        sessions = sessions_for_list(
            sessions=TrainingSession.objects.annotate(course_key=Lower("course__name")).filter(
                course_key__in=names, course__is_active=True, starts_at__gte=now
            )
        )
        for session in sessions.order_by("starts_at")[:50]:
            upcoming.setdefault(session.course.name.lower(), []).append(session)
    requirements = [
        Requirement(
            course=name,
            contracts=contracts,
            held=name.lower() in held,
            sessions=upcoming.get(name.lower(), []),
        )
        for name, contracts in sorted(required.items())
    ]
    return TrainingView(
        enrollments=list(enrollments_for_list(enrollments=enrollments)),
        certificates=certificates,
        requirements=requirements,
    )
