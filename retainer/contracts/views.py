"""Contracts in the agent console: the list, one contract with its ledger (top up, renew,
cancel), and the plan catalogue. Mutations are POSTs that redirect back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from retainer.accounts.views import staff_required
from retainer.contracts import actions, selectors
from retainer.contracts.access import access_contract, contracts_visible_to
from retainer.contracts.choices import ContractStatus, Preset
from retainer.contracts.forms import CancelForm, TopUpForm
from retainer.contracts.models import Contract
from retainer.lib.auth import request_user


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


def _done(request: HttpRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("contracts:contract_detail", pk=pk)


def _refused(request: HttpRequest, pk: int, exc: Exception) -> HttpResponse:
    detail = getattr(exc, "detail", None) or " ".join(getattr(exc, "messages", [str(exc)]))
    messages.error(request, detail)
    return redirect("contracts:contract_detail", pk=pk)


@require_POST
@staff_required
def contract_top_up(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk, for_write=True)
    form = TopUpForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, ValidationError(form.errors.as_text()))
    quantity = form.cleaned_data["quantity"] * (60 if contract.unit == "hours" else 1)
    try:
        actions.do_top_up(contract, quantity=quantity, key=form.cleaned_data["key"],
                          price=form.cleaned_data["price"], actor=user)  # fmt: skip
    except (actions.ContractError, ValidationError) as exc:
        return _refused(request, pk, exc)
    return _done(request, pk, "Topped up.")


@require_POST
@staff_required
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk, for_write=True)
    try:
        renewal = actions.do_renew_contract(contract, actor=user)
    except (actions.ContractError, ValidationError) as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Renewed: the new term is contract #{renewal.pk}.")
    return redirect("contracts:contract_detail", pk=renewal.pk)


@require_POST
@staff_required
def contract_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk, for_write=True)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, ValidationError("A cancellation needs a reason."))
    try:
        actions.do_cancel_contract(contract, reason=form.cleaned_data["reason"], actor=user)
    except (actions.ContractError, ValidationError) as exc:
        return _refused(request, pk, exc)
    return _done(request, pk, "Cancelled.")


@require_safe
@staff_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = [(plan, plan.plan_terms) for plan in selectors.plans_current()]
    return render(request, "contracts/plan_list.html", {"plans": plans})
