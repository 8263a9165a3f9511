"""REST API for billing runs, invoices, credit notes, exports and renewal quotes.

The billing role (``billing.*`` permissions) runs billing and changes invoices; managers
read. Customers read their own organization's issued invoices and download the PDF.
Writes honour ``Idempotency-Key``; errors are JSON with ``code`` and ``detail`` (domain
errors propagate to the lib's exception handler). Operations with other doors go through
``billing/checks.py``; a view whose body needs parsing authorizes first, so a caller
without the permission gets 403, never a validation error. Runs are never executed in a
request: they are queued (202) and show their progress on the run.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retainer.accounts.access import customer_contact, is_vendor_staff, request_user
from retainer.accounts.models import Organization
from retainer.billing import actions, checks, exports, selectors, services
from retainer.billing.access import (
    access_engagement,
    access_invoice,
    access_service_quote,
    engagements_visible_to,
    invoices_visible_to,
    service_quotes_visible_to,
)
from retainer.billing.filters import (
    CreditNoteFilter,
    EngagementFilter,
    InvoiceFilter,
    RenewalQuoteFilter,
    RunFilter,
    ServiceQuoteFilter,
)
from retainer.billing.models import (
    BilledItem,
    BillingRun,
    CreditNote,
    Engagement,
    EngagementTimeEntry,
    Invoice,
    RenewalQuote,
    ServiceQuote,
)
from retainer.billing.serializers import (
    BilledItemOut,
    CreditNoteIn,
    CreditNoteOut,
    EngagementOut,
    EngagementTimeEntryOut,
    EngagementTimeIn,
    GenerateQuotesIn,
    InvoiceChangeIn,
    InvoiceDetailOut,
    InvoiceIn,
    InvoiceLineOut,
    InvoiceOut,
    LineIn,
    MilestoneOut,
    MilestoneSplitIn,
    PaidIn,
    RenewalQuoteOut,
    RunIn,
    RunOut,
    ServiceQuoteCustomerOut,
    ServiceQuoteDeclineIn,
    ServiceQuoteIn,
    ServiceQuoteOut,
    VoidIn,
)
from retainer.lib.api import ApiError, by_audience, require_perm, validated
from retainer.lib.idempotency import IDEMPOTENCY_PARAMETER, idempotent


def _organization(pk: int) -> Organization:
    try:
        return Organization.objects.get(pk=pk)
    except Organization.DoesNotExist:
        raise ApiError("organization_not_found", f"There is no organization {pk}.") from None


def _invoice_for_staff(request: Request, pk: int) -> Invoice:
    require_perm(request.user, "billing.change_invoice")
    return access_invoice(request_user(request), pk, for_write=True)


def _detail(invoice: Invoice) -> Response:
    fresh = selectors.invoices_with_lines(Invoice.objects.filter(pk=invoice.pk)).get()
    return Response(InvoiceDetailOut(fresh).data)


# --- Runs ----------------------------------------------------------------------------------


class RunList(generics.ListAPIView):
    queryset = BillingRun.objects.none()  # for the schema; get_queryset scopes the rows
    serializer_class = RunOut
    filterset_class = RunFilter

    def get_queryset(self) -> QuerySet[BillingRun]:
        require_perm(self.request.user, "billing.view_billingrun")
        return BillingRun.objects.all()

    @extend_schema(
        request=RunIn,
        responses={202: RunOut},
        parameters=[IDEMPOTENCY_PARAMETER],
        description="Start a run for a period: the job worker runs it (202) and "
        "`GET billing/runs/<id>/` shows its progress.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_start_billing_run(actor)
        values = validated(RunIn, request.data)
        billing_run = checks.check_start_billing_run(
            actor,
            period=values["period"],
            organization=values.get("organization"),
            issue=values["issue"],
        )
        return Response(RunOut(billing_run).data, status=status.HTTP_202_ACCEPTED)


class RunDetail(APIView):
    @extend_schema(responses=RunOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "billing.view_billingrun")
        return Response(RunOut(get_object_or_404(BillingRun, pk=pk)).data)


class RunStart(APIView):
    """POST: hand a pending, failed or interrupted run to the job worker again (202)."""

    @extend_schema(request=None, responses={202: RunOut}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        billing_run = checks.check_continue_billing_run(request_user(request), pk)
        return Response(RunOut(billing_run).data, status=status.HTTP_202_ACCEPTED)


# --- Invoices ------------------------------------------------------------------------------


class InvoiceList(generics.ListAPIView):
    """Staff with ``billing.view_invoice`` list every invoice; customers their own issued
    ones; other staff get 403."""

    queryset = Invoice.objects.none()  # for the schema; get_queryset scopes the rows
    serializer_class = InvoiceOut
    filterset_class = InvoiceFilter

    def get_queryset(self) -> QuerySet[Invoice]:
        user = request_user(self.request)
        if is_vendor_staff(user):
            require_perm(user, "billing.view_invoice")
        elif customer_contact(user) is None:
            raise ApiError("forbidden", "You do not have permission to do this.", status_code=403)
        return invoices_visible_to(user).select_related("organization")

    @extend_schema(request=InvoiceIn, responses={201: InvoiceDetailOut})
    @idempotent
    def post(self, request: Request) -> Response:
        require_perm(request.user, "billing.add_invoice")
        values = validated(InvoiceIn, request.data)
        invoice = actions.do_create_invoice(
            organization=_organization(values["organization"]),
            period=values["period"],
            currency=values.get("currency"),
            notes=values.get("notes", ""),
            actor=request_user(request),
        )
        response = _detail(invoice)
        response.status_code = status.HTTP_201_CREATED
        return response


class InvoiceDetail(APIView):
    @extend_schema(responses=InvoiceDetailOut)
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        if is_vendor_staff(user):
            require_perm(user, "billing.view_invoice")
        return _detail(access_invoice(user, pk))

    @extend_schema(
        request=InvoiceChangeIn, responses=InvoiceDetailOut, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        invoice = _invoice_for_staff(request, pk)
        values = validated(InvoiceChangeIn, request.data)
        invoice = actions.do_update_invoice(invoice, actor=request_user(request), **values)
        return _detail(invoice)


class InvoiceItems(generics.ListAPIView):
    """The billed items behind an invoice's lines (ledger entries, contract terms), for
    tracing a line back to its time entries and cases. Billing staff only."""

    serializer_class = BilledItemOut
    queryset = BilledItem.objects.none()  # for the schema; get_queryset scopes the rows

    def get_queryset(self) -> QuerySet[BilledItem]:
        require_perm(self.request.user, "billing.view_invoice")
        invoice = access_invoice(request_user(self.request), self.kwargs["pk"])
        return BilledItem.objects.filter(invoice=invoice).select_related("ledger_entry")


class InvoiceLines(APIView):
    """POST: add a manual line to a draft invoice (same currency only)."""

    @extend_schema(
        request=LineIn, responses={201: InvoiceLineOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        invoice = _invoice_for_staff(request, pk)
        values = validated(LineIn, request.data)
        line = actions.do_add_line(invoice, **values, actor=request_user(request))
        return Response(InvoiceLineOut(line).data, status=status.HTTP_201_CREATED)


class InvoiceIssue(APIView):
    @extend_schema(request=None, responses=InvoiceDetailOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        return _detail(checks.check_issue_invoice(request_user(request), pk))


class InvoiceVoid(APIView):
    @extend_schema(request=VoidIn, responses=InvoiceDetailOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_invoice(actor)
        values = validated(VoidIn, request.data)
        return _detail(checks.check_void_invoice(actor, pk, reason=values["reason"]))


class InvoicePaid(APIView):
    @extend_schema(request=PaidIn, responses=InvoiceDetailOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        checks.authorize_change_invoice(actor)
        values = validated(PaidIn, request.data)
        invoice = checks.check_mark_invoice_paid(
            actor, pk, reference=values.get("reference", ""), paid_at=values.get("paid_at")
        )
        return _detail(invoice)


class InvoicePdf(APIView):
    """GET: the invoice as PDF (customers: their own issued invoices)."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        user = request_user(request)
        if is_vendor_staff(user):
            require_perm(user, "billing.view_invoice")
        invoice = access_invoice(user, pk)
        from retainer.billing import pdf  # WeasyPrint loads its stylesheets on import

        body = pdf.render_invoice_pdf(invoice)
        response = HttpResponse(body, content_type="application/pdf")
        name = invoice.number or f"draft-{invoice.pk}"
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response


