"""Proficiency: courses, their sessions and the contacts enrolled in them. Completing an
enrollment writes, or renews, the contact's training record of the course through
``contracts.actions.do_certify_training``, valid for the course's ``validity_months``
(0: for ever); trained-only plans read those records. Each action is atomic, validates
before it writes and records its typed event with its outbox message. Who may call
which is ``success/checks.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from retainer.accounts.models import Contact, User
from retainer.catalog.models import Product
from retainer.contracts import actions as contract_actions
from retainer.contracts.models import TrainingRecord
from retainer.contracts.terms import add_months
from retainer.lib.errors import Conflict
from retainer.lib.events import record
from retainer.lib.models import apply_changes, save_validated
from retainer.lib.sanitize import clean_line
from retainer.success import events
from retainer.success.choices import SEATED_STATUSES, EnrollmentStatus
from retainer.success.models import Course, Enrollment, SuccessEvent, TrainingSession

__all__ = [
    "COURSE_FIELDS",
    "certificate_number",
    "do_cancel_enrollment",
    "do_complete_enrollment",
    "do_enroll_contact",
    "do_mark_no_show",
    "do_save_course",
    "do_schedule_session",
    "expiry_for",
    "seats_taken",
]

COURSE_FIELDS = ("product", "name", "level", "duration_hours", "validity_months", "is_active")


def _record(event: events.SuccessEventBase, organization_id: int | None, actor: User | None):
    record(SuccessEvent, event, organization_id=organization_id, actor=actor)


def expiry_for(course: Course, completed_on: dt.date) -> dt.date | None:
    """The first day a completion of ``course`` on ``completed_on`` no longer counts."""
    if course.validity_months == 0:
        return None
    return add_months(completed_on, course.validity_months)


def certificate_number(enrollment: Enrollment) -> str:
    """The certificate number a completion issues: stable per enrollment."""
    return f"CERT-{enrollment.session.course_id:04d}-{enrollment.pk:06d}"


def seats_taken(session: TrainingSession) -> int:
    return session.enrollments.filter(status__in=SEATED_STATUSES).count()


@transaction.atomic
def do_save_course(course: Course | None, *, actor: User | None, **values: Any) -> Course:
    """Add a course (``course=None``) or change one (``COURSE_FIELDS``). A course that has
    completions keeps its name: the training records and trained-only plans carry it."""
    if isinstance(values.get("name"), str):
        values["name"] = clean_line(values["name"])
    product = values.get("product")
    if isinstance(product, Product) and not product.is_active and course is None:
        raise ValidationError({"product": "Choose an active product."})
    created = course is None
    if course is None:
        course = Course(**values)
        diff: dict[str, dict[str, Any]] = {}
    else:
        course = Course.objects.select_for_update().get(pk=course.pk)
        diff = apply_changes(course, values, allowed=COURSE_FIELDS)
        if not diff:
            return course
        completed = course.sessions.filter(enrollments__status=EnrollmentStatus.COMPLETED)
        if "name" in diff and completed.exists():
            raise Conflict(
                "course_has_completions",
                "This course has completions on record under its name: it cannot be renamed.",
                field="name",
            )
    save_validated(course)
    diff = {name: {k: str(v) for k, v in change.items()} for name, change in diff.items()}
    saved = events.CourseSaved(course=course.pk, title=course.name, created=created, changes=diff)
    _record(saved, None, actor)
    return course


@transaction.atomic
def do_schedule_session(
    course: Course,
    *,
    starts_at: dt.datetime,
    capacity: int,
    location: str = "",
    online_link: str = "",
    actor: User | None,
) -> TrainingSession:
    """Schedule a session of an active course for ``capacity`` contacts (at least 1), at
    ``location`` or at ``online_link`` (one of them at least)."""
    if not course.is_active:
        raise Conflict("course_inactive", f"{course.name} is no longer offered.", field="course")
    session = TrainingSession(
        course=course,
        starts_at=starts_at,
        capacity=capacity,
        location=clean_line(location),
        online_link=online_link.strip(),
    )
    save_validated(session)
    scheduled = events.TrainingSessionScheduled(
        course=course.pk,
        session=session.pk,
        starts_at=starts_at.isoformat(),
        capacity=capacity,
    )
    _record(scheduled, None, actor)
    return session


def _lock_session(session: TrainingSession) -> TrainingSession:
    return TrainingSession.objects.select_for_update().select_related("course").get(pk=session.pk)


@transaction.atomic
def do_enroll_contact(
    session: TrainingSession, *, contact: Contact, actor: User | None
) -> Enrollment:
    """Give ``contact`` a seat in ``session`` (on the locked session row, so two
    enrollments never take the last seat twice). A full session is ``409 session_full``;
    a contact already enrolled is ``409 already_enrolled``; a cancelled enrollment of the
    same contact is taken up again."""
    session = _lock_session(session)
    if not contact.is_active:
        raise ValidationError({"contact": "Choose an active contact."})
    existing = Enrollment.objects.filter(session=session, contact=contact).first()
    if existing is not None and existing.status != EnrollmentStatus.CANCELLED:
        raise Conflict(
            "already_enrolled",
            f"{contact.full_name} is already enrolled in this session.",
            field="email",
        )
    if seats_taken(session) >= session.capacity:
        raise Conflict(
            "session_full", f"This session is full ({session.capacity} seats).", field="email"
        )
    enrollment = existing or Enrollment(session=session, contact=contact)
    enrollment.status = EnrollmentStatus.ENROLLED
    save_validated(enrollment)
    enrolled = events.ContactEnrolled(
        enrollment=enrollment.pk,
        session=session.pk,
        contact=contact.pk,
        course_name=session.course.name,
    )
    _record(enrolled, contact.organization_id, actor)
    return enrollment


def _lock_enrollment(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update()
        .select_related("session__course", "contact")
        .get(pk=enrollment.pk)
    )


@transaction.atomic
def do_cancel_enrollment(enrollment: Enrollment, *, actor: User | None) -> Enrollment:
    """Cancel an enrollment, freeing its seat; a completed one is ``409
    enrollment_completed`` (its training record stands); cancelling again changes nothing."""
    enrollment = _lock_enrollment(enrollment)
    if enrollment.status == EnrollmentStatus.CANCELLED:
        return enrollment
    if enrollment.status == EnrollmentStatus.COMPLETED:
        raise Conflict("enrollment_completed", "A completed enrollment cannot be cancelled.")
    enrollment.status = EnrollmentStatus.CANCELLED
    save_validated(enrollment)
    cancelled = events.EnrollmentCancelled(
        enrollment=enrollment.pk,
        contact=enrollment.contact_id,
        course_name=enrollment.session.course.name,
    )
    _record(cancelled, enrollment.contact.organization_id, actor)
    return enrollment


@transaction.atomic
def do_mark_no_show(enrollment: Enrollment, *, actor: User | None) -> Enrollment:
    """Record that the contact did not attend; only an enrollment still ``enrolled``."""
    enrollment = _lock_enrollment(enrollment)
    if enrollment.status == EnrollmentStatus.NO_SHOW:
        return enrollment
    if enrollment.status != EnrollmentStatus.ENROLLED:
        raise Conflict(
            f"enrollment_{enrollment.status}",
            f"This enrollment is {enrollment.get_status_display().lower()}: "
            "it cannot be marked as a no-show.",
        )
    enrollment.status = EnrollmentStatus.NO_SHOW
    save_validated(enrollment)
    no_show = events.EnrollmentNoShow(
        enrollment=enrollment.pk,
        contact=enrollment.contact_id,
        course_name=enrollment.session.course.name,
    )
    _record(no_show, enrollment.contact.organization_id, actor)
    return enrollment


@transaction.atomic
def do_complete_enrollment(
    enrollment: Enrollment, *, completed_on: dt.date | None = None, actor: User | None
) -> TrainingRecord:
    """Mark the enrollment completed on ``completed_on`` (default: the session's day; not
    in the future) and write or renew the contact's training record of the course,
    valid until ``expiry_for``. A cancelled enrollment is ``409 enrollment_cancelled``;
    completing it again changes nothing and returns the record."""
    enrollment = _lock_enrollment(enrollment)
    course = enrollment.session.course
    if enrollment.status == EnrollmentStatus.CANCELLED:
        raise Conflict(
            "enrollment_cancelled", "This enrollment was cancelled: it cannot be completed."
        )
    day = completed_on or min(enrollment.session.starts_at.date(), timezone.localdate())
    if enrollment.status == EnrollmentStatus.COMPLETED and enrollment.completed_on is not None:
        return TrainingRecord.objects.get(contact=enrollment.contact, course__iexact=course.name)
    if day > timezone.localdate():
        raise ValidationError({"completed_on": "A training cannot be completed in the future."})
    enrollment.status, enrollment.completed_on = EnrollmentStatus.COMPLETED, day
    save_validated(enrollment)
    expires_on = expiry_for(course, day)
    training = contract_actions.do_certify_training(
        contact=enrollment.contact,
        course=course.name,
        completed_on=day,
        expires_on=expires_on,
        certificate=certificate_number(enrollment),
        actor=actor,
    )
    completed = events.EnrollmentCompleted(
        enrollment=enrollment.pk,
        contact=enrollment.contact_id,
        course_name=course.name,
        completed_on=day.isoformat(),
        expires_on=expires_on.isoformat() if expires_on is not None else None,
        training_record=training.pk,
    )
    _record(completed, enrollment.contact.organization_id, actor)
    return training
