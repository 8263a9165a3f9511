"""Console pages of automation. Webhooks: the list, a new endpoint (its secret shown
once, on the page the creation redirects to), the detail with the delivery log, edit,
disable/enable, rotate the secret, replay a delivery. Macros: the list, new, edit, and
the case page's picker (``macro_apply``: the reply box filled with the rendered macro).
Rules: the ordered list (move, activate, deactivate), new and edit (with the dry run),
the rule's page (dry run and firing log) and the firing log of every rule.

Mutations are POSTs that redirect back with a message; a form refused by its check is
shown again with the errors beside the fields (status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from retainer.accounts.access import request_user
from retainer.accounts.views import staff_required
from retainer.automation import checks, rules, selectors
from retainer.automation.access import (
    access_delivery,
    access_endpoint,
    access_macro,
    access_rule,
    endpoints_visible_to,
    macros_visible_to,
    rules_visible_to,
)
from retainer.automation.choices import AutomationEventType
from retainer.automation.forms import (
    DryRunForm,
    EndpointForm,
    MacroForm,
    MacroPickForm,
    MoveForm,
    RuleForm,
)
from retainer.automation.models import AutomationEvent, Rule, RuleFiring, WebhookEndpoint
from retainer.cases.access import access_case
from retainer.cases.forms.console import ReplyForm
from retainer.lib.errors import DomainError, NotPermitted, add_to_form, report
from retainer.lib.htmx import is_htmx

#: Session key of the secret shown once after creating an endpoint or rotating its secret.
SECRET_KEY = "automation.webhook_secret"  # noqa: S105 - a session key, not a secret


def _require(authorize: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    try:
        authorize(*args, **kwargs)
    except NotPermitted as exc:
        raise PermissionDenied(exc.detail) from exc


def _status(form: Any) -> int:
    return 400 if form.is_bound and form.errors else 200


@require_safe
@staff_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_view_webhooks, user)
    endpoints = selectors.endpoints_for_list(endpoints_visible_to(user))
    return render(request, "automation/endpoint_list.html", {"endpoints": endpoints})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def endpoint_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_add_webhook, user)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = checks.check_create_endpoint(user, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}
            messages.success(request, "Webhook endpoint added.")
            return redirect("automation:endpoint_detail", pk=endpoint.pk)
    context = {"form": form, "endpoint": None}
    return render(request, "automation/endpoint_form.html", context, status=_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    endpoint = access_endpoint(user, pk)
    _require(checks.authorize_change_webhook, user)
    form = EndpointForm(request.POST or None, initial=EndpointForm.initial_for(endpoint))
    if request.method == "POST" and form.is_valid():
        try:
            checks.check_change_endpoint(user, endpoint, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Webhook endpoint saved.")
            return redirect("automation:endpoint_detail", pk=endpoint.pk)
    context = {"form": form, "endpoint": endpoint}
    return render(request, "automation/endpoint_form.html", context, status=_status(form))


def _shown_secret(request: HttpRequest, endpoint: WebhookEndpoint) -> str | None:
    """The secret to show once: taken out of the session by the first page that reads it."""
    if request.method != "GET":
        return None
    held = request.session.get(SECRET_KEY)
    if not held or held.get("endpoint") != endpoint.pk:
        return None
    del request.session[SECRET_KEY]
    return str(held["secret"])


@require_safe
@staff_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint, its history and its delivery log (newest first, 50 a page)."""
    user = request_user(request)
    endpoint = access_endpoint(user, pk)
    deliveries = selectors.deliveries_for_endpoint(endpoint=endpoint)
    context = {
        "endpoint": endpoint,
        "secret": _shown_secret(request, endpoint),
        "page": Paginator(deliveries, 50).get_page(request.GET.get("page")),
        "events": AutomationEvent.objects.filter(endpoint=endpoint).select_related("actor")[:20],
    }
    return render(request, "automation/endpoint_detail.html", context)


