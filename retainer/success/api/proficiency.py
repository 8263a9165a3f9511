"""REST API of training: courses, their sessions, enrollments (enroll by e-mail,
complete, no-show, cancel) and certificates (the training records completions write).

Staff holding ``success.view_*`` read courses and sessions; writes go through
``success.checks`` (the permission, before the body is read; then the action) and
creates honour ``Idempotency-Key``. A customer contact reads their own enrollments and
certificates (a customer admin: their organization's); another organization's are 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import request_user
from retainer.contracts.models import TrainingRecord
from retainer.lib.api import require_perm, validated
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from retainer.success import checks, selectors
from retainer.success.access import (
    access_course,
    access_enrollment,
    access_training_session,
    certificates_visible_to,
    courses_visible_to,
    enrollments_visible_to,
    training_sessions_visible_to,
)
from retainer.success.models import Course, Enrollment, TrainingSession
from retainer.success.serializers import (
    CertificateOut,
    CompleteIn,
    CourseIn,
    CourseOut,
    EnrollIn,
    EnrollmentOut,
    TrainingSessionIn,
    TrainingSessionOut,
)


def _created(data: Any) -> Response:
    return Response(data, status=status.HTTP_201_CREATED)


def _session_body(session: TrainingSession) -> Any:
    (row,) = selectors.sessions_for_list(sessions=TrainingSession.objects.filter(pk=session.pk))
    return TrainingSessionOut(row).data


def _enrollment_body(enrollment: Enrollment) -> Any:
    row = selectors.enrollments_for_list(enrollments=Enrollment.objects.filter(pk=enrollment.pk))
    return EnrollmentOut(row.get()).data


class CourseList(generics.ListAPIView):
    queryset = Course.objects.none()  # the real one depends on the user
    serializer_class = CourseOut

    def get_queryset(self) -> QuerySet[Course]:
        require_perm(self.request.user, "success.view_course")
        return courses_visible_to(request_user(self.request)).select_related("product")

    @extend_schema(request=CourseIn, responses={201: CourseOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_save_course(actor, None)
        course = checks.check_save_course(actor, None, **validated(CourseIn, request.data))
        return _created(CourseOut(course).data)


class CourseDetail(APIView):
    @extend_schema(responses=CourseOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_course")
        return Response(CourseOut(access_course(request_user(request), pk)).data)

    @extend_schema(
        request=CourseIn,
        responses=CourseOut,
        description="A course with completions keeps its name (409 `course_has_completions`).",
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        require_perm(actor, "success.view_course")
        course = access_course(actor, pk)
        checks.authorize_save_course(actor, course)
        values = validated(CourseIn, request.data, partial=True)
        return Response(CourseOut(checks.check_save_course(actor, course, **values)).data)


class TrainingSessionList(generics.ListAPIView):
    queryset = TrainingSession.objects.none()  # the real one depends on the user
    serializer_class = TrainingSessionOut
    filterset_fields = ["course"]

    def get_queryset(self) -> QuerySet[TrainingSession]:
        require_perm(self.request.user, "success.view_trainingsession")
        sessions = training_sessions_visible_to(request_user(self.request))
        return selectors.sessions_for_list(sessions=sessions).order_by("starts_at", "id")

    @extend_schema(
        request=TrainingSessionIn,
        responses={201: TrainingSessionOut},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="A capacity below 1 is a 400 beside `capacity`; a session needs a "
        "`location` or an `online_link`.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_schedule_session(actor)
        values = validated(TrainingSessionIn, request.data)
        course = values.pop("course")
        return _created(_session_body(checks.check_schedule_session(actor, course, **values)))


class TrainingSessionDetail(APIView):
    @extend_schema(responses=TrainingSessionOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "success.view_trainingsession")
        return Response(_session_body(access_training_session(request_user(request), pk)))


class TrainingSessionEnroll(APIView):
    @extend_schema(
        request=EnrollIn,
        responses={201: EnrollmentOut},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Enroll the active contact with this e-mail address. A full session is "
        "409 `session_full`; a contact already enrolled is 409 `already_enrolled`.",
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_enroll(actor)
        session = access_training_session(actor, pk)
        enrollment = checks.check_enroll_contact(
            actor, session, **validated(EnrollIn, request.data)
        )
        return _created(_enrollment_body(enrollment))


class EnrollmentList(generics.ListAPIView):
    queryset = Enrollment.objects.none()  # the real one depends on the user
    serializer_class = EnrollmentOut
    filterset_fields = ["session", "contact", "status"]

    @extend_schema(
        description="Staff with `success.view_enrollment`: every enrollment; a customer "
        "admin: their organization's; another customer contact: their own."
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Enrollment]:
        enrollments = enrollments_visible_to(request_user(self.request))
        return selectors.enrollments_for_list(enrollments=enrollments).order_by("-id")


class EnrollmentDetail(APIView):
    @extend_schema(responses=EnrollmentOut)
    def get(self, request: Request, pk: int) -> Response:
        """Another organization's enrollment is a 404."""
        return Response(_enrollment_body(access_enrollment(request_user(request), pk)))


class EnrollmentComplete(APIView):
    @extend_schema(
        request=CompleteIn,
        responses=EnrollmentOut,
        description="Writes or renews the contact's training record of the course, valid "
        "for the course's validity. A cancelled enrollment is 409 `enrollment_cancelled`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_enrollment(actor)
        enrollment = access_enrollment(actor, pk)
        values = validated(CompleteIn, request.data)
        done = checks.check_complete_enrollment(actor, enrollment, **values)
        return Response(_enrollment_body(done))


class EnrollmentNoShow(APIView):
    @extend_schema(request=None, responses=EnrollmentOut)
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_enrollment(actor)
        enrollment = access_enrollment(actor, pk)
        return Response(_enrollment_body(checks.check_mark_no_show(actor, enrollment)))


class EnrollmentCancel(APIView):
    @extend_schema(
        request=None,
        responses=EnrollmentOut,
        description="Frees the seat; a completed enrollment is 409 `enrollment_completed`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_enrollment(actor)
        enrollment = access_enrollment(actor, pk)
        return Response(_enrollment_body(checks.check_cancel_enrollment(actor, enrollment)))


class CertificateList(generics.ListAPIView):
    queryset = TrainingRecord.objects.none()  # the real one depends on the user
    serializer_class = CertificateOut
    filterset_fields = ["contact"]

    @extend_schema(
        description="Training records with `current` (whether they count today). Staff with "
        "`contracts.view_trainingrecord`: every one; a customer admin: their "
        "organization's; another customer contact: their own."
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[TrainingRecord]:
        records = certificates_visible_to(request_user(self.request))
        return records.select_related("contact").order_by("course", "id")
