"""Success plans (goals, weighted milestones, the ROI record) and the success-perception
survey. Each action is atomic, validates before it writes and records its typed event
with its outbox message. Who may call which is ``success/checks.py``.

A plan is started by the first change made to it (a goal, the owner, the ROI record):
``success_plan.created`` is recorded then, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from retainer.accounts.choices import ContactRole
from retainer.accounts.models import Contact, Organization, User
from retainer.lib.errors import Conflict, InvalidInput, NotFound
from retainer.lib.events import record
from retainer.lib.models import apply_changes, save_validated
from retainer.lib.sanitize import clean_line, strip_invisible_controls
from retainer.success import events
from retainer.success.choices import Perception
from retainer.success.models import (
    Milestone,
    PerceptionSurvey,
    SuccessEvent,
    SuccessGoal,
    SuccessPlan,
)

__all__ = [
    "GOAL_FIELDS",
    "MILESTONE_FIELDS",
    "PLAN_FIELDS",
    "SURVEY_MAX_AGE",
    "do_add_goal",
    "do_add_milestone",
    "do_answer_survey",
    "do_send_survey",
    "do_set_milestone_done",
    "do_update_goal",
    "do_update_milestone",
    "do_update_plan",
    "plan_for",
    "survey_for_token",
    "survey_link",
    "survey_token",
]

PLAN_FIELDS = ("owner", "summary", "roi_investment", "roi_return", "roi_currency", "roi_note")
GOAL_FIELDS = ("title", "description")
MILESTONE_FIELDS = ("title", "weight", "owner", "due_date")
SURVEY_SALT = "retainer.success.perception-survey"
#: How long a survey link stays valid.
SURVEY_MAX_AGE = dt.timedelta(days=30)
INVALID_LINK = "This survey link is invalid or has expired."


def _line(text: str) -> str:
    """A title as shown: one line, without bidi or zero-width controls."""
    return clean_line(text)


def _text(text: str) -> str:
    return strip_invisible_controls(text).strip()


def _clean(changes: dict[str, Any], *, lines: tuple[str, ...], texts: tuple[str, ...]) -> None:
    for name in lines:
        if isinstance(changes.get(name), str):
            changes[name] = _line(changes[name])
    for name in texts:
        if isinstance(changes.get(name), str):
            changes[name] = _text(changes[name])


def _require_staff(user: User | None, field: str) -> None:
    if user is None or not (user.is_staff and user.is_active):
        raise ValidationError({field: "Choose an active member of the vendor's staff."})


def _record(event: events.SuccessEventBase, organization_id: int, actor: User | None) -> None:
    record(SuccessEvent, event, organization_id=organization_id, actor=actor)


def plan_for(organization: Organization, *, actor: User | None) -> SuccessPlan:
    """The organization's plan, locked; started (with its event) when it has none.
    Call inside a transaction."""
    plan, created = SuccessPlan.objects.select_for_update().get_or_create(organization=organization)
    if created:
        _record(events.SuccessPlanCreated(plan=plan.pk), organization.pk, actor)
    return plan


@transaction.atomic
def do_update_plan(
    organization: Organization, *, actor: User | None, **changes: Any
) -> SuccessPlan:
    """Change the plan's owner, summary or ROI record (``PLAN_FIELDS``); an investment or
    a return names its currency."""
    plan = plan_for(organization, actor=actor)
    if "owner" in changes and changes["owner"] is not None:
        _require_staff(changes["owner"], "owner")
    _clean(changes, lines=("roi_currency",), texts=("summary", "roi_note"))
    diff = apply_changes(plan, changes, allowed=PLAN_FIELDS)
    if not diff:
        return plan
    save_validated(plan)
    _record(events.SuccessPlanUpdated(plan=plan.pk, changes=diff), organization.pk, actor)
    return plan


def _record_goal(goal: SuccessGoal, *, created: bool, actor: User | None) -> None:
    saved = events.SuccessGoalSaved(
        plan=goal.plan_id, goal=goal.pk, title=goal.title, created=created
    )
    _record(saved, goal.plan.organization_id, actor)


@transaction.atomic
def do_add_goal(
    organization: Organization, *, title: str, description: str = "", actor: User | None
) -> SuccessGoal:
    """Add a goal to the organization's plan (starting the plan if needed)."""
    plan = plan_for(organization, actor=actor)
    goal = SuccessGoal(plan=plan, title=_line(title), description=_text(description))
    save_validated(goal)
    _record_goal(goal, created=True, actor=actor)
    return goal


