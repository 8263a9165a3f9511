"""Server-rendered billing pages: the console's runs, invoices and renewal quotes, and the
customer portal's invoice list.

Every console page needs the permission the API asks for the same read (``checks``'
``authorize_view_*``); every mutation goes through its ``check_*`` function, authorized
before its form is read, and redirects back with a message. Refusals are shown with
``lib.errors.report`` (403/404 refusals raise).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.models import Organization, User
from retainer.accounts.views import contact_required, staff_required
from retainer.billing import checks, exports, rules, selectors
from retainer.billing.access import access_invoice, invoices_visible_to
from retainer.billing.choices import InvoiceStatus, QuoteStatus, RunStatus
from retainer.billing.forms import (
    CreditNoteForm,
    GenerateQuotesForm,
    PaidForm,
    StartRunForm,
    VoidForm,
)
from retainer.billing.models import Invoice
from retainer.lib.errors import DomainError, NotPermitted, report
from retainer.lib.htmx import is_htmx

PAGE_SIZE = 25

View = Callable[..., HttpResponse]


def authorized(authorize: Callable[[User | None], None]) -> Callable[[View], View]:
    """Staff only (others get the 404 of ``staff_required``), and then the operation's
    own permission rule from ``checks`` (403 without it)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                authorize(request_user(request))
            except NotPermitted as exc:
                raise PermissionDenied(exc.detail) from exc
            return view(request, *args, **kwargs)

        return staff_required(wrapper)

    return decorate


def _refused(request: HttpRequest, exc: DomainError | ValidationError, to: str, **kw: Any) -> Any:
    report(request, exc)  # 403 and 404 refusals raise instead
    return redirect(to, **kw)


def _form_errors(form: Any) -> ValidationError:
    return ValidationError(form.errors.as_data())


def _page(request: HttpRequest, rows: QuerySet[Any]) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Runs ----------------------------------------------------------------------------------


@require_safe
@authorized(checks.authorize_view_billing_runs)
def run_list(request: HttpRequest) -> HttpResponse:
    runs = selectors.runs_for_list()
    status = request.GET.get("status", "")
    if status in RunStatus.values:
        runs = runs.filter(status=status)
    context = {
        "page": _page(request, runs),
        "status": status,
        "statuses": RunStatus.choices,
        "form": StartRunForm(initial={"period": rules.period_of(timezone.localdate()).label}),
    }
    return render(request, "billing/run_list.html", context)


