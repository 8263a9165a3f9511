"""Who may change webhooks and macros, and how raw input becomes an action's arguments:
one rule per operation, whatever the door (the console or the API).

- webhooks are the admins': ``automation.add_webhookendpoint`` to add one,
  ``automation.change_webhookendpoint`` to edit, disable, enable or rotate its secret,
  ``automation.change_webhookdelivery`` to replay a delivery;
- macros: ``automation.add_macro``/``change_macro`` for one's own (personal) macros,
  plus ``automation.manage_shared_macro`` for the shared ones (managers, admins);
- rules: ``automation.manage_rule`` to list, create, change, order, switch them and read
  their firing log.

A refusal is ``NotPermitted`` (403) or ``InvalidInput``/``ValidationError`` naming its
field; nothing is written before every check has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from retainer.accounts.access import is_vendor_staff
from retainer.accounts.models import Contact, Organization, Team, User
from retainer.automation import actions, placeholders, rules
from retainer.automation.choices import DeliveryStatus, RuleTrigger
from retainer.automation.destinations import resolve_destination
from retainer.automation.models import Macro, Rule, WebhookDelivery, WebhookEndpoint
from retainer.automation.tasks import send_webhook_task
from retainer.automation.webhooks import subscribable_topics
from retainer.catalog.models import Product, Release
from retainer.kb.models import Article
from retainer.lib.errors import InvalidInput, NotPermitted
from retainer.lib.jobs import enqueue_on_commit
from retainer.lib.sanitize import clean_line, strip_invisible_controls


def require_staff_permission(actor: Any, *perms: str) -> None:
    """Refuse unless ``actor`` is active vendor staff holding every one of ``perms``."""
    if not (is_vendor_staff(actor) and actor.has_perms(perms)):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def authorize_view_webhooks(actor: Any) -> None:
    require_staff_permission(actor, "automation.view_webhookendpoint")


def authorize_add_webhook(actor: Any) -> None:
    require_staff_permission(actor, "automation.add_webhookendpoint")


def authorize_change_webhook(actor: Any) -> None:
    require_staff_permission(actor, "automation.change_webhookendpoint")


def authorize_replay(actor: Any) -> None:
    require_staff_permission(actor, "automation.change_webhookdelivery")


def authorize_view_macros(actor: Any) -> None:
    require_staff_permission(actor, "automation.view_macro")


def authorize_save_macro(actor: Any, *, shared: bool, creating: bool) -> None:
    require_staff_permission(
        actor, "automation.add_macro" if creating else "automation.change_macro"
    )
    if shared:
        require_staff_permission(actor, "automation.manage_shared_macro")


# --- Webhooks ---------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The URL as stored, once it is a reachable public HTTPS destination (or allowed by
    ``RETAINER_WEBHOOK_ALLOW_HOSTS``); ``InvalidInput`` on field ``url`` otherwise."""
    url = clean_line(url or "")
    if not url:
        raise InvalidInput("webhook_url_required", "Enter the URL to send events to.", field="url")
    resolve_destination(url)
    return url


def check_event_types(raw: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(item) for item in raw or ()))
    known = set(subscribable_topics())
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise InvalidInput(
            "unknown_event_type",
            f"Unknown event types: {', '.join(unknown)} (see docs/events.md).",
            field="event_types",
        )
    if not chosen:
        raise InvalidInput(
            "event_types_required", "Choose at least one event type.", field="event_types"
        )
    return sorted(chosen)


def _endpoint_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "url" in raw:
        values["url"] = check_url(raw["url"])
    if "description" in raw:
        values["description"] = clean_line(raw["description"] or "")
    if "event_types" in raw:
        values["event_types"] = check_event_types(raw["event_types"])
    return values


def check_create_endpoint(actor: User, **raw: Any) -> WebhookEndpoint:
    authorize_add_webhook(actor)
    values = _endpoint_values({"description": "", **raw})
    for required in ("url", "event_types"):
        if required not in values:
            _endpoint_values({required: None})  # raises the field's "required" error
    return actions.do_create_endpoint(values=values, actor=actor)


def check_change_endpoint(actor: User, endpoint: WebhookEndpoint, **raw: Any) -> WebhookEndpoint:
    authorize_change_webhook(actor)
    return actions.do_change_endpoint(endpoint, values=_endpoint_values(raw), actor=actor)


