"""Server-rendered billing pages: the console's runs, invoices, renewal quotes and services
quotes and engagements, and the customer portal's invoices and services quotes.

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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.models import Organization, User
from retainer.accounts.views import contact_required, staff_required
from retainer.billing import checks, exports, rules, selectors, services
from retainer.billing.access import (
    access_engagement,
    access_invoice,
    access_service_quote,
    invoices_visible_to,
    service_quotes_visible_to,
)
from retainer.billing.choices import (
    InvoiceStatus,
    QuoteStatus,
    RunStatus,
    ServicePricing,
    ServiceQuoteStatus,
)
from retainer.billing.forms import (
    CreditNoteForm,
    EngagementTimeForm,
    GenerateQuotesForm,
    MilestoneSplitForm,
    PaidForm,
    ServiceQuoteDeclineForm,
    ServiceQuoteForm,
    StartRunForm,
    VoidForm,
)
from retainer.billing.models import Engagement, EngagementMilestone, Invoice, ServiceQuote
from retainer.cases import selectors as case_selectors
from retainer.cases.models import Case
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report
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


# --- Professional services: the console ----------------------------------------------------
# Staff with ``billing.view_servicequote`` read quotes (and ``view_engagement`` the
# engagements); the billing role quotes, sends, withdraws, splits, delivers and logs time.
# Every button goes through its ``services.check_*``, authorized before its form is read.

FORM_METHODS = ["GET", "HEAD", "POST"]


def _filtered_service_quotes(request: HttpRequest) -> tuple[QuerySet[ServiceQuote], dict]:
    get = request.GET
    chosen = {key: get.get(key, "").strip() for key in ("status", "pricing", "organization")}
    quotes = service_quotes_visible_to(request_user(request))
    if chosen["status"] in ServiceQuoteStatus.values:
        quotes = quotes.filter(status=chosen["status"])
    else:
        chosen["status"] = ""
    if chosen["pricing"] in ServicePricing.values:
        quotes = quotes.filter(pricing=chosen["pricing"])
    else:
        chosen["pricing"] = ""
    if chosen["organization"].isdigit():
        quotes = quotes.filter(organization_id=int(chosen["organization"]))
    else:
        chosen["organization"] = ""
    return quotes, chosen


@require_safe
@authorized(services.authorize_view_service_quotes)
def service_quote_list(request: HttpRequest) -> HttpResponse:
    """Quotes with filters, and the newest out-of-scope cases that have no quote yet."""
    quotes, chosen = _filtered_service_quotes(request)
    may_quote = request_user(request).has_perms(services.QUOTE_SERVICES)
    context = {
        "page": _page(request, selectors.service_quotes_for_list(quotes)),
        "chosen": chosen,
        "query": urlencode({k: v for k, v in chosen.items() if v}),
        "statuses": ServiceQuoteStatus.choices,
        "pricings": ServicePricing.choices,
        "organizations": Organization.objects.order_by("name").values_list("pk", "name"),
        "cases": selectors.out_of_scope_cases_without_quote() if may_quote else [],
        "may_quote": may_quote,
    }
    return render(request, "billing/services/quote_list.html", context)


def _quote_initial(request: HttpRequest) -> dict[str, Any]:
    """The form's prefill from ``?case=<public id>`` (its organization and the offering
    its out-of-scope decision proposes) or ``?organization=<id>``."""
    initial: dict[str, Any] = {"send": True}
    public_id = request.GET.get("case", "").strip()[:32]
    case = (
        Case.objects.select_related("organization", "product", "decision")
        .filter(public_id=public_id)
        .first()
        if public_id
        else None
    )
    if case is not None:
        initial["case"] = case.public_id
        offering = case_selectors.offering_for_decision(
            product=case.product, decision=case.decision
        )
        if offering is not None:
            initial["offering"] = offering.pk
        return {**initial, "case_obj": case}
    organization = request.GET.get("organization", "")
    if organization.isdigit():
        initial["organization"] = int(organization)
    return initial


@require_http_methods(FORM_METHODS)
@staff_required
def service_quote_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    try:
        services.authorize_quote_services(user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc
    initial = _quote_initial(request)
    case = initial.pop("case_obj", None)
    form = ServiceQuoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            quote = services.check_create_service_quote(
                user,
                offering=values["offering"],
                organization=values["organization"],
                case=values["case"] or None,
                valid_until=values["valid_until"],
                scope=values["scope"],
                send=values["send"],
            )
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Quote {quote.number} {quote.get_status_display().lower()}.")
            return redirect("billing:service_quote_detail", pk=quote.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "case": case}
    return render(request, "billing/services/quote_form.html", context, status=status)


@require_safe
@authorized(services.authorize_view_service_quotes)
def service_quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = access_service_quote(request_user(request), pk)
    context = {
        "quote": quote,
        "engagement": Engagement.objects.filter(quote=quote).first(),
        "events": quote.events.select_related("actor")[:50],
        "today": services.local_today(quote.organization),
    }
    return render(request, "billing/services/quote_detail.html", context)


@require_POST
@staff_required
def service_quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        quote = services.check_send_service_quote(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:service_quote_detail", pk=pk)
    messages.success(request, f"Quote {quote.number} sent: the customer sees it in the portal.")
    return redirect("billing:service_quote_detail", pk=pk)


@require_POST
@staff_required
def service_quote_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        quote = services.check_withdraw_service_quote(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:service_quote_detail", pk=pk)
    messages.success(request, f"Quote {quote.number} withdrawn.")
    return redirect("billing:service_quote_detail", pk=pk)


@require_safe
@authorized(services.authorize_view_engagements)
def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = access_engagement(request_user(request), pk)
    milestones, entries = selectors.engagement_work(engagement)
    context = {
        "engagement": engagement,
        "quote": engagement.quote,
        "milestones": milestones,
        "entries": entries,
        "minutes": sum(entry.minutes for entry in entries),
        "events": engagement.events.select_related("actor")[:50],
        "split_form": MilestoneSplitForm(
            initial={"milestones": "\n".join(f"{m.title} | {m.amount:f}" for m in milestones)}
        ),
        "time_form": EngagementTimeForm(),
    }
    return render(request, "billing/services/engagement_detail.html", context)


@require_POST
@staff_required
def engagement_split(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    form = MilestoneSplitForm(request.POST)
    try:
        services.authorize_change_engagement(user)  # before the form is read
        if not form.is_valid():
            raise _form_errors(form)
        milestones = services.check_split_milestones(
            user, pk, parts=form.cleaned_data["milestones"]
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:engagement_detail", pk=pk)
    messages.success(request, f"Split into {len(milestones)} milestone(s).")
    return redirect("billing:engagement_detail", pk=pk)


@require_POST
@staff_required
def milestone_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    try:
        milestone = services.check_deliver_milestone(user, pk)
    except (DomainError, ValidationError) as exc:
        engagement_id = (
            EngagementMilestone.objects.filter(pk=pk)
            .values_list("engagement_id", flat=True)
            .first()
        )
        if engagement_id is None:
            raise Http404 from exc
        return _refused(request, exc, "billing:engagement_detail", pk=engagement_id)
    messages.success(request, f"Milestone {milestone.position} delivered; the next run bills it.")
    return redirect("billing:engagement_detail", pk=milestone.engagement_id)


@require_POST
@staff_required
def engagement_time(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    form = EngagementTimeForm(request.POST)
    try:
        services.authorize_log_engagement_time(user)  # before the form is read
        if not form.is_valid():
            raise _form_errors(form)
        entry = services.check_log_engagement_time(
            user,
            pk,
            minutes=form.cleaned_data["minutes"],
            work_date=form.cleaned_data["work_date"],
            note=form.cleaned_data["note"],
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:engagement_detail", pk=pk)
    messages.success(request, f"{entry.minutes} minutes logged.")
    return redirect("billing:engagement_detail", pk=pk)


# --- Professional services: the portal -----------------------------------------------------


@require_safe
@contact_required
def portal_service_quote_list(request: HttpRequest) -> HttpResponse:
    """The organization's sent and answered quotes, newest first."""
    contact = request.contact  # type: ignore[attr-defined]
    quotes = selectors.service_quotes_for_list(service_quotes_visible_to(request_user(request)))
    context = {"contact": contact, "organization": contact.organization, "quotes": quotes[:200]}
    return render(request, "billing/services/portal_quote_list.html", context)


