"""The customer portal: my cases, opening a case with a decision preview, the case page
(conversation, files, transitions, survey), my support (contracts and balances) and the
public survey link.

Every view is an adapter: parse → access (``contact_required`` sets ``request.contact``,
cases come through ``access_case``) → one action or selector → render. HTMX requests get
the fragment the full page includes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.models import User
from retainer.accounts.views import contact_required
from retainer.cases import actions, workflow
from retainer.cases.access import access_case, attachments_visible_to, cases_visible_to
from retainer.cases.choices import CaseEventType, CaseStatus
from retainer.cases.forms.portal import (
    CaseFilterForm,
    CsatForm,
    NewCaseForm,
    PreviewForm,
    ReplyForm,
    TransitionForm,
    preview_fields,
)
from retainer.cases.models import REFERENCE_OFFSET, Case, CaseMessage, CsatResponse
from retainer.cases.search import search_cases
from retainer.cases.selectors import (
    Billable,
    ContractUsage,
    billable_for_case,
    case_for_detail,
    cases_for_list,
    contract_usage_for,
    events_for_case,
    offering_for_decision,
    preview_decision,
)
from retainer.cases.serializers import CustomerEventOut
from retainer.catalog.selectors import releases_to_choose
from retainer.contracts.choices import AllowanceUnit, Channel, Outcome
from retainer.contracts.entitlement import Decision
from retainer.contracts.models import Contract
from retainer.lib.converters import parse_id
from retainer.lib.errors import DomainError, add_to_form, report
from retainer.lib.htmx import is_htmx
from retainer.lib.sanitize import clean_line

CASES_PER_PAGE = 20
#: The best matches *My cases* shows for a search (no pages: refine the words instead).
SEARCH_HITS = 50
OPEN_STATUSES = workflow.ACTIVE
CLOSED_STATUSES = workflow.FINISHED

# --- What the portal shows (reads only) ------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str  # "message" or "event"
    text: str = ""
    message: CaseMessage | None = None


def _label(choices: Any, value: Any) -> str:
    """A choice's label, or the raw value when it is not (or no longer) a choice."""
    return str(dict(choices).get(value, value or "?"))


def event_text(event: dict[str, Any]) -> str | None:
    """The sentence a customer reads for one event of ``CustomerEventOut``'s output, or
    None for types the timeline leaves out. It reads the customer's data only, so it can
    say nothing the customer may not know."""
    data = event["data"]
    texts: dict[str, Any] = {
        CaseEventType.OPENED: lambda: (
            f"Case opened ({_label(Channel.choices, data.get('channel'))})"
        ),
        CaseEventType.STATUS_CHANGED: lambda: (
            f"Status changed from {_label(CaseStatus.choices, data.get('old'))} "
            f"to {_label(CaseStatus.choices, data.get('new'))}"
        ),
        CaseEventType.ATTACHMENT_ADDED: lambda: f"File attached: {data.get('file_name', '')}",
        CaseEventType.DECISION_RECORDED: lambda: str(data.get("sentence") or ""),
        CaseEventType.INCIDENT_CONSUMED: lambda: (
            "One incident billed as overage"
            if data.get("overage")
            else "One incident drawn from your contract"
        ),
        CaseEventType.INCIDENT_CREDITED: lambda: "The incident was credited back to your contract",
        CaseEventType.FIX_AVAILABLE: lambda: f"A fix is available in release {data.get('release')}",
        CaseEventType.CSAT_ANSWERED: lambda: "Thank you for rating this case",
        CaseEventType.DECISION_OVERRIDDEN: lambda: "Our team reviewed how this case is covered",
    }
    text = texts.get(event["type"])
    return text() if text is not None else None


def timeline_for(user: User, case: Case) -> list[TimelineItem]:
    """Public replies and the events a customer may see, oldest first, in two queries.
    Events go through the customer's rendering (``CustomerEventOut``), as on the API."""
    items = [
        TimelineItem(at=m.created_at, kind="message", message=m)
        for m in case.messages.filter(is_internal=False).select_related("author")
    ]
    rows = list(events_for_case(case=case, include_internal=False))
    for row, event in zip(rows, CustomerEventOut(rows, many=True).data, strict=True):
        text = event_text(event)
        if text is not None:
            items.append(TimelineItem(at=row.created_at, kind="event", text=text))
    return sorted(items, key=lambda item: item.at)


TRANSITION_LABELS: dict[str, str] = {
    CaseStatus.CANCELLED: "Cancel this case",
    CaseStatus.CLOSED: "Close the case",
    CaseStatus.OPEN: "Reopen the case",
}