def check_disable_endpoint(actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    authorize_change_webhook(actor)
    return actions.do_disable_endpoint(endpoint, reason="Disabled by hand.", actor=actor)


def check_enable_endpoint(actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Enabling checks the URL again: it may resolve elsewhere by now."""
    authorize_change_webhook(actor)
    check_url(endpoint.url)
    endpoint = actions.do_enable_endpoint(endpoint, actor=actor)
    waiting = endpoint.deliveries.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED))
    for pk in waiting.values_list("pk", flat=True)[:100]:
        enqueue_on_commit(send_webhook_task, pk)
    return endpoint


def check_rotate_secret(actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    authorize_change_webhook(actor)
    return actions.do_rotate_secret(endpoint, actor=actor)


def check_replay_delivery(actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue the delivery again (same event id) and send it after commit. Its endpoint
    must be active: a disabled one is enabled first."""
    authorize_replay(actor)
    if not delivery.endpoint.active:
        raise InvalidInput(
            "endpoint_disabled",
            "The endpoint is disabled: enable it first, then replay.",
        )
    delivery = actions.do_replay_delivery(delivery, actor=actor)
    enqueue_on_commit(send_webhook_task, delivery.pk, force=True)
    return delivery


# --- Macros -----------------------------------------------------------------------------------


def check_macro_body(body: str) -> str:
    """The body without invisible controls, once every placeholder in it is known and
    every article it links exists."""
    body = strip_invisible_controls(body or "").strip()
    if not body:
        raise ValidationError({"body": "A macro needs a text."})
    unknown = placeholders.unknown_placeholders(body)
    if unknown:
        raise ValidationError(
            {
                "body": "Unknown placeholders: "
                + ", ".join(f"{{{{ {name} }}}}" for name in unknown)
                + ". Known: "
                + ", ".join(f"{{{{ {name} }}}}" for name in placeholders.KNOWN)
                + " and {{ article:<slug> }}."
            }
        )
    slugs = placeholders.article_slugs(body)
    found = set(Article.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise ValidationError(
            {"body": f"No knowledge article with the slug: {', '.join(missing)}."}
        )
    return body


def check_save_macro(
    actor: User, macro: Macro | None, *, shared: bool = False, **raw: Any
) -> Macro:
    """Create or change a macro. A new macro is the actor's own unless ``shared``; an
    existing one keeps its owner (``shared`` is ignored)."""
    is_shared = macro.shared if macro is not None else shared
    authorize_save_macro(actor, shared=is_shared, creating=macro is None)
    if macro is not None and not macro.shared and macro.owner_id != actor.pk:
        raise NotPermitted("not_your_macro", "Only its owner changes a personal macro.")
    values: dict[str, Any] = {}
    if "name" in raw:
        values["name"] = clean_line(raw["name"] or "")
        if not values["name"]:
            raise ValidationError({"name": "A macro needs a name."})
    if "body" in raw:
        values["body"] = check_macro_body(raw["body"])
    if macro is None and set(values) != {"name", "body"}:
        raise ValidationError({"body": "A macro needs a name and a text."})
    owner = None if is_shared else (macro.owner if macro is not None else actor)
    return actions.do_save_macro(macro, values=values, owner=owner, actor=actor)


# --- Rules ------------------------------------------------------------------------------------


def authorize_manage_rules(actor: Any) -> None:
    require_staff_permission(actor, "automation.manage_rule")


def _missing(model: Any, ids: Iterable[int], **filters: Any) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = set(model.objects.filter(pk__in=wanted, **filters).values_list("pk", flat=True))
    return [pk for pk in wanted if pk not in found]


def _check_references(conditions: rules.Conditions, planned: tuple[rules.Action, ...]) -> None:
    """Every id a rule names exists (agents, also those notified: active staff; teams:
    active)."""
    problems = {
        "organizations": _missing(Organization, conditions.organizations),
        "products": _missing(Product, conditions.products),
        "contacts": _missing(Contact, conditions.contacts),
        "releases": _missing(Release, conditions.releases),
        "agent": _missing(
            User,
            [a.agent for a in planned if a.agent],
            is_staff=True,
            is_active=True,
            is_service_account=False,
        ),
        "team": _missing(Team, [a.team for a in planned if a.team], is_active=True),
        "endpoint": _missing(WebhookEndpoint, [a.endpoint for a in planned if a.endpoint]),
    }
    field = dict.fromkeys(rules.ID_LISTS, "conditions")
    errors: dict[str, list[str]] = {}
    for name, missing in problems.items():
        if missing:
            text = f"No such {name.rstrip('s')}: {', '.join(str(pk) for pk in missing)}."
            errors.setdefault(field.get(name, "actions"), []).append(text)
    if errors:
        raise ValidationError(errors)
    for action in planned:
        unknown = (
            placeholders.unknown_placeholders(action.text) if action.type == "send_reply" else []
        )
        if unknown:
            raise ValidationError(
                {"actions": "Unknown placeholders in the reply: " + ", ".join(unknown) + "."}
            )


def check_rule_definition(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a rule as stored, once its trigger, conditions and actions have the
    documented shape (``automation/rules.py``; a contract trigger's rule only the
    conditions and actions a contract has) and every id they name exists; otherwise
    ``ValidationError`` naming the field (``trigger``, ``trigger_status``,
    ``trigger_hours``, ``conditions``, ``actions``). Unknown top-level fields too."""
    known = {"name", "trigger", "trigger_status", "trigger_hours", "conditions", "actions"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError({"__all__": f"Unknown rule field: {', '.join(unknown)}."})
    name = clean_line(str(raw.get("name") or ""))
    if not name:
        raise ValidationError({"name": "A rule needs a name."})
    trigger = raw.get("trigger")
    if trigger not in RuleTrigger.values:
        raise ValidationError({"trigger": f"Unknown trigger {trigger!r}."})
    status, hours = raw.get("trigger_status") or "", raw.get("trigger_hours")
    if trigger == RuleTrigger.IN_STATUS_FOR:
        if status not in rules.STATUSES:
            raise ValidationError({"trigger_status": "Choose the status the case stays in."})
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 2000:
            raise ValidationError({"trigger_hours": "Business hours from 1 to 2000."})
    else:
        status, hours = "", None
    try:
        conditions = rules.parse_conditions(raw.get("conditions"))
        planned = rules.parse_actions(raw.get("actions"))
        if trigger in rules.CONTRACT_TRIGGERS:
            rules.check_contract_rule(conditions, planned)
    except rules.RuleSchemaError as exc:
        part = exc.part if exc.part in ("conditions", "actions") else "conditions"
        raise ValidationError({part: exc.message}) from exc
    _check_references(conditions, planned)
    return {
        "name": name,
        "trigger": trigger,
        "trigger_status": status,
        "trigger_hours": hours,
        "conditions": conditions.as_json(),
        "actions": [action.as_json() for action in planned],
    }


def check_save_rule(actor: User, rule: Rule | None, **raw: Any) -> Rule:
    """Create (``rule`` None) or change a rule from its whole definition."""
    authorize_manage_rules(actor)
    values = check_rule_definition(raw)
    return actions.do_save_rule(rule, values=values, actor=actor)


def check_switch_rule(actor: User, rule: Rule, *, active: bool) -> Rule:
    authorize_manage_rules(actor)
    return actions.do_switch_rule(rule, active=active, actor=actor)


def check_move_rule(actor: User, rule: Rule, *, direction: str) -> Rule:
    authorize_manage_rules(actor)
    if direction not in ("up", "down"):
        raise InvalidInput("unknown_direction", "Move a rule up or down.", field="direction")
    return actions.do_move_rule(rule, up=direction == "up", actor=actor)


def check_dry_run(
    actor: User, *, conditions: Any, last: int, trigger: str = ""
) -> tuple[int, list[Any]]:
    """Which of the last ``last`` cases the conditions match (reads only). For a contract
    trigger: which active contracts ending within ``RETAINER_CONTRACT_EXPIRING_DAYS`` they
    match (``last`` is not used), once the conditions are ones a contract has."""
    from retainer.automation.selectors import dry_run, dry_run_contracts

    authorize_manage_rules(actor)
    try:
        parsed = rules.parse_conditions(conditions)
        if trigger in rules.CONTRACT_TRIGGERS:
            rules.check_contract_rule(parsed, ())
    except rules.RuleSchemaError as exc:
        raise ValidationError({"conditions": exc.message}) from exc
    if not 1 <= last <= rules.DRY_RUN_MAX:
        raise ValidationError({"last": f"From 1 to {rules.DRY_RUN_MAX} cases."})
    if trigger in rules.CONTRACT_TRIGGERS:
        return dry_run_contracts(conditions=parsed, today=timezone.localdate())
    return dry_run(conditions=parsed, last=last)