def _endpoint_action(
    request: HttpRequest,
    pk: int,
    check: Callable[..., WebhookEndpoint],
    done: str,
    *,
    show_secret: bool = False,
) -> HttpResponse:
    user = request_user(request)
    endpoint = access_endpoint(user, pk)
    try:
        endpoint = check(user, endpoint)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, done)
        if show_secret:
            request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}
    return redirect("automation:endpoint_detail", pk=endpoint.pk)


@require_POST
@staff_required
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    return _endpoint_action(request, pk, checks.check_disable_endpoint, "Endpoint disabled.")


@require_POST
@staff_required
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponse:
    done = "Endpoint enabled; waiting deliveries are being sent."
    return _endpoint_action(request, pk, checks.check_enable_endpoint, done)


@require_POST
@staff_required
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    done = "New secret made: copy it now, it is shown once."
    return _endpoint_action(request, pk, checks.check_rotate_secret, done, show_secret=True)


@require_POST
@staff_required
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    delivery = access_delivery(user, pk)
    try:
        checks.check_replay_delivery(user, delivery)
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, f"Event {delivery.event_id} queued again.")
    return redirect("automation:endpoint_detail", pk=delivery.endpoint_id)


# --- Macros -----------------------------------------------------------------------------------


@require_safe
@staff_required
def macro_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_view_macros, user)
    macros = macros_visible_to(user).select_related("owner")
    return render(request, "automation/macro_list.html", {"macros": macros})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def macro_new(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(checks.authorize_save_macro, user, shared=False, creating=True)
    form = MacroForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            checks.check_save_macro(user, None, **form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Macro saved.")
            return redirect("automation:macro_list")
    context = {"form": form, "macro": None}
    return render(request, "automation/macro_form.html", context, status=_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def macro_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Personal macros: their owner; shared ones: ``automation.manage_shared_macro``."""
    user = request_user(request)
    macro = access_macro(user, pk)
    _require(checks.authorize_save_macro, user, shared=macro.shared, creating=False)
    form = MacroForm(request.POST or None, initial=MacroForm.initial_for(macro))
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "shared"}
        try:
            checks.check_save_macro(user, macro, **values)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, "Macro saved.")
            return redirect("automation:macro_list")
    context = {"form": form, "macro": macro}
    return render(request, "automation/macro_form.html", context, status=_status(form))


@require_safe
@staff_required
def macro_apply(request: HttpRequest, public_id: str) -> HttpResponse:
    """The case's reply box filled with the macro rendered for this case: the bare
    ``<textarea>`` for HTMX (it replaces the reply box), a page to copy from otherwise."""
    user = request_user(request)
    _require(checks.authorize_view_macros, user)
    case = access_case(user, public_id)
    form = MacroPickForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Choose a macro.", status=400, content_type="text/plain")
    macro = access_macro(user, form.cleaned_data["macro"])
    text = selectors.render_macro(macro, case)
    field = ReplyForm(initial={"body": text})["body"]
    if is_htmx(request):
        return HttpResponse(str(field))
    context = {"case": case, "macro": macro, "field": field}
    return render(request, "automation/macro_apply.html", context)


# --- Rules ------------------------------------------------------------------------------------


@require_safe
@staff_required
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules in the order they run, with move up/down and activate/deactivate."""
    user = request_user(request)
    _require(checks.authorize_manage_rules, user)
    rule_rows = selectors.rules_for_list(rules_visible_to(user))
    return render(request, "automation/rule_list.html", {"rules": rule_rows})


def _rule_form(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    """New and edit: *Save*, or *Test on the last N cases* (the same form, nothing saved)."""
    user = request_user(request)
    initial = RuleForm.initial_for(rule) if rule is not None else {"last": 50}
    form = RuleForm(request.POST or None, initial=initial)
    dry: tuple[int, list[Any]] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            if "dry_run" in request.POST:
                dry = checks.check_dry_run(
                    user,
                    conditions=form.conditions(),
                    last=form.cleaned_data.get("last") or 50,
                    trigger=form.cleaned_data["trigger"],
                )
            else:
                saved = checks.check_save_rule(user, rule, **form.definition())
                messages.success(request, "Rule saved.")
                return redirect("automation:rule_detail", pk=saved.pk)
        except (DomainError, ValidationError) as exc:
            add_to_form(form, exc)
    trigger = form.cleaned_data.get("trigger") if form.is_bound and form.is_valid() else ""
    context = {"form": form, "rule": rule, "dry": dry, **_dry_run_scope(trigger)}
    return render(request, "automation/rule_form.html", context, status=_status(form))


def _dry_run_scope(trigger: str | None) -> dict[str, Any]:
    """What a dry run looks at: the last N cases, or for a contract trigger the contracts
    ending within ``RETAINER_CONTRACT_EXPIRING_DAYS``."""
    return {
        "dry_on_contracts": trigger in rules.CONTRACT_TRIGGERS,
        "expiring_days": settings.RETAINER_CONTRACT_EXPIRING_DAYS,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def rule_new(request: HttpRequest) -> HttpResponse:
    _require(checks.authorize_manage_rules, request_user(request))
    return _rule_form(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = access_rule(request_user(request), pk)
    return _rule_form(request, rule)


@require_safe
@staff_required
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The rule, the dry run (``?last=N``: which of the last N cases its conditions
    match, without running anything) and its firing log (newest first, 50 a page)."""
    user = request_user(request)
    rule = access_rule(user, pk)
    dry_form = DryRunForm(request.GET if "last" in request.GET else None, initial={"last": 50})
    dry = None
    if dry_form.is_bound and dry_form.is_valid():
        try:
            dry = checks.check_dry_run(
                user,
                conditions=rule.conditions,
                last=dry_form.cleaned_data["last"],
                trigger=rule.trigger,
            )
        except (DomainError, ValidationError) as exc:
            add_to_form(dry_form, exc)
    firings = selectors.firings_for_list(RuleFiring.objects.filter(rule=rule))
    conditions_said, actions_said = selectors.describe_rule(rule)
    context = {
        "rule": rule,
        "conditions_said": conditions_said,
        "actions_said": actions_said,
        "dry_form": dry_form,
        "dry": dry,
        **_dry_run_scope(rule.trigger),
        "page": Paginator(firings, 50).get_page(request.GET.get("page")),
        "events": AutomationEvent.objects.filter(rule=rule)
        .exclude(type=AutomationEventType.RULE_FIRED)
        .select_related("actor")[:20],
    }
    status = 400 if dry_form.is_bound and dry_form.errors else 200
    return render(request, "automation/rule_detail.html", context, status=status)


def _rule_action(request: HttpRequest, pk: int, done: str, **kwargs: Any) -> HttpResponse:
    user = request_user(request)
    rule = access_rule(user, pk)
    try:
        if "direction" in kwargs:
            checks.check_move_rule(user, rule, direction=kwargs["direction"])
        else:
            checks.check_switch_rule(user, rule, active=kwargs["active"])
    except (DomainError, ValidationError) as exc:
        report(request, exc)
    else:
        messages.success(request, done)
    return redirect("automation:rule_list")


@require_POST
@staff_required
def rule_activate(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_action(request, pk, "Rule activated.", active=True)


@require_POST
@staff_required
def rule_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_action(request, pk, "Rule deactivated.", active=False)


@require_POST
@staff_required
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    form = MoveForm(request.POST)
    direction = form.cleaned_data["direction"] if form.is_valid() else ""
    return _rule_action(request, pk, "Rule moved.", direction=direction)


@require_safe
@staff_required
def firing_list(request: HttpRequest) -> HttpResponse:
    """Every firing of every rule, newest first, 50 a page."""
    user = request_user(request)
    _require(checks.authorize_manage_rules, user)
    firings = selectors.firings_for_list(RuleFiring.objects.filter(rule__in=rules_visible_to(user)))
    context = {"page": Paginator(firings, 50).get_page(request.GET.get("page"))}
    return render(request, "automation/firing_list.html", context)
