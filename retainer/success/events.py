"""The typed events of sales and the handoff to service (history: ``SuccessEvent``).

What an event is about lives in the history row's columns (``lead``, ``opportunity``,
``organization``, ``onboarding_plan``, ``actor``), not in the payload. Leads, the
pipeline and interactions are the vendor's own records: no field is customer-visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retainer.lib.events import Event
from retainer.success.choices import SuccessEventType


@dataclass(frozen=True, kw_only=True)
class SuccessEventBase(Event):
    history = "success.successevent"


@dataclass(frozen=True, kw_only=True)
class LeadCreated(SuccessEventBase):
    """A lead was recorded."""

    name = "lead.created"
    type = SuccessEventType.LEAD_CREATED

    company: str
    source: str


@dataclass(frozen=True, kw_only=True)
class LeadUpdated(SuccessEventBase):
    """A lead's fields (its status among them) changed."""

    name = "lead.updated"
    type = SuccessEventType.LEAD_UPDATED

    #: ``{field: {"old": …, "new": …}}``.
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class LeadConverted(SuccessEventBase):
    """A lead became an organization and a contact (created, or found and linked)."""

    name = "lead.converted"
    type = SuccessEventType.LEAD_CONVERTED

    contact: int
    organization_created: bool
    contact_created: bool
    opportunity: int | None = None


@dataclass(frozen=True, kw_only=True)
class OpportunityCreated(SuccessEventBase):
    """An opportunity entered the pipeline."""

    name = "opportunity.created"
    type = SuccessEventType.OPPORTUNITY_CREATED

    stage: str
    amount: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OpportunityUpdated(SuccessEventBase):
    """An open opportunity's fields changed."""

    name = "opportunity.updated"
    type = SuccessEventType.OPPORTUNITY_UPDATED

    #: ``{field: {"old": …, "new": …}}``.
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class OpportunityMoved(SuccessEventBase):
    """An open opportunity moved to another stage of the pipeline."""

    name = "opportunity.moved"
    type = SuccessEventType.OPPORTUNITY_MOVED

    old_stage: str
    new_stage: str
    probability: int


@dataclass(frozen=True, kw_only=True)
class OpportunityWon(SuccessEventBase):
    """The deal was won and handed to service: the contracts sold on the proposed plan,
    the customer's expected outcomes, the success owner and the support team."""

    name = "opportunity.won"
    type = SuccessEventType.OPPORTUNITY_WON

    contracts: list[int]
    plan: int
    amount: str
    currency: str
    expected_outcomes: list[str] = field(default_factory=list)
    success_owner: int
    team: int


@dataclass(frozen=True, kw_only=True)
class OpportunityLost(SuccessEventBase):
    """The deal was lost, and why."""

    name = "opportunity.lost"
    type = SuccessEventType.OPPORTUNITY_LOST

    reason: str


@dataclass(frozen=True, kw_only=True)
class InteractionLogged(SuccessEventBase):
    """A call, meeting, e-mail or note was logged."""

    name = "interaction.logged"
    type = SuccessEventType.INTERACTION_LOGGED

    interaction: int
    kind: str
    contact: int | None = None


@dataclass(frozen=True, kw_only=True)
class StageSaved(SuccessEventBase):
    """A stage of the pipeline was created or changed."""

    name = "pipeline_stage.saved"
    type = SuccessEventType.STAGE_SAVED

    stage: int
    stage_name: str
    probability: int
    created: bool


@dataclass(frozen=True, kw_only=True)
class OnboardingPlanCreated(SuccessEventBase):
    """A won deal's onboarding plan was made from a template."""

    name = "onboarding_plan.created"
    type = SuccessEventType.ONBOARDING_PLAN_CREATED

    template: str
    steps: list[str]


@dataclass(frozen=True, kw_only=True)
class OnboardingStepDone(SuccessEventBase):
    """A step of an onboarding plan was marked done."""

    name = "onboarding_step.done"
    type = SuccessEventType.ONBOARDING_STEP_DONE

    step: int
    title: str


@dataclass(frozen=True, kw_only=True)
class OnboardingStepUndone(SuccessEventBase):
    """A step marked done was opened again."""

    name = "onboarding_step.undone"
    type = SuccessEventType.ONBOARDING_STEP_UNDONE

    step: int
    title: str


@dataclass(frozen=True, kw_only=True)
class LicenseCreated(SuccessEventBase):
    """Seats of a product were sold to an organization (the history row's
    ``organization``)."""

    name = "license.created"
    type = SuccessEventType.LICENSE_CREATED

    license: int
    product: int
    edition: str
    seats: int
    starts_on: str
    ends_on: str


@dataclass(frozen=True, kw_only=True)
class LicenseUsageReported(SuccessEventBase):
    """The usage of a license for a month was reported; ``previous`` holds the figures it
    replaced (``None`` for the month's first report)."""

    name = "license.usage_reported"
    type = SuccessEventType.LICENSE_USAGE_REPORTED

    license: int
    #: The month reported, ``YYYY-MM``.
    period: str
    seats_in_use: int
    basic_users: int
    advanced_users: int
    previous: dict[str, int] | None = None