def transitions_for(case: Case) -> list[tuple[str, str]]:
    labels: dict[str, str] = {**TRANSITION_LABELS}
    if case.status == CaseStatus.WAITING_ON_CUSTOMER:
        labels[CaseStatus.OPEN] = "Send back to support"
    return [(t, labels[t]) for t in workflow.allowed_targets(case.status, by_customer=True)]


def format_quantity(unit: str, quantity: int) -> str:
    """Incidents as a count, hours (stored in minutes) as h:mm."""
    if unit == AllowanceUnit.HOURS:
        sign = "-" if quantity < 0 else ""
        hours, minutes = divmod(abs(quantity), 60)
        return f"{sign}{hours}:{minutes:02d} h"
    if unit == AllowanceUnit.INCIDENTS:
        return f"{quantity} incident{'' if abs(quantity) == 1 else 's'}"
    return str(quantity)


@dataclass
class ContractView:
    """One contract of *My support*, formatted for display."""

    contract: Contract
    name: str
    balance: str = ""
    granted: str = ""
    consumed: str = ""
    percent_left: int = 0
    low: bool = False
    named_contacts: list[str] = field(default_factory=list)
    per_case: list[tuple[str, str, str]] = field(default_factory=list)  # (ref, url, qty)
    per_month: list[tuple[str, str]] = field(default_factory=list)
    billable: Billable | None = None  # shown when work is (or was) billed as overage
    overage: str = ""  # the overage so far, formatted like the balance


def contract_view(usage: ContractUsage) -> ContractView:
    contract, summary = usage.contract, usage.summary
    unit = contract.unit
    return ContractView(
        contract=contract,
        name=contract.name,
        balance=format_quantity(unit, summary.balance),
        granted=format_quantity(unit, summary.granted),
        consumed=format_quantity(unit, summary.consumed),
        percent_left=max(0, min(100, round(100 * summary.balance / summary.granted)))
        if summary.granted > 0
        else 0,
        low=summary.low_balance_warned
        or (summary.low_balance_at is not None and summary.balance <= summary.low_balance_at),
        named_contacts=[c.full_name for c in contract.named_contacts.all()],
        per_case=[
            (
                f"RT-{REFERENCE_OFFSET + case_id}",
                reverse("portal:case_detail", args=[case.public_id]) if case else "",
                format_quantity(unit, quantity),
            )
            for case, case_id, quantity in usage.per_case
        ],
        per_month=[(month, format_quantity(unit, q)) for month, q in usage.per_month],
        billable=usage.billable if usage.billable.shown else None,
        overage=format_quantity(unit, usage.billable.quantity),
    )


# --- Views ----------------------------------------------------------------------------------


@require_safe
@contact_required
def case_list(request: HttpRequest) -> HttpResponse:
    """My cases: the organization's (or the contact's own) cases, filtered and paged; with
    ``q``, the best matches of ``search_cases`` (never through an internal note)."""
    form = CaseFilterForm(request.GET)
    valid = form.is_valid()
    status = form.cleaned_data["status"] if valid else ""
    q = form.cleaned_data["q"].strip() if valid else ""
    cases = cases_visible_to(request_user(request))
    if status:
        cases = cases.filter(status__in=OPEN_STATUSES if status == "open" else CLOSED_STATUSES)
    page, hits = None, None
    if q:
        hits = search_cases(request_user(request), q, filters=cases, limit=SEARCH_HITS)
        _for_display(hit.case for hit in hits)
    else:
        page = Paginator(cases_for_list(cases), CASES_PER_PAGE).get_page(request.GET.get("page"))
        _for_display(page.object_list)
    context = {"form": form, "page": page, "status": status, "q": q, "hits": hits}
    context["search_hits"] = SEARCH_HITS
    template = "portal/partials/case_rows.html" if is_htmx(request) else "portal/case_list.html"
    return render(request, template, context, status=200 if valid else 400)


