"""Training in the console (courses, their sessions, a session's enrollments: enroll a
contact by e-mail, mark completed, no-show or cancelled) and the portal's *Training*
page (the contact's enrollments and certificates, what their organization's trained-only
contracts require, and the next sessions of those courses).

Staff holding ``success.view_course`` read every page; the forms and buttons need the
write permissions of ``checks``. Mutations are POSTs that redirect back with a message;
a refused form re-renders its page with the errors (400).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import contact_required, staff_required
from retainer.lib.errors import DomainError, add_to_form
from retainer.success import actions, checks, selectors
from retainer.success.access import (
    access_course,
    access_enrollment,
    access_training_session,
    courses_visible_to,
    enrollments_visible_to,
    training_sessions_visible_to,
)
from retainer.success.forms import CompleteForm, CourseForm, EnrollForm, SessionForm
from retainer.success.models import Course, TrainingSession
from retainer.success.views import _done, _refused, _require, _valid

# --- Courses -----------------------------------------------------------------------------------


@require_safe
@staff_required
def course_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_view_training, user)
    courses = selectors.courses_for_list(courses=courses_visible_to(user))
    return render(request, "success/course_list.html", {"courses": courses})


def _course_form_page(request: HttpRequest, course: Course | None) -> HttpResponse:
    user = request_user(request)
    _require(lambda actor: checks.authorize_save_course(actor, course), user)
    initial: dict[str, Any] = {}
    if course is not None:
        initial = {name: getattr(course, name) for name in actions.COURSE_FIELDS}
    form = CourseForm(request.POST or None, initial=initial)
    if request.method == "POST":
        try:
            course = checks.check_save_course(user, course, **_valid(form))
        except (DomainError, ValidationError) as exc:
            if form.is_valid():
                add_to_form(form, exc)
        else:
            back = reverse("success:course_detail", args=[course.pk])
            return _done(request, back, f"Course saved: {course.name}.")
    context = {"form": form, "course": course}
    return render(request, "success/course_form.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def course_new(request: HttpRequest) -> HttpResponse:
    return _course_form_page(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def course_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _course_form_page(request, access_course(request_user(request), pk))


def _course_page(
    request: HttpRequest, course: Course, form: SessionForm | None = None
) -> HttpResponse:
    sessions = selectors.sessions_for_list(
        sessions=training_sessions_visible_to(request_user(request)).filter(course=course)
    ).order_by("-starts_at")
    context = {
        "course": course,
        "sessions": sessions,
        "form": form or SessionForm(),
        "now": timezone.now(),
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "success/course_detail.html", context, status=status)


@require_safe
@staff_required
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The course and its sessions, newest first, with the form to schedule one."""
    return _course_page(request, access_course(request_user(request), pk))


@require_POST
@staff_required
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    course = access_course(user, pk)
    _require(checks.authorize_schedule_session, user)
    form = SessionForm(request.POST)
    try:
        session = checks.check_schedule_session(user, course, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _course_page(request, course, form)
    back = reverse("success:session_detail", args=[session.pk])
    return _done(request, back, f"Session scheduled on {session.starts_at:%Y-%m-%d %H:%M} UTC.")


# --- Sessions and enrollments -----------------------------------------------------------------


def _session_page(
    request: HttpRequest, session: TrainingSession, form: EnrollForm | None = None
) -> HttpResponse:
    user = request_user(request)
    enrollments = selectors.enrollments_for_list(
        enrollments=enrollments_visible_to(user).filter(session=session)
    ).order_by("contact__full_name")
    (seated,) = selectors.sessions_for_list(sessions=TrainingSession.objects.filter(pk=session.pk))
    context = {
        "session": seated,
        "enrollments": enrollments,
        "form": form or EnrollForm(),
        "complete_form": CompleteForm(),
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "success/session_detail.html", context, status=status)


@require_safe
@staff_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _session_page(request, access_training_session(request_user(request), pk))


@require_POST
@staff_required
def enrollment_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Enroll a contact by e-mail; a full session, an unknown address or a contact
    already enrolled re-renders the page with the reason beside the field (400)."""
    user = request_user(request)
    session = access_training_session(user, pk)
    _require(checks.authorize_enroll, user)
    form = EnrollForm(request.POST)
    try:
        enrollment = checks.check_enroll_contact(user, session, **_valid(form))
    except (DomainError, ValidationError) as exc:
        if form.is_valid():
            add_to_form(form, exc)
        return _session_page(request, session, form)
    back = reverse("success:session_detail", args=[session.pk])
    return _done(request, back, f"{enrollment.contact.full_name} is enrolled.")


def _change_enrollment(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    user = request_user(request)
    enrollment = access_enrollment(user, pk)
    back = reverse("success:session_detail", args=[enrollment.session_id])
    try:
        checks.authorize_change_enrollment(user)
        if change == "complete":
            values = _valid(CompleteForm(request.POST))
            enrollment = checks.check_complete_enrollment(user, enrollment, **values)
        elif change == "no_show":
            enrollment = checks.check_mark_no_show(user, enrollment)
        else:
            enrollment = checks.check_cancel_enrollment(user, enrollment)
    except (DomainError, ValidationError) as exc:
        return _refused(request, back, exc)
    state = enrollment.get_status_display().lower()
    return _done(request, back, f"{enrollment.contact.full_name}: {state}.")


@require_POST
@staff_required
def enrollment_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark completed: writes or renews the contact's training record of the course."""
    return _change_enrollment(request, pk, "complete")


@require_POST
@staff_required
def enrollment_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_enrollment(request, pk, "no_show")


@require_POST
@staff_required
def enrollment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_enrollment(request, pk, "cancel")


# --- The portal --------------------------------------------------------------------------------


@require_safe
@contact_required
def portal_training(request: HttpRequest) -> HttpResponse:
    """The contact's trainings and certificates, and what their organization's plans
    require; a customer admin also sees their colleagues' enrollments."""
    user = request_user(request)
    contact = request.contact  # type: ignore[attr-defined]
    view = selectors.training_for_contact(contact=contact, enrollments=enrollments_visible_to(user))
    context = {"organization": contact.organization, "contact": contact, "view": view}
    return render(request, "success/training_portal.html", context)
