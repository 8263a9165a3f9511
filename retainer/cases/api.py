"""REST API for cases. Staff and customers use the same endpoints; customers are scoped
to their organization, see a smaller output shape, and may not set agent-only fields."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.cases import actions, selectors
from retainer.cases.access import (
    access_attachment,
    access_case,
    access_defect,
    access_time_entry,
    attachments_visible_to,
    cases_visible_to,
    messages_visible_to,
)
from retainer.cases.filters import CaseFilter
from retainer.cases.models import Case, Defect
from retainer.cases.serializers import (
    AttachmentIn,
    AttachmentOut,
    AttachmentStaffOut,
    CaseCreateIn,
    CaseCreateStaffIn,
    CaseCustomerOut,
    CaseOverrideIn,
    CaseStaffOut,
    CaseUpdateIn,
    CsatIn,
    CsatOut,
    DefectIn,
    DefectOut,
    EventOut,
    FixReleaseIn,
    LinkDefectIn,
    MessageIn,
    MessageOut,
    MessageStaffOut,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryUpdateIn,
    TransitionIn,
)
from retainer.contracts.choices import Channel
from retainer.lib.api import ApiError, domain_errors, require_perm, validated
from retainer.lib.auth import request_user
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from retainer.lib.uploads import StoredFile, UploadRejected, download_response


def _case_errors(call: Any) -> Any:
    with domain_errors(actions.CaseError):
        return call()


def case_out(user: Any, case: Case) -> dict[str, Any]:
    serializer = CaseStaffOut if is_vendor_staff(user) else CaseCustomerOut
    return dict(serializer(case).data)


class CaseList(generics.ListAPIView):
    queryset = Case.objects.none()  # per user, in get_queryset
    filterset_class = CaseFilter

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return CaseStaffOut if is_vendor_staff(self.request.user) else CaseCustomerOut

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.cases_for_list(
            cases_visible_to(request_user(self.request))
        ).select_related("decision")

    @extend_schema(
        request=CaseCreateStaffIn, responses={201: CaseStaffOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = request_user(request)
        plan = getattr(request, "prepared", None) or self.prepare_post(request)
        case = actions.do_open_case(plan=plan, actor=user)
        return Response(case_out(user, case), status=status.HTTP_201_CREATED)

    def prepare_post(self, request: Request) -> actions.IntakePlan:
        """Validate and decide before the write transaction (reads only)."""
        user = request_user(request)
        if is_vendor_staff(user):
            require_perm(user, "cases.add_case")
            values = validated(CaseCreateStaffIn, request.data)
            values.setdefault("channel", Channel.PHONE)
        else:
            contact = customer_contact(user)
            if contact is None:
                raise Http404
            values = validated(CaseCreateIn, request.data)
            values.update(contact=contact, channel=Channel.API)
        return actions.plan_intake(**values, actor=user)


class CaseDetail(APIView):
    @extend_schema(responses=CaseStaffOut)
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        return Response(case_out(user, access_case(user, public_id)))

    @extend_schema(request=CaseUpdateIn, responses=CaseStaffOut)
    def patch(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        if not is_vendor_staff(user):
            raise ApiError(
                "staff_only", "Only the support team changes these fields.", status_code=403
            )
        values = validated(CaseUpdateIn, request.data, partial=True)
        case = actions.do_update_case(case, actor=user, **values)
        return Response(case_out(user, case))


class CaseTransition(APIView):
    @extend_schema(request=TransitionIn, responses=CaseStaffOut)
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(TransitionIn, request.data)
        case = _case_errors(
            lambda: actions.do_transition_case(
                case,
                values["status"],
                root_cause=values.get("root_cause", ""),
                by_customer=not is_vendor_staff(user),
                actor=user,
            )
        )
        return Response(case_out(user, case))


class CaseOverride(APIView):
    @extend_schema(request=CaseOverrideIn, responses=CaseStaffOut)
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        require_perm(user, "contracts.override_entitlementdecision")
        case = access_case(user, public_id, for_write=True)
        values = validated(CaseOverrideIn, request.data)
        case = _case_errors(
            lambda: actions.do_override_case_decision(
                case,
                outcome=values["outcome"],
                contract=values.get("contract"),
                reason=values["reason"],
                actor=user,
            )
        )
        return Response(case_out(user, selectors.case_for_detail(case)))


class CaseEvents(APIView):
    """The case's timeline; customers see only what concerns them (no internal events)."""

    @extend_schema(responses=EventOut(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        events = selectors.events_for_case(case=case, include_internal=is_vendor_staff(user))
        return Response(EventOut(events, many=True).data)


class CaseMessages(APIView):
    @extend_schema(responses=MessageStaffOut(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        serializer = MessageStaffOut if is_vendor_staff(user) else MessageOut
        return Response(serializer(messages_visible_to(user, case), many=True).data)

    @extend_schema(
        request=MessageIn, responses={201: MessageStaffOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(MessageIn, request.data)
        if values["internal"] and not is_vendor_staff(user):
            raise ApiError("field_not_allowed", "Customers cannot write internal notes.")
        message = _case_errors(
            lambda: actions.do_add_message(
                case, author=user, body=values["body"], internal=values["internal"]
            )
        )
        serializer = MessageStaffOut if is_vendor_staff(user) else MessageOut
        return Response(serializer(message).data, status=status.HTTP_201_CREATED)


class CaseAttachments(APIView):
    """Files on a case: upload (multipart ``file``), list; download through the next view."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=AttachmentStaffOut(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        serializer = AttachmentStaffOut if is_vendor_staff(user) else AttachmentOut
        return Response(serializer(attachments_visible_to(user, case), many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentIn}, responses={201: AttachmentStaffOut}
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(AttachmentIn, request.data)
        if values["internal"] and not is_vendor_staff(user):
            raise ApiError("field_not_allowed", "Customers cannot add internal files.")
        upload = values["file"]
        try:
            attachment = _case_errors(
                lambda: actions.do_add_attachment(
                    case,
                    upload=upload,
                    name=upload.name or "file",
                    uploaded_by=user,
                    internal=values["internal"],
                )
            )
        except UploadRejected as exc:
            code = (
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                if exc.code == UploadRejected.TOO_LARGE
                else 400
            )
            raise ApiError(exc.code, exc.detail, status_code=code) from None
        serializer = AttachmentStaffOut if is_vendor_staff(user) else AttachmentOut
        return Response(serializer(attachment).data, status=status.HTTP_201_CREATED)


class CaseAttachmentDownload(APIView):
    """Downloads only through here: access checked, always ``attachment``, ``nosniff``."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, public_id: str, pk: int) -> FileResponse:
        user = request_user(request)
        attachment = access_attachment(user, access_case(user, public_id), pk)
        stored = StoredFile(
            storage_name=attachment.storage_name,
            size=attachment.size,
            sha256=attachment.sha256,
            content_type=attachment.content_type,
            safe_name=attachment.display_name,
        )
        return download_response(stored, display_name=attachment.display_name)


def _staff_case(request: Request, public_id: str, *perms: str) -> tuple[Any, Case]:
    user = request_user(request)
    if not is_vendor_staff(user):
        raise Http404  # customers never learn time entries exist
    if perms:
        require_perm(user, *perms)
    return user, access_case(user, public_id, for_write=bool(perms))


class CaseTimeEntries(APIView):
    @extend_schema(responses=TimeEntryOut(many=True))
    def get(self, request: Request, public_id: str) -> Response:
        _, case = _staff_case(request, public_id)
        return Response(TimeEntryOut(selectors.time_entries_for_case(case=case), many=True).data)

    @extend_schema(
        request=TimeEntryIn, responses={201: TimeEntryOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        user, case = _staff_case(request, public_id, "cases.add_timeentry")
        values = validated(TimeEntryIn, request.data)
        entry = actions.do_log_time(case, agent=user, actor=user, **values)
        return Response(TimeEntryOut(entry).data, status=status.HTTP_201_CREATED)


class CaseTimeEntryDetail(APIView):
    @extend_schema(request=TimeEntryUpdateIn, responses=TimeEntryOut)
    def patch(self, request: Request, public_id: str, pk: int) -> Response:
        user, case = _staff_case(request, public_id, "cases.change_timeentry")
        entry = access_time_entry(user, case, pk)
        values = validated(TimeEntryUpdateIn, request.data, partial=True)
        entry = _case_errors(lambda: actions.do_update_time_entry(entry, actor=user, **values))
        return Response(TimeEntryOut(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, public_id: str, pk: int) -> Response:
        user, case = _staff_case(request, public_id, "cases.change_timeentry")
        entry = access_time_entry(user, case, pk)
        actions.do_delete_time_entry(entry, actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseDefectLink(APIView):
    @extend_schema(request=LinkDefectIn, responses=CaseStaffOut)
    def post(self, request: Request, public_id: str) -> Response:
        user, case = _staff_case(request, public_id, "cases.change_case")
        values = validated(LinkDefectIn, request.data)
        case = actions.do_link_defect(case, values["defect"], actor=user)
        return Response(case_out(user, case))


class DefectList(generics.ListAPIView):
    queryset = Defect.objects.none()
    serializer_class = DefectOut
    filterset_fields = ["product", "status"]

    def get_queryset(self) -> QuerySet[Defect]:
        if not is_vendor_staff(request_user(self.request)):
            raise Http404
        return Defect.objects.prefetch_related("affected_releases").order_by("-id")

    @extend_schema(request=DefectIn, responses={201: DefectOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request) -> Response:
        user = request_user(request)
        require_perm(user, "cases.add_defect")
        values = validated(DefectIn, request.data)
        defect = actions.do_create_defect(**values, actor=user)
        return Response(DefectOut(defect).data, status=status.HTTP_201_CREATED)


class DefectDetail(APIView):
    @extend_schema(responses=DefectOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(DefectOut(access_defect(request_user(request), pk)).data)


class DefectFixRelease(APIView):
    @extend_schema(request=FixReleaseIn, responses=DefectOut)
    def post(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        defect = access_defect(user, pk)
        require_perm(user, "cases.change_defect")
        values = validated(FixReleaseIn, request.data)
        contacts = actions.do_set_defect_fix_release(defect, values["release"], actor=user)
        body = dict(DefectOut(defect).data)
        body["notify"] = [
            {"id": c.pk, "email": c.email, "full_name": c.full_name} for c in contacts
        ]
        return Response(body)


class CaseCsat(APIView):
    """The requester's organization answers the survey of a resolved case."""

    @extend_schema(request=CsatIn, responses={201: CsatOut})
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        if is_vendor_staff(user):
            raise ApiError(
                "customers_only", "The survey is answered by the customer.", status_code=403
            )
        values = validated(CsatIn, request.data)
        response = _case_errors(lambda: actions.do_answer_csat(case, actor=user, **values))
        return Response(CsatOut(response).data, status=status.HTTP_201_CREATED)


class CsatByToken(APIView):
    """The survey through the signed link in the resolution e-mail: no sign-in needed."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(request=CsatIn, responses={201: CsatOut})
    def post(self, request: Request, token: str) -> Response:
        values = validated(CsatIn, request.data)
        response = _case_errors(
            lambda: actions.do_answer_csat(actions.case_for_csat_token(token), actor=None, **values)
        )
        return Response(CsatOut(response).data, status=status.HTTP_201_CREATED)
