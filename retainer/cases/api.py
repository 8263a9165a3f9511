"""REST API for cases. Staff and customers use the same endpoints; customers are scoped
to their organization, see a smaller output shape, and may not set agent-only fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import is_vendor_staff, request_user
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
from retainer.cases.search import search_cases
from retainer.cases.serializers import (
    AttachmentIn,
    AttachmentOut,
    AttachmentStaffOut,
    CaseCreateIn,
    CaseCreateStaffIn,
    CaseCustomerOut,
    CaseOverrideIn,
    CaseSearchIn,
    CaseSearchOut,
    CaseStaffOut,
    CaseUpdateIn,
    CsatIn,
    CsatOut,
    CustomerEventOut,
    DefectIn,
    DefectOut,
    FixReleaseIn,
    LinkDefectIn,
    MessageIn,
    MessageOut,
    MessageStaffOut,
    StaffEventOut,
    TimeEntryIn,
    TimeEntryOut,
    TimeEntryUpdateIn,
    TransitionIn,
)
from retainer.contracts.choices import Channel
from retainer.lib.api import by_audience, require_perm, validated
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from retainer.lib.uploads import StoredFile, download_response


def case_out(user: Any, case: Case) -> dict[str, Any]:
    """One case's answer (detail, create, changes): an out-of-scope decision carries its
    offered service (``decision.offering``, the decision preview's ``OfferingBrief``)."""
    serializer = CaseStaffOut if is_vendor_staff(user) else CaseCustomerOut
    return dict(serializer(case, context={"with_offering": True}).data)


class CaseSearch(APIView):
    """Case search (``cases.search.search_cases``): the cases the caller may see, best
    first, with highlighted snippets; customers never match through an internal note. A
    query over 500 characters is a 400 ``query_too_long``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=False, description="Words or a reference."),
            OpenApiParameter("limit", int, required=False, description="1–50, default 10."),
        ],
        responses=CaseSearchOut,
    )
    def get(self, request: Request) -> Response:
        params = validated(CaseSearchIn, request.query_params.dict(), refuse_unknown=False)
        hits = search_cases(request_user(request), params["q"], limit=params["limit"])
        return Response(CaseSearchOut({"query": params["q"], "results": hits}).data)


@extend_schema_view(get=extend_schema(responses=by_audience(CaseStaffOut, CaseCustomerOut)))
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
        request=CaseCreateStaffIn,
        responses={201: by_audience(CaseStaffOut, CaseCustomerOut)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = request_user(request)
        plan = getattr(request, "prepared", None) or self.prepare_post(request)
        case = actions.do_open_case(plan, actor=user)
        return Response(case_out(user, case), status=status.HTTP_201_CREATED)

    def prepare_post(self, request: Request) -> actions.IntakePlan:
        """Authorize, validate and decide before the write transaction (reads only)."""
        user = request_user(request)
        actions.authorize_open_case(user)
        if is_vendor_staff(user):
            values = validated(CaseCreateStaffIn, request.data)
            values.setdefault("channel", Channel.PHONE)
        else:
            values = validated(CaseCreateIn, request.data)
            values["channel"] = Channel.API
        return actions.plan_open_case(user, **values)


class CaseDetail(APIView):
    @extend_schema(responses=by_audience(CaseStaffOut, CaseCustomerOut))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        return Response(case_out(user, access_case(user, public_id)))

    @extend_schema(request=CaseUpdateIn, responses=CaseStaffOut)
    def patch(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        actions.authorize_update_case(user)
        values = validated(CaseUpdateIn, request.data, partial=True)
        case = actions.check_update_case(user, case, **values)
        return Response(case_out(user, case))


class CaseTransition(APIView):
    @extend_schema(request=TransitionIn, responses=by_audience(CaseStaffOut, CaseCustomerOut))
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(TransitionIn, request.data)
        case = actions.check_transition_case(
            user, case, status=values["status"], root_cause=values.get("root_cause", "")
        )
        return Response(case_out(user, case))


class CaseOverride(APIView):
    @extend_schema(request=CaseOverrideIn, responses=CaseStaffOut)
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        actions.authorize_override_decision(user)
        # Overriding is not changing the case: billing overrides without cases.change_case.
        case = access_case(user, public_id)
        values = validated(CaseOverrideIn, request.data)
        case = actions.check_override_decision(
            user,
            case,
            outcome=values["outcome"],
            contract=values.get("contract"),
            reason=values["reason"],
        )
        return Response(case_out(user, selectors.case_for_detail(case)))


class CaseEvents(APIView):
    """The case's timeline. Customers get ``CustomerEventOut``: no internal row, and of
    each event only its type's ``customer_fields``."""

    @extend_schema(responses=by_audience(StaffEventOut, CustomerEventOut, many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        staff = is_vendor_staff(user)
        events = selectors.events_for_case(case=case, include_internal=staff)
        serializer = StaffEventOut if staff else CustomerEventOut
        return Response(serializer(events, many=True).data)


class CaseMessages(APIView):
    @extend_schema(responses=by_audience(MessageStaffOut, MessageOut, many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        serializer = MessageStaffOut if is_vendor_staff(user) else MessageOut
        return Response(serializer(messages_visible_to(user, case), many=True).data)

    @extend_schema(
        request=MessageIn,
        responses={201: by_audience(MessageStaffOut, MessageOut)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(MessageIn, request.data)
        reply = actions.check_reply(user, case, body=values["body"], internal=values["internal"])
        serializer = MessageStaffOut if is_vendor_staff(user) else MessageOut
        return Response(serializer(reply.message).data, status=status.HTTP_201_CREATED)


class CaseAttachments(APIView):
    """Files on a case: upload (multipart ``file``), list; download through the next view."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=by_audience(AttachmentStaffOut, AttachmentOut, many=True))
    def get(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id)
        serializer = AttachmentStaffOut if is_vendor_staff(user) else AttachmentOut
        return Response(serializer(attachments_visible_to(user, case), many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentIn},
        responses={201: by_audience(AttachmentStaffOut, AttachmentOut)},
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        case = access_case(user, public_id, for_write=True)
        values = validated(AttachmentIn, request.data)
        reply = actions.check_reply(user, case, internal=values["internal"], upload=values["file"])
        serializer = AttachmentStaffOut if is_vendor_staff(user) else AttachmentOut
        return Response(serializer(reply.attachment).data, status=status.HTTP_201_CREATED)


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


def _staff_case(
    request: Request, public_id: str, authorize: Callable[[Any], None] | None = None
) -> tuple[Any, Case]:
    """A staff-only case route: customers get a 404 (they never learn time entries
    exist); the operation's ``authorize`` refuses staff without its permission (403)
    before the case is looked up, and is the only permission asked (as on the console)."""
    user = request_user(request)
    if not is_vendor_staff(user):
        raise Http404
    if authorize is not None:
        authorize(user)
    return user, access_case(user, public_id)


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
        user, case = _staff_case(request, public_id, actions.authorize_log_time)
        values = validated(TimeEntryIn, request.data)
        entry = actions.check_log_time(user, case, **values)
        return Response(TimeEntryOut(entry).data, status=status.HTTP_201_CREATED)


class CaseTimeEntryDetail(APIView):
    @extend_schema(request=TimeEntryUpdateIn, responses=TimeEntryOut)
    def patch(self, request: Request, public_id: str, pk: int) -> Response:
        user, case = _staff_case(request, public_id, actions.authorize_change_time)
        entry = access_time_entry(user, case, pk)
        values = validated(TimeEntryUpdateIn, request.data, partial=True)
        entry = actions.check_update_time_entry(user, entry, **values)
        return Response(TimeEntryOut(entry).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, public_id: str, pk: int) -> Response:
        user, case = _staff_case(request, public_id, actions.authorize_change_time)
        entry = access_time_entry(user, case, pk)
        actions.check_delete_time_entry(user, entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseDefectLink(APIView):
    @extend_schema(request=LinkDefectIn, responses=CaseStaffOut)
    def post(self, request: Request, public_id: str) -> Response:
        user, case = _staff_case(request, public_id, actions.authorize_link_defect)
        values = validated(LinkDefectIn, request.data)
        case = actions.check_link_defect(user, case, values["defect"])
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
        actions.authorize_answer_csat(user)
        values = validated(CsatIn, request.data)
        response = actions.check_answer_csat(user, case, **values)
        return Response(CsatOut(response).data, status=status.HTTP_201_CREATED)


class CsatByToken(APIView):
    """The survey through a signed token (``actions.csat_token``, valid 60 days): no
    sign-in needed. No channel sends the token to customers yet."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    @extend_schema(request=CsatIn, responses={201: CsatOut})
    def post(self, request: Request, token: str) -> Response:
        values = validated(CsatIn, request.data)
        case = actions.case_for_csat_token(token)
        response = actions.check_answer_csat(None, case, **values)
        return Response(CsatOut(response).data, status=status.HTTP_201_CREATED)