@require_http_methods(["GET", "HEAD", "POST"])
@contact_required
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case. The decision preview beside the form comes from ``case_preview``."""
    form = NewCaseForm(request.POST or None, initial={"product": request.GET.get("product")})
    if request.method == "POST" and form.is_valid():
        try:
            case = actions.check_open_case(
                request_user(request),
                contact=request.contact,  # type: ignore[attr-defined]
                channel=Channel.WEB,
                **form.cleaned_data,
            )
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            return redirect("portal:case_detail", public_id=case.public_id)
    status = 400 if form.is_bound else 200
    return render(request, "portal/case_new.html", {"form": form}, status=status)


@require_safe
@contact_required
def case_releases(request: HttpRequest) -> HttpResponse:
    """The release options of the chosen product (an HTMX fragment for the form)."""
    product = parse_id(request.GET.get("product", ""))
    releases = releases_to_choose(product_id=product)
    return render(request, "portal/partials/release_options.html", {"releases": releases})


@require_POST
@contact_required
def case_preview(request: HttpRequest) -> HttpResponse:
    """The decision a case would get, taken with ``decide_for``: nothing is written."""
    form = PreviewForm(request.POST)
    decision: Decision | None = None
    offer = None
    if form.is_valid():
        decision, offer = preview_decision(
            contact=request.contact,  # type: ignore[attr-defined]
            channel=Channel.WEB,
            **preview_fields(form.cleaned_data),
        )
    context = {"decision": decision, "offer": offer, "outcome_label": _outcome_label(decision)}
    return render(request, "portal/partials/decision_preview.html", context)


@require_safe
@contact_required
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case = access_case(request_user(request), public_id)
    return _render_case(request, case, ReplyForm(), CsatForm())


@require_POST
@contact_required
def case_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    """A public reply, optionally with one file; refusals are shown as form errors."""
    user = request_user(request)
    case = access_case(user, public_id, for_write=True)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.check_reply(
                user, case, body=form.cleaned_data["body"], upload=form.cleaned_data.get("file")
            )
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Your reply was sent.")
            return redirect("portal:case_detail", public_id=case.public_id)
    return _render_case(request, case, form, CsatForm(), status=400)


@require_POST
@contact_required
def case_transition(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request_user(request)
    case = access_case(user, public_id, for_write=True)
    form = TransitionForm(request.POST)
    target = form.cleaned_data["status"] if form.is_valid() else ""
    try:
        actions.check_transition_case(user, case, status=target)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, f"The case is now {CaseStatus(target).label.lower()}.")
    return redirect("portal:case_detail", public_id=case.public_id)


@require_POST
@contact_required
def case_csat(request: HttpRequest, public_id: str) -> HttpResponse:
    user = request_user(request)
    case = access_case(user, public_id)
    form = CsatForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, ReplyForm(), form, status=400)
    try:
        actions.check_answer_csat(user, case, **form.cleaned_data)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, "Thank you for your feedback.")
    return redirect("portal:case_detail", public_id=case.public_id)


@require_http_methods(["GET", "HEAD", "POST"])
def csat_by_token(request: HttpRequest, token: str) -> HttpResponse:
    """The survey behind the signed link of the resolution e-mail: no sign-in needed."""
    try:
        case = actions.case_for_csat_token(token)
    except DomainError as exc:
        return render(request, "portal/csat_public.html", {"error": exc.detail}, status=404)
    form = CsatForm(request.POST or None)
    answered = CsatResponse.objects.filter(case=case).exists()
    if request.method == "POST" and not answered and form.is_valid():
        try:
            actions.check_answer_csat(None, case, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            answered = True
    context = {"case": case, "form": form, "answered": answered}
    return render(request, "portal/csat_public.html", context)


@require_safe
@contact_required
def support(request: HttpRequest) -> HttpResponse:
    """My support: every contract of the organization with balance and consumption."""
    usages = contract_usage_for(user=request_user(request))
    context = {"contracts": [contract_view(u) for u in usages], "contact": request.contact}  # type: ignore[attr-defined]
    return render(request, "portal/support.html", context)


# --- Helpers --------------------------------------------------------------------------------


def _for_display(cases: Any) -> None:
    """Subjects shown as one clean line, whatever channel they came in by (e-mail and API
    intake keep them as received); the rows are only rendered, never saved."""
    for case in cases:
        case.subject = clean_line(case.subject)


def _outcome_label(decision: Any) -> str:
    return Outcome(decision.outcome).label if decision is not None else ""


def _render_case(
    request: HttpRequest, case: Case, reply_form: ReplyForm, csat_form: CsatForm, status: int = 200
) -> HttpResponse:
    user = request_user(request)
    case = case_for_detail(case)
    _for_display([case])
    csat = CsatResponse.objects.filter(case=case).first()
    billable = billable_for_case(case=case)
    context = {
        "case": case,
        "timeline": timeline_for(user, case),
        "attachments": attachments_visible_to(user, case),
        "transitions": transitions_for(case),
        "reply_form": reply_form,
        "csat_form": csat_form,
        "csat": csat,
        "show_csat": csat is None and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED),
        "can_reply": case.status not in (CaseStatus.CLOSED, CaseStatus.CANCELLED),
        "offer": offering_for_decision(product=case.product, decision=case.decision)
        if case.entitlement == Outcome.OUT_OF_SCOPE
        else None,
        "billable": billable,
        "outcome_label": "Billable"
        if billable is not None and billable.shown
        else case.get_entitlement_display(),
    }
    return render(request, "portal/case_detail.html", context, status=status)