@require_POST
@staff_required
def run_start(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = StartRunForm(request.POST)
    try:
        checks.authorize_start_billing_run(user)  # before the form is read: a 403
        if not form.is_valid():
            raise _form_errors(form)
        run = checks.check_start_billing_run(
            user,
            period=form.cleaned_data["period"].strip(),
            organization=form.cleaned_data["organization"],
            issue=not form.cleaned_data["draft"],
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:run_list")
    messages.success(request, f"Billing run {run.pk} for {run.period:%Y-%m} is queued.")
    return redirect("billing:run_detail", pk=run.pk)


@require_safe
@authorized(checks.authorize_view_billing_runs)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The run and its progress. While it is pending or running, the progress fragment
    asks for itself again (htmx polling, the same URL) until the run is finished."""
    run = get_object_or_404(selectors.runs_for_list(), pk=pk)
    context = {"run": run, "finished": run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)}
    if is_htmx(request):
        return render(request, "billing/partials/run_progress.html", context)
    return render(request, "billing/run_detail.html", context)


@require_POST
@staff_required
def run_continue(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        run = checks.check_continue_billing_run(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:run_detail", pk=pk)
    messages.success(request, f"Billing run {run.pk} is queued again.")
    return redirect("billing:run_detail", pk=run.pk)


# --- Invoices ------------------------------------------------------------------------------


def _filtered_invoices(request: HttpRequest) -> tuple[QuerySet[Invoice], dict[str, str]]:
    """The invoices the list shows for the query's filters (status, organization, period
    ``YYYY-MM``, run, and ``q``: part of the number); unknown values filter nothing."""
    get = request.GET
    chosen = {
        key: get.get(key, "").strip() for key in ("status", "organization", "period", "run", "q")
    }
    invoices = invoices_visible_to(request_user(request))
    if chosen["status"] in InvoiceStatus.values:
        invoices = invoices.filter(status=chosen["status"])
    if chosen["organization"].isdigit():
        invoices = invoices.filter(organization_id=int(chosen["organization"]))
    if chosen["run"].isdigit():
        invoices = invoices.filter(run_id=int(chosen["run"]))
    if chosen["period"]:
        try:
            invoices = invoices.filter(period_start=rules.parse_period(chosen["period"]).start)
        except rules.PeriodError:
            chosen["period"] = ""
    if chosen["q"]:
        invoices = invoices.filter(number__icontains=chosen["q"])
    return invoices, chosen


@require_safe
@authorized(checks.authorize_view_invoices)
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices, chosen = _filtered_invoices(request)
    query = urlencode({k: v for k, v in chosen.items() if v})
    context = {
        "page": _page(request, selectors.invoices_for_list(invoices)),
        "chosen": chosen,
        "query": query,
        "statuses": InvoiceStatus.choices,
        "organizations": Organization.objects.order_by("name").values_list("pk", "name"),
    }
    return render(request, "billing/invoice_list.html", context)


@require_safe
@authorized(checks.authorize_view_invoices)
def invoice_export(request: HttpRequest, kind: str) -> HttpResponse:
    """The listed invoices' lines for accounting, as on the API's export."""
    invoices, _ = _filtered_invoices(request)
    rows = exports.export_rows(selectors.export_lines(invoices))
    if kind == "csv":
        body, content_type = exports.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body, content_type = exports.to_xlsx(rows), exports.XLSX_CONTENT_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="invoices.{kind}"'
    return response


@require_safe
@authorized(checks.authorize_view_invoices)
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = access_invoice(request_user(request), pk)
    invoice = selectors.invoices_with_lines(Invoice.objects.filter(pk=invoice.pk)).get()
    lines = list(invoice.lines.all())
    references = selectors.case_references_by_line(invoice)
    context = {
        "invoice": invoice,
        "lines": [(line, references.get(line.pk, [])) for line in lines],
        "credit_notes": selectors.credit_notes_with_lines(invoice.credit_notes.all()),
        "events": invoice.events.select_related("actor")[:50],
        "void_form": VoidForm(),
        "paid_form": PaidForm(),
        "credit_form": CreditNoteForm(lines=lines),
    }
    return render(request, "billing/invoice_detail.html", context)


def _invoice_done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("billing:invoice_detail", pk=pk)


@require_POST
@staff_required
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        invoice = checks.check_issue_invoice(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:invoice_detail", pk=pk)
    return _invoice_done(request, pk, f"Issued as {invoice.number}.")


@require_POST
@staff_required
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    form = VoidForm(request.POST)
    try:
        checks.authorize_change_invoice(user)  # before the form is read
        if not form.is_valid():
            raise _form_errors(form)
        checks.check_void_invoice(user, pk, reason=form.cleaned_data["reason"])
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:invoice_detail", pk=pk)
    return _invoice_done(request, pk, "Voided; its items will be billed again by the next run.")


@require_POST
@staff_required
def invoice_paid(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    form = PaidForm(request.POST)
    try:
        checks.authorize_change_invoice(user)  # before the form is read
        if not form.is_valid():
            raise _form_errors(form)
        checks.check_mark_invoice_paid(user, pk, reference=form.cleaned_data["reference"])
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:invoice_detail", pk=pk)
    return _invoice_done(request, pk, "Marked as paid.")


@require_POST
@staff_required
def invoice_credit(request: HttpRequest, pk: int) -> HttpResponse:
    """A credit note for the whole rest of the invoice, or for the amounts given per line."""
    user = request_user(request)
    try:
        checks.authorize_issue_credit_note(user)  # before the form is read
        invoice = access_invoice(user, pk)
        form = CreditNoteForm(request.POST, lines=invoice.lines.all())
        if not form.is_valid():
            raise _form_errors(form)
        note = checks.check_issue_credit_note(
            user, pk, reason=form.cleaned_data["reason"], lines=form.line_amounts()
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:invoice_detail", pk=pk)
    return _invoice_done(request, pk, f"Credit note {note.number} issued.")


# --- Renewal quotes ------------------------------------------------------------------------


@require_safe
@authorized(checks.authorize_view_renewal_quotes)
def quote_list(request: HttpRequest) -> HttpResponse:
    quotes = selectors.renewal_quotes().order_by("valid_until", "id")
    status = request.GET.get("status", "")
    if status in QuoteStatus.values:
        quotes = quotes.filter(status=status)
    context = {
        "page": _page(request, quotes),
        "status": status,
        "statuses": QuoteStatus.choices,
        "form": GenerateQuotesForm(),
    }
    return render(request, "billing/quote_list.html", context)


@require_POST
@staff_required
def quote_generate(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = GenerateQuotesForm(request.POST)
    try:
        checks.authorize_generate_renewal_quotes(user)  # before the form is read
        if not form.is_valid():
            raise _form_errors(form)
        quotes = checks.check_generate_renewal_quotes(
            user, within_days=form.cleaned_data["within_days"]
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:quote_list")
    messages.success(request, f"{len(quotes)} renewal quote(s) created.")
    return redirect("billing:quote_list")


@require_POST
@staff_required
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        quote = checks.check_accept_renewal_quote(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:quote_list")
    messages.success(request, f"Accepted: the contract is renewed as #{quote.renewal_id}.")
    return redirect("billing:quote_list")


# --- Portal --------------------------------------------------------------------------------


@require_safe
@contact_required
def portal_invoice_list(request: HttpRequest) -> HttpResponse:
    """The customer's own issued invoices, newest first, with a PDF link each."""
    contact = request.contact  # type: ignore[attr-defined]
    invoices = invoices_visible_to(request_user(request)).order_by("-issued_at", "-id")[:200]
    return render(
        request,
        "billing/invoice_portal_list.html",
        {"contact": contact, "organization": contact.organization, "invoices": invoices},
    )
