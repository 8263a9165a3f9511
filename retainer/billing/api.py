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
from retainer.billing import actions, checks, exports, selectors
from retainer.billing.access import access_invoice, invoices_visible_to
from retainer.billing.filters import CreditNoteFilter, InvoiceFilter, RenewalQuoteFilter, RunFilter
from retainer.billing.models import BilledItem, BillingRun, CreditNote, Invoice, RenewalQuote
from retainer.billing.serializers import (
    BilledItemOut,
    CreditNoteIn,
    CreditNoteOut,
    GenerateQuotesIn,
    InvoiceChangeIn,
    InvoiceDetailOut,
    InvoiceIn,
    InvoiceLineOut,
    InvoiceOut,
    LineIn,
    PaidIn,
    RenewalQuoteOut,
    RunIn,
    RunOut,
    VoidIn,
)
from retainer.lib.api import ApiError, require_perm, validated
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
