"""Contracts in the agent console: the list, selling a contract, one contract with its
ledger (top up, renew, cancel, rename, named contacts), and the plan catalogue with its
create and new-version forms. Mutations are POSTs that redirect back; a form page that
refuses its input is shown again with the errors beside the fields (status 400)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.models import User
from retainer.accounts.views import staff_required
from retainer.contracts import checks, selectors
from retainer.contracts.access import access_contract, contracts_visible_to
from retainer.contracts.choices import ContractStatus, Preset
from retainer.contracts.forms import (
    CancelForm,
    ContractForm,
    NamedContactForm,
    PlanForm,
    RenameForm,
    TopUpForm,
)
from retainer.contracts.models import Contract, SupportPlan
from retainer.contracts.terms import preset_terms
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report


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
        contracts = contracts.filter(
            Q(organization__name__icontains=q.strip()) | Q(name__icontains=q.strip())
        )
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
            "rename_form": RenameForm(initial={"name": contract.name}),
            "named": selectors.named_contacts_for_contract(contract=contract),
        },
    )


def _require(authorize: Callable[[User], None], user: User) -> None:
    """Run an ``authorize_*`` rule of ``checks``: a refusal is the 403 page."""
    try:
        authorize(user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


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
    messages.success(request, f"Renewed: the new term is {renewal.name}.")
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


@require_POST
@staff_required
def contract_rename(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    contract = access_contract(user, pk)
    form = RenameForm(request.POST)
    try:
        checks.authorize_change_contract(user)  # before the form is read
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        checks.check_rename_contract(user, contract, name=form.cleaned_data["name"])
    except (DomainError, ValidationError) as exc:
        return _refused(request, pk, exc)
    return _back(request, pk, "Renamed.")


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def contract_new(request: HttpRequest) -> HttpResponse:
    """Sell a contract (``?organization=<id>&plan=<id>`` fill the form in)."""
    user = request_user(request)
    _require(checks.authorize_create_contract, user)
    if request.method != "POST":
        form = ContractForm(initial=request.GET.dict())
        return render(request, "contracts/contract_form.html", {"form": form})
    form = ContractForm(request.POST)
    if form.is_valid():
        try:
            contract = checks.check_create_contract(user, **form.values())
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Sold: {contract.name}.")
            return redirect("contracts:contract_detail", pk=contract.pk)
    return render(request, "contracts/contract_form.html", {"form": form}, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def contract_named_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """The contract's named contacts; POST names one (``op=add``) or removes one
    (``op=remove``) within the plan's limit."""
    user = request_user(request)
    contract = access_contract(user, pk)
    form = NamedContactForm(request.POST or None, organization_id=contract.organization_id)
    if request.method == "POST":
        _require(checks.authorize_change_contract, user)  # before the form is read
        change = (
            checks.check_remove_named_contact
            if request.POST.get("op") == "remove"
            else checks.check_add_named_contact
        )
        if form.is_valid():
            try:
                change(user, contract, form.cleaned_data["contact"])
            except (DomainError, ValidationError) as exc:
                add_to_form(form, exc)
            else:
                messages.success(request, "Named contacts saved.")
                return redirect("contracts:contract_named_contacts", pk=contract.pk)
    context = {
        "contract": contract,
        "terms": contract.plan_terms,
        "limit": selectors.named_contacts_limit(contract=contract),
        "named": selectors.named_contacts_for_contract(contract=contract),
        "form": form,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "contracts/contract_named_contacts.html", context, status=status)


# --- Plans ---------------------------------------------------------------------------------


@require_safe
@staff_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = [(plan, plan.plan_terms) for plan in selectors.plans_current()]
    context = {"plans": plans, "presets": Preset.choices}
    return render(request, "contracts/plan_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def plan_new(request: HttpRequest) -> HttpResponse:
    """A new plan on a preset's terms (``?preset=bank``; without one, the choice of presets)."""
    user = request_user(request)
    _require(checks.authorize_change_plans, user)
    preset = request.POST.get("preset") or request.GET.get("preset", "")
    if preset not in Preset.values:
        return render(request, "contracts/plan_presets.html", {"presets": Preset.choices})
    form = PlanForm(request.POST or None, plan_terms=preset_terms(preset))
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            plan = checks.check_create_plan(
                user, code=values["code"], name=values["name"], preset=preset,
                terms=form.terms(), products=values["products"], in_plan_unit=True,
            )  # fmt: skip
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Plan {plan} created.")
            return redirect("contracts:plan_list")
    return _plan_form(request, form, plan=None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a plan: saving creates its next version (contracts sold keep their terms)."""
    user = request_user(request)
    _require(checks.authorize_change_plans, user)
    plan = selectors.plan_for_edit(pk=pk)
    initial = {"name": plan.name, "products": list(plan.products.all())}
    form = PlanForm(request.POST or None, plan_terms=plan.plan_terms, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            new = checks.check_create_plan_version(
                user, plan, name=values["name"], products=values["products"],
                terms=form.terms(), in_plan_unit=True,
            )  # fmt: skip
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, f"Saved as {new}.")
            return redirect("contracts:plan_list")
    return _plan_form(request, form, plan=plan)


def _plan_form(request: HttpRequest, form: PlanForm, *, plan: SupportPlan | None) -> HttpResponse:
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "plan": plan, "preset": Preset(form.preset)}
    return render(request, "contracts/plan_form.html", context, status=status)
