"""A small sales world built through the real actions: a product listed at 50,000 EUR, a
maintenance plan on it (18 % of list: 9,000 EUR a year), the same plan in USD, a support
team, a lead, an opportunity proposing the plan, and a won one with its onboarding plan.
Shared by this app's tests and the route × role matrix (``tests/test_url_access.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import apps as django_apps
from django.utils import timezone

from retainer.accounts import actions as account_actions
from retainer.accounts.models import Team
from retainer.catalog import actions as catalog_actions
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.choices import Preset
from retainer.contracts.models import SupportPlan
from retainer.contracts.terms import preset_terms
from retainer.success import actions
from retainer.success.models import (
    Course,
    Enrollment,
    Lead,
    License,
    Milestone,
    OnboardingPlan,
    Opportunity,
    TrainingSession,
)


@dataclass
class Sales:
    product: Product
    plan: SupportPlan
    usd_plan: SupportPlan
    team: Team
    lead: Lead
    opportunity: Opportunity
    won: Opportunity
    onboarding: OnboardingPlan


def ensure_defaults() -> None:
    """The default pipeline and onboarding template of migration 0002, again: a browser
    test's flush empties every table, data migrations' rows included."""
    seeding = import_module(
        "retainer.success.migrations.0002_default_stages_and_onboarding_template"
    )
    seeding.seed(django_apps, None)


def build_sales(cast: Any) -> Sales:
    ensure_defaults()
    admin = cast.admin
    product = catalog_actions.do_save_product(
        None,
        actor=admin,
        name="Ledgerline Server",
        code="ledgerline-sales",
        list_price=Decimal(50000),
        currency="EUR",
    )
    plan = contract_actions.do_create_plan(
        code="maintenance-sales",
        name="Maintenance",
        terms=preset_terms(Preset.MAINTENANCE, tier="gold"),
        products=[product],
        actor=admin,
    )
    usd_plan = contract_actions.do_create_plan(
        code="maintenance-usd",
        name="Maintenance (USD)",
        terms=preset_terms(Preset.MAINTENANCE, tier="gold", currency="USD"),
        products=[product],
        actor=admin,
    )
    team = account_actions.do_save_team(None, name="Onboarding", members=[cast.agent], actor=admin)
    lead = actions.do_create_lead(
        company="Initech",
        contact_name="Peter Gibbons",
        email="peter@initech.test",
        phone="+1 555 0100",
        notes="Met at the trade fair.",
        owner=cast.manager,
        actor=cast.manager,
    )
    opportunity = actions.do_create_opportunity(
        organization=cast.acme,
        name="Acme maintenance",
        amount=Decimal(9000),
        currency="EUR",
        plan=plan,
        products=[product],
        expected_outcomes=["Nightly postings never stop", "Audit passes"],
        owner=cast.manager,
        actor=cast.manager,
    )
    won = actions.do_create_opportunity(
        organization=cast.acme, name="Acme renewal", currency="EUR", plan=plan, actor=cast.manager
    )
    won = actions.do_win_opportunity(won, success_owner=cast.manager, team=team, actor=cast.manager)
    return Sales(
        product=product,
        plan=plan,
        usd_plan=usd_plan,
        team=team,
        lead=lead,
        opportunity=opportunity,
        won=won,
        onboarding=won.onboarding_plan,
    )


def acme_license(cast: Any, product: Product) -> License:
    """100 seats of ``product`` for Acme, 80 in use in January 2026."""
    license = actions.do_create_license(
        organization=cast.acme,
        product=product,
        edition="Enterprise",
        seats=100,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        actor=cast.admin,
    )
    actions.do_report_usage(
        license,
        period=dt.date(2026, 1, 1),
        seats_in_use=80,
        basic_users=30,
        advanced_users=50,
        actor=cast.admin,
    )
    return license


def acme_plan(cast: Any) -> list[Milestone]:
    """Acme's success plan: one goal with milestones of weights 3, 2 and 5, the first two
    done (realization 50 %). The plan has no owner, summary or ROI yet."""
    goal = actions.do_add_goal(cast.acme, title="Close the books in two days", actor=cast.manager)
    milestones = [
        actions.do_add_milestone(
            goal,
            title=title,
            weight=weight,
            owner=cast.manager,
            due_date=dt.date(2026, 6, 30),
            actor=cast.manager,
        )
        for title, weight in (("Go live", 3), ("Train the team", 2), ("First fast close", 5))
    ]
    for milestone in milestones[:2]:
        actions.do_set_milestone_done(milestone, done=True, actor=cast.manager)
    return milestones


@dataclass
class Training:
    course: Course
    session: TrainingSession
    enrollment: Enrollment


def acme_training(cast: Any, product: Product, *, capacity: int = 3) -> Training:
    """A course on ``product`` valid for 12 months, a session of it next month with
    ``capacity`` seats, and Acme's contact enrolled in it."""
    course = actions.do_save_course(
        None,
        product=product,
        name="Ledgerline Admin",
        level="basic",
        duration_hours=8,
        validity_months=12,
        actor=cast.manager,
    )
    session = actions.do_schedule_session(
        course,
        starts_at=timezone.now() + dt.timedelta(days=30),
        capacity=capacity,
        location="Berlin, Alexanderplatz 1",
        actor=cast.manager,
    )
    enrollment = actions.do_enroll_contact(session, contact=cast.contact, actor=cast.manager)
    return Training(course=course, session=session, enrollment=enrollment)


