"""Contracts in the agent console: the list, one contract with its ledger (top up, renew,
cancel), and the plan catalogue. Mutations are POSTs that redirect back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.contracts import checks, selectors
from retainer.contracts.access import access_contract, contracts_visible_to
from retainer.contracts.choices import ContractStatus, Preset
from retainer.contracts.forms import CancelForm, TopUpForm
from retainer.contracts.models import Contract
from retainer.lib.errors import DomainError, report


@require_safe
@staff_required
def contract_list(request: HttpRequest) -> HttpResponse:
    contracts = contracts_visible_to(request_user(request)).select_related("organization", "plan")
    status, preset, q = (
        request.GET.get("status", ""),
        request.GET.get("preset", ""),
        request.GET.get("q", ""),
    )
    if status in ContractStatus.values:
        contracts = contracts.filter(status=status)
    if preset in Preset.values:
        contracts = contracts.filter(preset=preset)
    if q.strip():
        contracts = contracts.filter(organization__name__icontains=q.strip())
    page = Paginator(contracts.order_by("-id"), 25).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "preset": preset, "q": q}
    context.update(statuses=ContractStatus.choices, presets=Preset.choices)
    return render(request, "contracts/contract_list.html", context)


@require_safe
@staff_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = access_contract(request_user(request), pk)
    contract = selectors.contracts_with_relations(Contract.objects.filter(pk=contract.pk)).get()
    return render(
        request,
        "contracts/contract_detail.html",
        {
            "contract": contract,
            "terms": contract.plan_terms,
            "summary": selectors.balance_summary(contract=contract),
            "ledger": selectors.ledger_for_contract(contract=contract).order_by("-id")[:200],
            "events": selectors.events_for_contract(contract=contract)[:50],
            "top_up_form": TopUpForm(),
            "cancel_form": CancelForm(),
        },
    )


def _back(request: HttpRequest, pk: int, message: str | None = None) -> HttpResponse:
    if message:
        messages.success(request, message)
    return redirect("contracts:contract_detail", pk=pk)


def _refused(request: HttpRequest, pk: int, exc: DomainError | ValidationError) -> HttpResponse:
    """Back to the contract with the refusal shown (403 and 404 refusals raise instead)."""
    report(request, exc)
    return redirect("contracts:contract_detail", pk=pk)


@require_POST
@staff_required
def contract_top_up(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk)
    form = TopUpForm(request.POST)
    try:
        checks.authorize_ledger_entry(user)  # before the form is read: a 403, not its errors
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        # The console's form asks in the contract's own unit: hours for hour contracts.
        checks.check_top_up(user, contract, unit=contract.unit, **form.cleaned_data)
    except (DomainError, ValidationError) as exc:
        return _refused(request, pk, exc)
    return _back(request, pk, "Topped up.")


@require_POST
@staff_required
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk)
    try:
        renewal = checks.check_renew_contract(user, contract)
    except (DomainError, ValidationError) as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Renewed: the new term is contract #{renewal.pk}.")
    return redirect("contracts:contract_detail", pk=renewal.pk)


@require_POST
@staff_required
def contract_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk)
    form = CancelForm(request.POST)
    try:
        checks.authorize_change_contract(user)  # before the form is read
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        checks.check_cancel_contract(user, contract, reason=form.cleaned_data["reason"])
    except (DomainError, ValidationError) as exc:
        return _refused(request, pk, exc)
    return _back(request, pk, "Cancelled.")


@require_safe
@staff_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = [(plan, plan.plan_terms) for plan in selectors.plans_current()]
    return render(request, "contracts/plan_list.html", {"plans": plans})
