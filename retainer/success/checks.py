"""Who may change leads, the pipeline, interactions and onboarding: one rule per
operation, whatever the door (console page, API).

``check_<verb>_<noun>(actor, …)`` refuses an actor without the operation's permissions
(``NotPermitted``, 403 on every door, before any input is read: the ``authorize_*``
functions state the rule alone for doors that must refuse before parsing), then calls
the ``do_*`` action, which validates everything before it writes.

There is no sales role: managers and admins hold ``success.*``, agents and billing
``success.view_*`` (``accounts/roles.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from retainer.accounts.checks import require_staff_permission
from retainer.accounts.models import Contact, Organization, Team, User
from retainer.success import actions
from retainer.success.access import licenses_visible_to
from retainer.success.models import (
    Course,
    Enrollment,
    Interaction,
    Lead,
    License,
    LicenseUsage,
    Milestone,
    OnboardingStep,
    OnboardingTemplate,
    Opportunity,
    PerceptionSurvey,
    Stage,
    SuccessGoal,
    SuccessPlan,
    TrainingSession,
)

#: Converting a lead creates the organization, the contact and an opportunity.
CONVERT_PERMISSIONS = (
    "success.change_lead",
    "success.add_opportunity",
    "accounts.add_organization",
    "accounts.add_contact",
)
#: Winning sells the contract and starts the onboarding plan.
WIN_PERMISSIONS = (
    "success.change_opportunity",
    "contracts.add_contract",
    "success.add_onboardingplan",
)


def authorize_view(actor: Any) -> None:
    require_staff_permission(actor, "success.view_opportunity")


def authorize_create_lead(actor: Any) -> None:
    require_staff_permission(actor, "success.add_lead")


def authorize_change_lead(actor: Any) -> None:
    require_staff_permission(actor, "success.change_lead")


def authorize_convert_lead(actor: Any) -> None:
    require_staff_permission(actor, *CONVERT_PERMISSIONS)


def authorize_create_opportunity(actor: Any) -> None:
    require_staff_permission(actor, "success.add_opportunity")


def authorize_change_opportunity(actor: Any) -> None:
    """Edit, move between stages, lose."""
    require_staff_permission(actor, "success.change_opportunity")


def authorize_win_opportunity(actor: Any) -> None:
    require_staff_permission(actor, *WIN_PERMISSIONS)


def authorize_log_interaction(actor: Any) -> None:
    require_staff_permission(actor, "success.add_interaction")


def authorize_change_onboarding(actor: Any) -> None:
    require_staff_permission(actor, "success.change_onboardingplan")


def authorize_save_stage(actor: Any, stage: Stage | None) -> None:
    require_staff_permission(
        actor, "success.add_stage" if stage is None else "success.change_stage"
    )


# --- Leads ---------------------------------------------------------------------------------


def check_create_lead(actor: User, **values: Any) -> Lead:
    authorize_create_lead(actor)
    return actions.do_create_lead(actor=actor, **values)


def check_update_lead(actor: User, lead: Lead, **changes: Any) -> Lead:
    authorize_change_lead(actor)
    return actions.do_update_lead(lead, actor=actor, **changes)


def check_convert_lead(
    actor: User, lead: Lead, *, open_opportunity: bool = True
) -> tuple[Organization, Contact, Opportunity | None]:
    """Convert once, into the existing organization when there is one (the owner of the
    e-mail's domain, or the one organization of that name)."""
    authorize_convert_lead(actor)
    return actions.do_convert_lead(lead, open_opportunity=open_opportunity, actor=actor)


# --- Stages and opportunities ----------------------------------------------------------------


def check_save_stage(actor: User, stage: Stage | None, **values: Any) -> Stage:
    """Create or change a stage; a probability outside 0–100 is refused beside the field."""
    authorize_save_stage(actor, stage)
    return actions.do_save_stage(stage, actor=actor, **values)


def check_create_opportunity(actor: User, **values: Any) -> Opportunity:
    authorize_create_opportunity(actor)
    return actions.do_create_opportunity(actor=actor, **values)


def check_update_opportunity(actor: User, opportunity: Opportunity, **changes: Any) -> Opportunity:
    authorize_change_opportunity(actor)
    return actions.do_update_opportunity(opportunity, actor=actor, **changes)


def check_move_opportunity(actor: User, opportunity: Opportunity, *, stage: Stage) -> Opportunity:
    authorize_change_opportunity(actor)
    return actions.do_move_opportunity(opportunity, stage=stage, actor=actor)


def check_lose_opportunity(actor: User, opportunity: Opportunity, *, reason: str) -> Opportunity:
    authorize_change_opportunity(actor)
    return actions.do_lose_opportunity(opportunity, reason=reason, actor=actor)


def check_win_opportunity(
    actor: User,
    opportunity: Opportunity,
    *,
    success_owner: User,
    team: Team,
    template: OnboardingTemplate | None = None,
    start_date: dt.date | None = None,
) -> Opportunity:
    """Win and hand over: needs the right to sell contracts too, since it sells one."""
    authorize_win_opportunity(actor)
    return actions.do_win_opportunity(
        opportunity,
        success_owner=success_owner,
        team=team,
        template=template,
        start_date=start_date,
        actor=actor,
    )


# --- Interactions and onboarding -------------------------------------------------------------


def check_log_interaction(actor: User, **values: Any) -> Interaction:
    """Log an interaction; its author is always the actor."""
    authorize_log_interaction(actor)
    return actions.do_log_interaction(author=actor, **values)


def check_set_step_done(actor: User, step: OnboardingStep, *, done: bool) -> OnboardingStep:
    authorize_change_onboarding(actor)
    return actions.do_set_step_done(step, done=done, actor=actor)


# --- Licenses and usage ------------------------------------------------------------------------


def authorize_view_licenses(actor: Any) -> None:
    require_staff_permission(actor, "success.view_license")


def authorize_create_license(actor: Any) -> None:
    require_staff_permission(actor, "success.add_license")


def authorize_report_usage(actor: Any) -> None:
    require_staff_permission(actor, "success.add_licenseusage", "success.change_licenseusage")


def check_create_license(actor: User, **values: Any) -> License:
    authorize_create_license(actor)
    return actions.do_create_license(actor=actor, **values)


def check_report_usage(actor: User, license: License, **values: Any) -> LicenseUsage:
    """Report a month's usage; it replaces an earlier report of that month, hence both
    permissions."""
    authorize_report_usage(actor)
    return actions.do_report_usage(license, actor=actor, **values)


def check_upload_usage(actor: User, content: bytes) -> actions.UsageUpload:
    """Report usage from a CSV file for any license the actor may see; all rows or none."""
    authorize_report_usage(actor)
    return actions.do_upload_usage(content, licenses=licenses_visible_to(actor), actor=actor)


# --- Success plans and the perception survey --------------------------------------------------


def authorize_view_plans(actor: Any) -> None:
    require_staff_permission(actor, "success.view_successplan")


def authorize_change_plan(actor: Any) -> None:
    """The plan's owner, summary and ROI record."""
    require_staff_permission(actor, "success.change_successplan")


def authorize_add_goal(actor: Any) -> None:
    require_staff_permission(actor, "success.add_successgoal")


def authorize_change_goal(actor: Any) -> None:
    require_staff_permission(actor, "success.change_successgoal")


def authorize_add_milestone(actor: Any) -> None:
    require_staff_permission(actor, "success.add_milestone")


def authorize_change_milestone(actor: Any) -> None:
    """Edit a milestone, mark it done or open it again."""
    require_staff_permission(actor, "success.change_milestone")


def authorize_send_survey(actor: Any) -> None:
    require_staff_permission(actor, "success.add_perceptionsurvey")


def check_update_plan(actor: User, organization: Organization, **changes: Any) -> SuccessPlan:
    authorize_change_plan(actor)
    return actions.do_update_plan(organization, actor=actor, **changes)


def check_add_goal(actor: User, organization: Organization, **values: Any) -> SuccessGoal:
    authorize_add_goal(actor)
    return actions.do_add_goal(organization, actor=actor, **values)


def check_update_goal(actor: User, goal: SuccessGoal, **changes: Any) -> SuccessGoal:
    authorize_change_goal(actor)
    return actions.do_update_goal(goal, actor=actor, **changes)


def check_add_milestone(actor: User, goal: SuccessGoal, **values: Any) -> Milestone:
    """A weight is a whole number of at least 1: 0 is refused beside the field."""
    authorize_add_milestone(actor)
    return actions.do_add_milestone(goal, actor=actor, **values)


def check_update_milestone(actor: User, milestone: Milestone, **changes: Any) -> Milestone:
    authorize_change_milestone(actor)
    return actions.do_update_milestone(milestone, actor=actor, **changes)


def check_set_milestone_done(
    actor: User, milestone: Milestone, *, done: bool, completed_on: dt.date | None = None
) -> Milestone:
    authorize_change_milestone(actor)
    return actions.do_set_milestone_done(
        milestone, done=done, completed_on=completed_on, actor=actor
    )


def check_send_survey(
    actor: User, organization: Organization, *, contact: Contact | None = None
) -> list[PerceptionSurvey]:
    authorize_send_survey(actor)
    return actions.do_send_survey(organization, contact=contact, actor=actor)


def check_answer_survey(
    actor: User | None, survey: PerceptionSurvey, *, answer: str, comment: str = ""
) -> PerceptionSurvey:
    """Whoever holds the signed link may answer (the link is the authorization), once."""
    return actions.do_answer_survey(survey, answer=answer, comment=comment, actor=actor)


# --- Proficiency ------------------------------------------------------------------------------


def authorize_view_training(actor: Any) -> None:
    require_staff_permission(actor, "success.view_course")


def authorize_save_course(actor: Any, course: Course | None) -> None:
    require_staff_permission(
        actor, "success.add_course" if course is None else "success.change_course"
    )


def authorize_schedule_session(actor: Any) -> None:
    require_staff_permission(actor, "success.add_trainingsession")


def authorize_enroll(actor: Any) -> None:
    require_staff_permission(actor, "success.add_enrollment")


def authorize_change_enrollment(actor: Any) -> None:
    """Complete, mark as no-show, cancel."""
    require_staff_permission(actor, "success.change_enrollment")


def check_save_course(actor: User, course: Course | None, **values: Any) -> Course:
    authorize_save_course(actor, course)
    return actions.do_save_course(course, actor=actor, **values)


def check_schedule_session(actor: User, course: Course, **values: Any) -> TrainingSession:
    authorize_schedule_session(actor)
    return actions.do_schedule_session(course, actor=actor, **values)


def check_enroll_contact(actor: User, session: TrainingSession, *, email: str) -> Enrollment:
    """Enroll the active contact with this e-mail address (any case)."""
    authorize_enroll(actor)
    contact = Contact.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if contact is None:
        raise ValidationError({"email": "No active contact has this e-mail address."})
    return actions.do_enroll_contact(session, contact=contact, actor=actor)


def check_complete_enrollment(
    actor: User, enrollment: Enrollment, *, completed_on: dt.date | None = None
) -> Enrollment:
    authorize_change_enrollment(actor)
    actions.do_complete_enrollment(enrollment, completed_on=completed_on, actor=actor)
    return Enrollment.objects.select_related("session__course", "contact").get(pk=enrollment.pk)


def check_mark_no_show(actor: User, enrollment: Enrollment) -> Enrollment:
    authorize_change_enrollment(actor)
    return actions.do_mark_no_show(enrollment, actor=actor)


def check_cancel_enrollment(actor: User, enrollment: Enrollment) -> Enrollment:
    authorize_change_enrollment(actor)
    return actions.do_cancel_enrollment(enrollment, actor=actor)
