"""Automation objects for the route × role matrix (``tests/test_url_access.py``): an active
endpoint with one pending delivery, a shared macro and an active rule."""

from __future__ import annotations

from typing import Any

from retainer.automation import actions, webhooks
from retainer.kb import actions as kb_actions
from retainer.lib.models import OutboxMessage
from retainer.lib.outbox import Message


def url_objects(cast: Any) -> dict[str, int]:
    endpoint = actions.do_create_endpoint(
        values={
            "url": "https://hooks.example.com/retainer",
            "description": "CRM",
            "event_types": ["category.saved"],
        },
        actor=cast.admin,
    )
    kb_actions.do_save_category(None, values={"name": "Webhooks"}, actor=cast.admin)
    row = OutboxMessage.objects.filter(topic="category.saved").latest("id")
    webhooks.handle(Message(row.pk, row.topic, row.payload, row.occurred_at))
    delivery = endpoint.deliveries.get()
    macro = actions.do_save_macro(
        None, values={"name": "Hello", "body": "Hello {{ contact.name }}"}, owner=None,
        actor=cast.manager,
    )  # fmt: skip
    rule = actions.do_save_rule(
        None,
        values={
            "name": "Urgent severity 1",
            "trigger": "case_opened",
            "conditions": {"severities": [1]},
            "actions": [{"type": "set_priority", "value": "urgent"}],
        },
        actor=cast.admin,
    )
    return {
        **dict.fromkeys(
            [
                f"automation:rule_{view}"
                for view in ("detail", "edit", "activate", "deactivate", "move")
            ],
            rule.pk,
        ),
        **dict.fromkeys(
            [
                f"automation:endpoint_{view}"
                for view in ("detail", "edit", "disable", "enable", "rotate")
            ]
            + [
                f"api:webhook_{view}"
                for view in ("detail", "disable", "enable", "rotate_secret", "delivery_list")
            ],
            endpoint.pk,
        ),
        "automation:delivery_replay": delivery.pk,
        "api:webhook_delivery_replay": delivery.pk,
        "automation:macro_edit": macro.pk,
    }
