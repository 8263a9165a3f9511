"""What a user may see of automation. Webhooks are vendor-wide (not an organization's):
staff holding ``automation.view_webhookendpoint`` see them all; anyone else gets a 404,
exactly as for an endpoint that does not exist. Macros: shared ones and one's own.
Rules are vendor-wide too: staff holding ``automation.manage_rule``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from retainer.accounts.access import is_vendor_staff
from retainer.automation.models import Macro, Rule, WebhookDelivery, WebhookEndpoint


def _sees_webhooks(user: Any) -> bool:
    return is_vendor_staff(user) and user.has_perm("automation.view_webhookendpoint")


def endpoints_visible_to(user: Any) -> QuerySet[WebhookEndpoint]:
    if not _sees_webhooks(user):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.all()


def access_endpoint(user: Any, endpoint_id: int) -> WebhookEndpoint:
    try:
        return endpoints_visible_to(user).get(pk=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint.") from None


def deliveries_visible_to(user: Any) -> QuerySet[WebhookDelivery]:
    if not _sees_webhooks(user):
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.select_related("endpoint")


def access_delivery(user: Any, delivery_id: int) -> WebhookDelivery:
    try:
        return deliveries_visible_to(user).get(pk=delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such webhook delivery.") from None


def macros_visible_to(user: Any) -> QuerySet[Macro]:
    """Shared macros and the user's own, for staff who may use macros."""
    if not (is_vendor_staff(user) and user.has_perm("automation.view_macro")):
        return Macro.objects.none()
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def access_macro(user: Any, macro_id: int) -> Macro:
    try:
        return macros_visible_to(user).get(pk=macro_id)
    except Macro.DoesNotExist:
        raise Http404("No such macro.") from None


def rules_visible_to(user: Any) -> QuerySet[Rule]:
    if not (is_vendor_staff(user) and user.has_perm("automation.manage_rule")):
        return Rule.objects.none()
    return Rule.objects.all()


def access_rule(user: Any, rule_id: int) -> Rule:
    try:
        return rules_visible_to(user).get(pk=rule_id)
    except Rule.DoesNotExist:
        raise Http404("No such rule.") from None