@transaction.atomic
def do_update_goal(goal: SuccessGoal, *, actor: User | None, **changes: Any) -> SuccessGoal:
    goal = SuccessGoal.objects.select_for_update().select_related("plan").get(pk=goal.pk)
    _clean(changes, lines=("title",), texts=("description",))
    if not apply_changes(goal, changes, allowed=GOAL_FIELDS):
        return goal
    save_validated(goal)
    _record_goal(goal, created=False, actor=actor)
    return goal


def _record_milestone(milestone: Milestone, *, created: bool, actor: User | None) -> None:
    saved = events.MilestoneSaved(
        goal=milestone.goal_id,
        milestone=milestone.pk,
        title=milestone.title,
        weight=milestone.weight,
        owner=milestone.owner_id,
        due_date=milestone.due_date.isoformat(),
        created=created,
    )
    _record(saved, milestone.goal.plan.organization_id, actor)


@transaction.atomic
def do_add_milestone(
    goal: SuccessGoal,
    *,
    title: str,
    weight: int,
    owner: User,
    due_date: dt.date,
    actor: User | None,
) -> Milestone:
    """Add a milestone weighing ``weight`` (a whole number, at least 1) to a goal."""
    _require_staff(owner, "owner")
    goal = SuccessGoal.objects.select_related("plan").get(pk=goal.pk)
    milestone = Milestone(
        goal=goal, title=_line(title), weight=weight, owner=owner, due_date=due_date
    )
    save_validated(milestone)
    _record_milestone(milestone, created=True, actor=actor)
    return milestone


def _lock_milestone(milestone: Milestone) -> Milestone:
    return Milestone.objects.select_for_update().select_related("goal__plan").get(pk=milestone.pk)


@transaction.atomic
def do_update_milestone(milestone: Milestone, *, actor: User | None, **changes: Any) -> Milestone:
    """Change a milestone's title, weight, owner or due date (``MILESTONE_FIELDS``)."""
    milestone = _lock_milestone(milestone)
    if "owner" in changes:
        _require_staff(changes["owner"], "owner")
    _clean(changes, lines=("title",), texts=())
    if not apply_changes(milestone, changes, allowed=MILESTONE_FIELDS):
        return milestone
    save_validated(milestone)
    _record_milestone(milestone, created=False, actor=actor)
    return milestone


@transaction.atomic
def do_set_milestone_done(
    milestone: Milestone,
    *,
    done: bool,
    completed_on: dt.date | None = None,
    actor: User | None,
) -> Milestone:
    """Mark a milestone done on ``completed_on`` (default today; not in the future) or
    open it again; the same state again changes nothing."""
    milestone = _lock_milestone(milestone)
    today = timezone.localdate()
    if done and completed_on is not None and completed_on > today:
        raise ValidationError({"completed_on": "A milestone cannot be done in the future."})
    if milestone.is_done == done and (not done or completed_on in (None, milestone.completed_on)):
        return milestone
    milestone.completed_on = (completed_on or today) if done else None
    save_validated(milestone)
    event: events.SuccessEventBase
    if milestone.completed_on is not None:
        event = events.MilestoneDone(
            milestone=milestone.pk,
            title=milestone.title,
            completed_on=milestone.completed_on.isoformat(),
        )
    else:
        event = events.MilestoneUndone(milestone=milestone.pk, title=milestone.title)
    _record(event, milestone.goal.plan.organization_id, actor)
    return milestone