class _Export(APIView):
    kind = "csv"

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.BINARY)},
        description="Invoice lines for accounting; filters as on the invoice list.",
    )
    def get(self, request: Request) -> HttpResponse:
        require_perm(request.user, "billing.view_invoice")
        invoices = InvoiceFilter(request.query_params, queryset=Invoice.objects.all()).qs
        rows = exports.export_rows(selectors.export_lines(invoices))
        if self.kind == "csv":
            body, content_type = exports.to_csv(rows), "text/csv; charset=utf-8"
        else:
            body, content_type = exports.to_xlsx(rows), exports.XLSX_CONTENT_TYPE
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="invoices.{self.kind}"'
        return response


class InvoiceExportCsv(_Export):
    kind = "csv"


class InvoiceExportXlsx(_Export):
    kind = "xlsx"


# --- Credit notes --------------------------------------------------------------------------


class CreditNoteList(generics.ListAPIView):
    queryset = CreditNote.objects.none()  # for the schema; get_queryset scopes the rows
    serializer_class = CreditNoteOut
    filterset_class = CreditNoteFilter

    def get_queryset(self) -> QuerySet[CreditNote]:
        require_perm(self.request.user, "billing.view_creditnote")
        return selectors.credit_notes_with_lines(CreditNote.objects.all())

    @extend_schema(
        request=CreditNoteIn, responses={201: CreditNoteOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_issue_credit_note(actor)
        values = validated(CreditNoteIn, request.data)
        lines = values.get("lines")
        note = checks.check_issue_credit_note(
            actor,
            values["invoice"],
            reason=values["reason"],
            lines=None if lines is None else [(x["line"], x["amount"]) for x in lines],
        )
        return Response(CreditNoteOut(note).data, status=status.HTTP_201_CREATED)


class CreditNoteDetail(APIView):
    @extend_schema(responses=CreditNoteOut)
    def get(self, request: Request, pk: int) -> Response:
        require_perm(request.user, "billing.view_creditnote")
        note = get_object_or_404(selectors.credit_notes_with_lines(CreditNote.objects.all()), pk=pk)
        return Response(CreditNoteOut(note).data)


# --- Renewal quotes ------------------------------------------------------------------------


class RenewalQuoteList(generics.ListAPIView):
    queryset = RenewalQuote.objects.none()  # for the schema; get_queryset scopes the rows
    serializer_class = RenewalQuoteOut
    filterset_class = RenewalQuoteFilter

    def get_queryset(self) -> QuerySet[RenewalQuote]:
        require_perm(self.request.user, "billing.view_renewalquote")
        return selectors.renewal_quotes()


class RenewalQuoteGenerate(APIView):
    """POST: quote the renewal of every contract ending within ``within_days``."""

    @extend_schema(
        request=GenerateQuotesIn,
        responses={201: RenewalQuoteOut(many=True)},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        checks.authorize_generate_renewal_quotes(actor)
        values = validated(GenerateQuotesIn, request.data)
        quotes = checks.check_generate_renewal_quotes(actor, within_days=values["within_days"])
        return Response(RenewalQuoteOut(quotes, many=True).data, status=status.HTTP_201_CREATED)


class RenewalQuoteAccept(APIView):
    @extend_schema(request=None, responses=RenewalQuoteOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        quote = checks.check_accept_renewal_quote(request_user(request), pk)
        return Response(RenewalQuoteOut(quote).data)


# --- Professional services -----------------------------------------------------------------
# Staff (``billing.view_servicequote`` / ``view_engagement``) read every quote and
# engagement and, with the billing role, quote, send, withdraw, split milestones, deliver
# them and log time; customers read their own organization's sent quotes and engagements
# and accept or decline (``services._deciding_contact``). Every write goes through its
# ``services.check_*`` function; a door whose body needs parsing authorizes first.


def _quote_out(quote: ServiceQuote, user: Any) -> Response:
    fresh = ServiceQuote.objects.select_related("case", "engagement").get(pk=quote.pk)
    serializer = ServiceQuoteOut if is_vendor_staff(user) else ServiceQuoteCustomerOut
    return Response(serializer(fresh).data)


def _reader(user: Any, *perms: str) -> None:
    """Staff need the read permission; customers pass (their rows are scoped); a
    signed-in user who is neither is refused."""
    if is_vendor_staff(user):
        require_perm(user, *perms)
    elif customer_contact(user) is None:
        raise ApiError("forbidden", "You do not have permission to do this.", status_code=403)


class ServiceQuoteList(generics.ListAPIView):
    """GET: the quotes the user may see (customers: their organization's, drafts never);
    POST: quote a catalogue offering to an organization or on a case (billing role)."""

    queryset = ServiceQuote.objects.none()  # for the schema; get_queryset scopes the rows
    filterset_class = ServiceQuoteFilter

    def get_serializer_class(self) -> Any:
        user = self.request.user
        return ServiceQuoteOut if is_vendor_staff(user) else ServiceQuoteCustomerOut

    def get_queryset(self) -> QuerySet[ServiceQuote]:
        user = request_user(self.request)
        _reader(user, *services.VIEW_SERVICE_QUOTES)
        return service_quotes_visible_to(user).select_related("case", "engagement")

    @extend_schema(responses=by_audience(ServiceQuoteOut, ServiceQuoteCustomerOut, many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ServiceQuoteIn, responses={201: ServiceQuoteOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        actor = request_user(request)
        services.authorize_quote_services(actor)
        values = validated(ServiceQuoteIn, request.data)
        quote = services.check_create_service_quote(
            actor,
            offering=values["offering"],
            organization=values.get("organization"),
            case=values.get("case") or None,
            valid_until=values.get("valid_until"),
            scope=values.get("scope", ""),
            send=values["send"],
        )
        response = _quote_out(quote, actor)
        response.status_code = status.HTTP_201_CREATED
        return response


class ServiceQuoteDetail(APIView):
    @extend_schema(responses=by_audience(ServiceQuoteOut, ServiceQuoteCustomerOut))
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        _reader(user, *services.VIEW_SERVICE_QUOTES)
        return _quote_out(access_service_quote(user, pk), user)


class ServiceQuoteSend(APIView):
    @extend_schema(request=None, responses=ServiceQuoteOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        return _quote_out(services.check_send_service_quote(actor, pk), actor)


class ServiceQuoteWithdraw(APIView):
    @extend_schema(request=None, responses=ServiceQuoteOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        return _quote_out(services.check_withdraw_service_quote(actor, pk), actor)


class ServiceQuoteAccept(APIView):
    """POST: the customer accepts a sent quote; the answer names its engagement.
    Accepting again is 409 ``quote_accepted``, an expired one 409 ``quote_expired``."""

    @extend_schema(
        request=None, responses=ServiceQuoteCustomerOut, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        return _quote_out(services.check_accept_service_quote(actor, pk), actor)


class ServiceQuoteDecline(APIView):
    @extend_schema(
        request=ServiceQuoteDeclineIn,
        responses=ServiceQuoteCustomerOut,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        values = validated(ServiceQuoteDeclineIn, request.data)
        quote = services.check_decline_service_quote(actor, pk, reason=values.get("reason", ""))
        return _quote_out(quote, actor)


def _engagements(user: Any) -> QuerySet[Engagement]:
    return engagements_visible_to(user).select_related("quote").prefetch_related("milestones")


class EngagementList(generics.ListAPIView):
    queryset = Engagement.objects.none()  # for the schema; get_queryset scopes the rows
    serializer_class = EngagementOut
    filterset_class = EngagementFilter

    def get_queryset(self) -> QuerySet[Engagement]:
        user = request_user(self.request)
        _reader(user, *services.VIEW_ENGAGEMENTS)
        return _engagements(user)


class EngagementDetail(APIView):
    @extend_schema(responses=EngagementOut)
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        _reader(user, *services.VIEW_ENGAGEMENTS)
        access_engagement(user, pk)
        return Response(EngagementOut(_engagements(user).get(pk=pk)).data)


class EngagementMilestones(APIView):
    """POST: replace a fixed-price engagement's milestones; their amounts must add up to
    the quote's amount exactly (400 ``milestones_sum``)."""

    @extend_schema(
        request=MilestoneSplitIn, responses={201: EngagementOut}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        services.authorize_change_engagement(actor)
        values = validated(MilestoneSplitIn, request.data)
        parts = [(m["title"], m["amount"]) for m in values["milestones"]]
        services.check_split_milestones(actor, pk, parts=parts)
        body = EngagementOut(_engagements(actor).get(pk=pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class MilestoneDeliver(APIView):
    """POST: mark a milestone delivered; the next billing run bills it."""

    @extend_schema(request=None, responses=MilestoneOut, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        milestone = services.check_deliver_milestone(request_user(request), pk)
        return Response(MilestoneOut(milestone).data)


class EngagementTimeEntries(generics.ListAPIView):
    """GET: the time logged on an engagement; POST: log minutes (time and materials)."""

    queryset = EngagementTimeEntry.objects.none()  # for the schema; scoped below
    serializer_class = EngagementTimeEntryOut

    def get_queryset(self) -> QuerySet[EngagementTimeEntry]:
        user = request_user(self.request)
        _reader(user, *services.VIEW_ENGAGEMENTS)
        engagement = access_engagement(user, self.kwargs["pk"])
        return engagement.time_entries.select_related("agent")

    @extend_schema(
        request=EngagementTimeIn,
        responses={201: EngagementTimeEntryOut},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actor = request_user(request)
        services.authorize_log_engagement_time(actor)
        values = validated(EngagementTimeIn, request.data)
        entry = services.check_log_engagement_time(
            actor,
            pk,
            minutes=values["minutes"],
            work_date=values.get("work_date"),
            note=values.get("note", ""),
        )
        return Response(EngagementTimeEntryOut(entry).data, status=status.HTTP_201_CREATED)