def survey_token(cast: Any) -> str:
    """The signed link's token of a perception survey sent to Acme's customer admin."""
    (survey,) = actions.do_send_survey(cast.acme, actor=cast.manager)
    return actions.survey_token(survey)


def url_objects(cast: Any) -> dict[str, int]:
    """The primary key each of this app's routes is requested with."""
    sales = build_sales(cast)
    license = acme_license(cast, sales.product)
    milestones = acme_plan(cast)
    training = acme_training(cast, sales.product)
    open_milestone = milestones[2]
    plan = open_milestone.goal.plan
    step = sales.onboarding.steps.first()
    assert step is not None
    return {
        **dict.fromkeys(
            ["success:lead_detail", "success:lead_convert", "success:lead_interaction"],
            sales.lead.pk,
        ),
        **dict.fromkeys(
            ["api:lead_detail", "api:lead_convert"],
            sales.lead.pk,
        ),
        **dict.fromkeys(
            [
                "success:opportunity_detail",
                "success:opportunity_edit",
                "success:opportunity_move",
                "success:opportunity_win",
                "success:opportunity_lose",
                "success:opportunity_interaction",
                "api:opportunity_detail",
                "api:opportunity_move",
                "api:opportunity_win",
                "api:opportunity_lose",
            ],
            sales.opportunity.pk,
        ),
        **dict.fromkeys(
            ["success:organization_success", "success:organization_interaction"], cast.acme.pk
        ),
        "success:step_done": step.pk,
        "api:onboarding_step_done": step.pk,
        "api:onboarding_plan_detail": sales.onboarding.pk,
        "api:pipeline_stage_detail": sales.opportunity.stage_id,
        "api:license_detail": license.pk,
        "api:license_usage": license.pk,
        **dict.fromkeys(
            [
                "success:plan_detail",
                "success:plan_edit",
                "success:goal_new",
                "success:survey_send",
                "api:health_score_detail",
            ],
            cast.acme.pk,
        ),
        **dict.fromkeys(
            ["api:success_plan_detail", "api:success_goal_list"],
            plan.pk,
        ),
        **dict.fromkeys(
            [
                "success:goal_edit",
                "success:milestone_new",
                "api:success_goal_detail",
                "api:milestone_list",
            ],
            open_milestone.goal_id,
        ),
        **dict.fromkeys(
            [
                "success:milestone_edit",
                "success:milestone_done",
                "api:milestone_detail",
                "api:milestone_done",
            ],
            open_milestone.pk,
        ),
        **dict.fromkeys(
            [
                "success:course_detail",
                "success:course_edit",
                "success:session_new",
                "api:course_detail",
            ],
            training.course.pk,
        ),
        **dict.fromkeys(
            [
                "success:session_detail",
                "success:enrollment_new",
                "api:training_session_detail",
                "api:training_session_enroll",
            ],
            training.session.pk,
        ),
        **dict.fromkeys(
            [
                "success:enrollment_complete",
                "success:enrollment_no_show",
                "success:enrollment_cancel",
                "api:enrollment_detail",
                "api:enrollment_complete",
                "api:enrollment_no_show",
                "api:enrollment_cancel",
            ],
            training.enrollment.pk,
        ),
    }