@dataclass(frozen=True, kw_only=True)
class SuccessPlanCreated(SuccessEventBase):
    """An organization's success plan was started (the history row's ``organization``)."""

    name = "success_plan.created"
    type = SuccessEventType.SUCCESS_PLAN_CREATED

    plan: int


@dataclass(frozen=True, kw_only=True)
class SuccessPlanUpdated(SuccessEventBase):
    """The plan's owner, summary or ROI record changed."""

    name = "success_plan.updated"
    type = SuccessEventType.SUCCESS_PLAN_UPDATED

    plan: int
    #: ``{field: {"old": …, "new": …}}``.
    changes: dict[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class SuccessGoalSaved(SuccessEventBase):
    """A goal of a success plan was added or changed."""

    name = "success_goal.saved"
    type = SuccessEventType.SUCCESS_GOAL_SAVED

    plan: int
    goal: int
    title: str
    created: bool


@dataclass(frozen=True, kw_only=True)
class MilestoneSaved(SuccessEventBase):
    """A milestone was added to a goal or changed (title, weight, owner, due date)."""

    name = "milestone.saved"
    type = SuccessEventType.MILESTONE_SAVED

    goal: int
    milestone: int
    title: str
    weight: int
    owner: int
    due_date: str
    created: bool


@dataclass(frozen=True, kw_only=True)
class MilestoneDone(SuccessEventBase):
    """A milestone was marked done, on ``completed_on``."""

    name = "milestone.done"
    type = SuccessEventType.MILESTONE_DONE

    milestone: int
    title: str
    completed_on: str


@dataclass(frozen=True, kw_only=True)
class MilestoneUndone(SuccessEventBase):
    """A milestone marked done was opened again."""

    name = "milestone.undone"
    type = SuccessEventType.MILESTONE_UNDONE

    milestone: int
    title: str


@dataclass(frozen=True, kw_only=True)
class PerceptionSurveySent(SuccessEventBase):
    """A success-perception survey was sent to a contact."""

    name = "perception_survey.sent"
    type = SuccessEventType.PERCEPTION_SURVEY_SENT

    survey: int
    contact: int


@dataclass(frozen=True, kw_only=True)
class PerceptionSurveyAnswered(SuccessEventBase):
    """A contact answered a success-perception survey (positive, neutral, negative)."""

    name = "perception_survey.answered"
    type = SuccessEventType.PERCEPTION_SURVEY_ANSWERED

    survey: int
    contact: int
    answer: str


# --- Proficiency ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CourseSaved(SuccessEventBase):
    """A course was added or changed (name, level, duration, validity, active)."""

    name = "course.saved"
    type = SuccessEventType.COURSE_SAVED

    course: int
    title: str
    created: bool
    #: ``{field: {"old": …, "new": …}}``; empty when the course was added.
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class TrainingSessionScheduled(SuccessEventBase):
    """A session of a course was scheduled (``starts_at``: ISO date and time, UTC)."""

    name = "training_session.scheduled"
    type = SuccessEventType.TRAINING_SESSION_SCHEDULED

    course: int
    session: int
    starts_at: str
    capacity: int


@dataclass(frozen=True, kw_only=True)
class ContactEnrolled(SuccessEventBase):
    """A contact took a seat in a session (the history row's ``organization`` is theirs)."""

    name = "enrollment.enrolled"
    type = SuccessEventType.CONTACT_ENROLLED
    customer_fields = frozenset({"course_name"})

    enrollment: int
    session: int
    contact: int
    course_name: str


@dataclass(frozen=True, kw_only=True)
class EnrollmentCancelled(SuccessEventBase):
    """An enrollment was cancelled; its seat is free again."""

    name = "enrollment.cancelled"
    type = SuccessEventType.ENROLLMENT_CANCELLED
    customer_fields = frozenset({"course_name"})

    enrollment: int
    contact: int
    course_name: str


@dataclass(frozen=True, kw_only=True)
class EnrollmentCompleted(SuccessEventBase):
    """A contact completed a session; their training record of the course was written or
    renewed (``expires_on``: ISO date, ``None``: never)."""

    name = "enrollment.completed"
    type = SuccessEventType.ENROLLMENT_COMPLETED
    customer_fields = frozenset({"course_name", "completed_on", "expires_on"})

    enrollment: int
    contact: int
    course_name: str
    completed_on: str
    expires_on: str | None
    training_record: int


@dataclass(frozen=True, kw_only=True)
class EnrollmentNoShow(SuccessEventBase):
    """A contact did not attend the session they were enrolled in."""

    name = "enrollment.no_show"
    type = SuccessEventType.ENROLLMENT_NO_SHOW

    enrollment: int
    contact: int
    course_name: str
