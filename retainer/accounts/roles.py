"""Vendor staff roles as Django groups, with their permissions declared here.

A pattern is ``app_label.codename`` where the codename may be a ``*`` glob, so a new
model's permissions reach the right roles without a migration. ``sync_role_groups``
makes the groups match this table exactly; it runs after every ``migrate``.
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from django.contrib.auth.models import Group, Permission

from retainer.accounts.choices import Role

# People are deactivated, never deleted, so no role holds delete_* on them.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.AGENT: [
        "accounts.view_*",
        "accounts.add_contact",
        "accounts.change_contact",
        "catalog.view_*",
        "contracts.view_*",
        "contracts.add_entitlementdecision",
        "contracts.override_entitlementdecision",
        "cases.view_*",
        "cases.add_case",
        "cases.change_case",
        "cases.add_casemessage",
        "cases.add_timeentry",
        "cases.change_timeentry",
        "cases.add_defect",
        "cases.change_defect",
        "success.view_*",
        # Knowledge base: write and edit drafts; managers publish (docs/kb.md).
        "kb.view_*",
        "kb.add_article",
        "kb.change_article",
        # E-mail: read the channel, decide about messages in review (docs/mail.md).
        "mail.view_*",
        "mail.change_inboundmessage",
        # Automation: personal macros (docs/automation.md).
        "automation.view_macro",
        "automation.add_macro",
        "automation.change_macro",
    ],
    Role.MANAGER: [
        "accounts.view_*",
        "accounts.add_contact",
        "accounts.change_contact",
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.add_organizationdomain",
        "accounts.change_organizationdomain",
        "accounts.add_team",
        "accounts.change_team",
        "catalog.*",
        "contracts.*",
        "cases.*",
        "billing.view_*",
        "success.*",  # sales and customer success (no sales role: see docs/success.md)
        "kb.*",
        "metrics.*",  # the support and revenue dashboards (docs/metrics.md)
        "mail.*",
        # Automation: personal and shared macros; webhooks are the admins' (docs/automation.md).
        "automation.view_macro",
        "automation.add_macro",
        "automation.change_macro",
        "automation.manage_shared_macro",
        # Rules on events, with their dry run and firing log (docs/automation.md).
        "automation.manage_rule",
    ],
    Role.BILLING: [
        "accounts.view_*",
        "accounts.change_organization",
        "catalog.view_*",
        "contracts.view_*",
        "contracts.add_*",
        "contracts.change_*",
        "contracts.override_*",
        "cases.view_*",
        "billing.*",
        "success.view_*",
        "kb.view_*",
        "metrics.view_revenue_metrics",  # the revenue dashboard, not support's
        "mail.view_*",
    ],
    Role.ADMIN: [
        "accounts.*",  # with accounts.manage_service_tokens: service API tokens, any token
        "catalog.*",
        "contracts.*",
        "cases.*",
        "billing.*",
        "success.*",
        "kb.*",
        "metrics.*",
        "mail.*",
        "auth.view_group",
        # The Operations page: the job worker, failed jobs and event deliveries.
        "lib.view_outboxmessage",
        "lib.view_outboxdelivery",
        "lib.change_outboxdelivery",
        # Automation: webhooks and macros (docs/automation.md).
        "automation.*",
        # Imports from another helpdesk and from CSV files (docs/imports.md).
        "imports.view_importrun",
        "imports.add_importrun",
    ],
}

# Never granted by any role, whatever the patterns say.
NEVER_GRANTED = {
    "mail.add_mailevent",
    "mail.change_mailevent",
    "mail.delete_mailevent",
    "mail.delete_inboundmessage",
    "mail.delete_outboundmessage",
    "mail.delete_mailbox",  # received mail keeps its mailbox: deactivate instead
    "accounts.delete_user",
    "accounts.delete_contact",
    "accounts.delete_organization",
    "accounts.delete_accountevent",
    "accounts.change_accountevent",
    "accounts.add_accountevent",
    # API tokens are made on their pages and revoked, never deleted; the rate counters are
    # the API's own bookkeeping (docs/api.md).
    "accounts.delete_apitoken",
    "accounts.add_apiratecounter",
    "accounts.change_apiratecounter",
    "accounts.delete_apiratecounter",
    "catalog.delete_catalogevent",
    "catalog.change_catalogevent",
    "catalog.add_catalogevent",
    "contracts.delete_ledgerentry",
    "contracts.change_ledgerentry",
    "contracts.delete_contractevent",
    "contracts.change_contractevent",
    "contracts.add_contractevent",
    "cases.add_caseevent",
    "cases.change_caseevent",
    "cases.delete_caseevent",
    "cases.delete_case",
    "cases.delete_timeentry",
    "cases.delete_casemessage",
    "billing.delete_invoice",
    "billing.delete_invoiceline",
    "billing.delete_billeditem",
    "billing.delete_creditnote",
    "billing.delete_creditnoteline",
    "billing.delete_billingrun",
    "billing.delete_numberseries",
    "billing.delete_billingevent",
    "billing.change_billingevent",
    "billing.add_billingevent",
    "billing.delete_renewalquote",
    "billing.delete_billingprofile",
    # Services: quotes are withdrawn and milestones replaced, never deleted (docs/billing.md).
    "billing.delete_servicequote",
    "billing.delete_engagement",
    "billing.delete_engagementmilestone",
    "billing.delete_engagementtimeentry",
    "success.add_successevent",
    "success.change_successevent",
    "success.delete_successevent",
    "kb.delete_article",
    "kb.delete_category",
    "kb.add_articlerevision",
    "kb.change_articlerevision",
    "kb.delete_articlerevision",
    "kb.add_kbevent",
    "kb.change_kbevent",
    "kb.delete_kbevent",
    # Automation: history rows only through actions; endpoints are disabled, never deleted.
    "automation.add_automationevent",
    "automation.change_automationevent",
    "automation.delete_automationevent",
    "automation.delete_webhookendpoint",
    "automation.add_webhookdelivery",
    "automation.delete_webhookdelivery",
}


def permissions_for_role(role: str) -> list[Permission]:
    patterns = ROLE_PERMISSIONS[role]
    matched = []
    for permission in Permission.objects.select_related("content_type"):
        name = f"{permission.content_type.app_label}.{permission.codename}"
        if name in NEVER_GRANTED:
            continue
        if any(fnmatch(name, pattern) for pattern in patterns):
            matched.append(permission)
    return matched


def sync_role_groups() -> None:
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(permissions_for_role(role))


def sync_role_groups_after_migrate(sender: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app; permissions of every app exist by the last one.
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if with_models and sender is with_models[-1]:
        sync_role_groups()