@require_safe
@contact_required
def portal_service_quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]
    quote = access_service_quote(request_user(request), pk)
    requester = quote.case.contact_id if quote.case is not None else None
    today = services.local_today(quote.organization)
    context = {
        "quote": quote,
        "may_decide": contact.is_customer_admin or requester == contact.pk,
        "expired": quote.is_expired_on(today),
        "engagement": Engagement.objects.filter(quote=quote).first(),
        "decline_form": ServiceQuoteDeclineForm(),
    }
    return render(request, "billing/services/portal_quote_detail.html", context)


@require_POST
@contact_required
def portal_service_quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        quote = services.check_accept_service_quote(request_user(request), pk)
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:portal_service_quote_detail", pk=pk)
    messages.success(request, f"Thank you: quote {quote.number} is accepted and the work starts.")
    return redirect("billing:portal_service_quote_detail", pk=pk)


@require_POST
@contact_required
def portal_service_quote_decline(request: HttpRequest, pk: int) -> HttpResponse:
    form = ServiceQuoteDeclineForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_errors(form)
        quote = services.check_decline_service_quote(
            request_user(request), pk, reason=form.cleaned_data["reason"]
        )
    except (DomainError, ValidationError) as exc:
        return _refused(request, exc, "billing:portal_service_quote_detail", pk=pk)
    messages.success(request, f"Quote {quote.number} declined.")
    return redirect("billing:portal_service_quote_detail", pk=pk)