# --- The success-perception survey -----------------------------------------------------------


def survey_token(survey: PerceptionSurvey) -> str:
    """The signed token of a survey's link; it names the survey and nothing else."""
    return signing.dumps({"survey": survey.pk}, salt=SURVEY_SALT)


def survey_for_token(token: str, *, max_age: dt.timedelta = SURVEY_MAX_AGE) -> PerceptionSurvey:
    """The survey a link names; ``NotFound`` for a tampered or expired link."""
    try:
        payload = signing.loads(token, salt=SURVEY_SALT, max_age=max_age)
        return PerceptionSurvey.objects.select_related("organization", "contact").get(
            pk=payload["survey"]
        )
    except (signing.BadSignature, KeyError, TypeError, PerceptionSurvey.DoesNotExist):
        raise NotFound("invalid_survey_link", INVALID_LINK) from None


def _recipients(organization: Organization, contact: Contact | None) -> list[Contact]:
    if contact is not None:
        if contact.organization_id != organization.pk or not contact.is_active:
            raise ValidationError({"contact": "Choose an active contact of this organization."})
        return [contact]
    admins = list(
        organization.contacts.filter(is_active=True, role=ContactRole.ADMIN).order_by("pk")
    )
    if not admins:
        raise InvalidInput(
            "no_survey_recipient",
            f"{organization.name} has no active customer admin: choose a contact.",
            field="contact",
        )
    return admins


@transaction.atomic
def do_send_survey(
    organization: Organization, *, contact: Contact | None = None, actor: User | None
) -> list[PerceptionSurvey]:
    """Send the success-perception survey to ``contact``, or to every active customer
    admin of the organization when no contact is chosen: one survey per contact."""
    surveys = []
    for recipient in _recipients(organization, contact):
        survey = PerceptionSurvey(organization=organization, contact=recipient, sent_by=actor)
        save_validated(survey)
        sent = events.PerceptionSurveySent(survey=survey.pk, contact=recipient.pk)
        _record(sent, organization.pk, actor)
        _mail_survey(survey, recipient)
        surveys.append(survey)
    return surveys


def survey_link(survey: PerceptionSurvey) -> str:
    """The survey's link as the contact follows it (``RETAINER_BASE_URL``)."""
    path = reverse("success:survey_answer", args=[survey_token(survey)])
    return f"{settings.RETAINER_BASE_URL.rstrip('/')}{path}"


def _mail_survey(survey: PerceptionSurvey, contact: Contact) -> None:
    # The mail channel queues it in this transaction and sends it after commit (wired by
    # name: success and mail are siblings, docs/architecture.md).
    if not contact.email:
        return
    send = import_string(settings.RETAINER_SURVEY_SENDER)
    send(
        survey_id=survey.pk,
        to=contact.email,
        name=contact.full_name,
        organization_id=survey.organization_id,
        link=survey_link(survey),
        days=SURVEY_MAX_AGE.days,
    )


@transaction.atomic
def do_answer_survey(
    survey: PerceptionSurvey, *, answer: str, comment: str = "", actor: User | None
) -> PerceptionSurvey:
    """Record the contact's answer, once: a second answer is ``409 survey_answered``."""
    if answer not in Perception.values:
        raise ValidationError({"answer": "Choose positive, neutral or none/negative."})
    survey = PerceptionSurvey.objects.select_for_update().get(pk=survey.pk)
    if survey.is_answered:
        raise Conflict("survey_answered", "This survey was already answered. Thank you!")
    survey.answer, survey.comment = answer, _text(comment)
    survey.answered_at = timezone.now()
    save_validated(survey)
    answered = events.PerceptionSurveyAnswered(
        survey=survey.pk, contact=survey.contact_id, answer=answer
    )
    _record(answered, survey.organization_id, actor)
    return survey
