"""What a user may see of sales and onboarding: vendor staff holding the app's view
permissions (every staff role), never a customer contact. A customer, or an object that
does not exist, is a 404 alike.

Licenses and success plans are the exceptions: a customer contact sees their own
organization's. So are enrollments: a contact sees their own, a customer admin their
organization's."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.choices import ContactRole
from retainer.contracts.models import TrainingRecord
from retainer.success.models import (
    Course,
    Enrollment,
    Interaction,
    Lead,
    License,
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

M = TypeVar("M", bound=Model)


def _visible(user: Any, model: type[M]) -> QuerySet[M]:
    meta = model._meta
    if is_vendor_staff(user) and user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        return model._default_manager.all()
    return model._default_manager.none()


def _access(user: Any, model: type[M], pk: int) -> M:
    try:
        return _visible(user, model).get(pk=pk)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise Http404 from None


def leads_visible_to(user: Any) -> QuerySet[Lead]:
    return _visible(user, Lead)


def opportunities_visible_to(user: Any) -> QuerySet[Opportunity]:
    return _visible(user, Opportunity)


def interactions_visible_to(user: Any) -> QuerySet[Interaction]:
    return _visible(user, Interaction)


def onboarding_plans_visible_to(user: Any) -> QuerySet[OnboardingPlan]:
    return _visible(user, OnboardingPlan)


def stages_visible_to(user: Any) -> QuerySet[Stage]:
    return _visible(user, Stage)


def access_lead(user: Any, pk: int) -> Lead:
    return _access(user, Lead, pk)


def access_opportunity(user: Any, pk: int) -> Opportunity:
    return _access(user, Opportunity, pk)


def access_onboarding_plan(user: Any, pk: int) -> OnboardingPlan:
    return _access(user, OnboardingPlan, pk)


def access_onboarding_step(user: Any, pk: int) -> OnboardingStep:
    try:
        return OnboardingStep.objects.select_related("plan").get(
            pk=pk, plan__in=_visible(user, OnboardingPlan)
        )
    except OnboardingStep.DoesNotExist:
        raise Http404 from None


def access_stage(user: Any, pk: int) -> Stage:
    return _access(user, Stage, pk)


def licenses_visible_to(user: Any) -> QuerySet[License]:
    """Staff with ``success.view_license``: every license; a customer contact: their
    organization's; anyone else: none."""
    if is_vendor_staff(user):
        return _visible(user, License)
    contact = customer_contact(user)
    if contact is None:
        return License.objects.none()
    return License.objects.filter(organization_id=contact.organization_id)


def access_license(user: Any, pk: int) -> License:
    try:
        return licenses_visible_to(user).select_related("organization", "product").get(pk=pk)
    except License.DoesNotExist:
        raise Http404 from None


def success_plans_visible_to(user: Any) -> QuerySet[SuccessPlan]:
    """Staff with ``success.view_successplan``: every plan; a customer contact: their
    organization's; anyone else: none."""
    if is_vendor_staff(user):
        return _visible(user, SuccessPlan)
    contact = customer_contact(user)
    if contact is None:
        return SuccessPlan.objects.none()
    return SuccessPlan.objects.filter(organization_id=contact.organization_id)


def access_success_plan(user: Any, pk: int) -> SuccessPlan:
    try:
        return success_plans_visible_to(user).select_related("organization", "owner").get(pk=pk)
    except SuccessPlan.DoesNotExist:
        raise Http404 from None


def access_goal(user: Any, pk: int) -> SuccessGoal:
    """A goal, for staff who may read plans (customers read goals through their plan)."""
    try:
        return SuccessGoal.objects.select_related("plan__organization").get(
            pk=pk, plan__in=_visible(user, SuccessPlan)
        )
    except SuccessGoal.DoesNotExist:
        raise Http404 from None


def access_milestone(user: Any, pk: int) -> Milestone:
    try:
        return Milestone.objects.select_related("goal__plan__organization", "owner").get(
            pk=pk, goal__plan__in=_visible(user, SuccessPlan)
        )
    except Milestone.DoesNotExist:
        raise Http404 from None


def perception_surveys_visible_to(user: Any) -> QuerySet[PerceptionSurvey]:
    return _visible(user, PerceptionSurvey)


def courses_visible_to(user: Any) -> QuerySet[Course]:
    return _visible(user, Course)


def access_course(user: Any, pk: int) -> Course:
    try:
        return courses_visible_to(user).select_related("product").get(pk=pk)
    except Course.DoesNotExist:
        raise Http404 from None


def training_sessions_visible_to(user: Any) -> QuerySet[TrainingSession]:
    return _visible(user, TrainingSession)


def access_training_session(user: Any, pk: int) -> TrainingSession:
    try:
        return training_sessions_visible_to(user).select_related("course__product").get(pk=pk)
    except TrainingSession.DoesNotExist:
        raise Http404 from None


def enrollments_visible_to(user: Any) -> QuerySet[Enrollment]:
    """Staff with ``success.view_enrollment``: every enrollment; a customer admin: their
    organization's; another customer contact: their own; anyone else: none."""
    if is_vendor_staff(user):
        return _visible(user, Enrollment)
    contact = customer_contact(user)
    if contact is None:
        return Enrollment.objects.none()
    if contact.role == ContactRole.ADMIN:
        return Enrollment.objects.filter(contact__organization_id=contact.organization_id)
    return Enrollment.objects.filter(contact=contact)


def access_enrollment(user: Any, pk: int) -> Enrollment:
    try:
        return (
            enrollments_visible_to(user)
            .select_related("session__course", "contact__organization")
            .get(pk=pk)
        )
    except Enrollment.DoesNotExist:
        raise Http404 from None


def certificates_visible_to(user: Any) -> QuerySet[TrainingRecord]:
    """Training records: staff with ``contracts.view_trainingrecord``: every one; a
    customer admin: their organization's; another customer contact: their own."""
    if is_vendor_staff(user):
        if user.has_perm("contracts.view_trainingrecord"):
            return TrainingRecord.objects.all()
        return TrainingRecord.objects.none()
    contact = customer_contact(user)
    if contact is None:
        return TrainingRecord.objects.none()
    if contact.role == ContactRole.ADMIN:
        return TrainingRecord.objects.filter(contact__organization_id=contact.organization_id)
    return TrainingRecord.objects.filter(contact=contact)
