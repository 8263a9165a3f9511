"""Demo webhooks, macros and rules: two endpoints (one on a local receiver, disabled until
someone runs one; one to a public host for invoices), five macros (four shared, one
personal to an agent) and four active rules (one e-mails the account owner of a contract
about to end), the time rule run once and the contracts about to end announced, so the
firing log shows what they did."""

from __future__ import annotations

from retainer.accounts.choices import Role
from retainer.accounts.models import Team
from retainer.automation import actions, checks, engine
from retainer.contracts.actions import do_announce_expiring_contracts
from retainer.kb.choices import ArticleStatus, Visibility
from retainer.kb.models import Article
from retainer.lib.demo import DemoContext

ENDPOINTS = (
    (
        "http://127.0.0.1:8787/retainer-events",
        "Local receiver for trying webhooks out (allow 127.0.0.1 in "
        "RETAINER_WEBHOOK_ALLOW_HOSTS, run a receiver, then enable).",
        ["case.opened", "case.replied", "case.status_changed", "contract.balance_low"],
        False,
    ),
    (
        "https://hooks.example.com/retainer/invoices",
        "Accounting system: invoices as they are issued and paid.",
        ["invoice.issued", "invoice.paid", "invoice.voided", "credit_note.issued"],
        True,
    ),
)

MACROS = (
    (
        "Acknowledge",
        "Hello {{ contact.name }},\n\nthank you for your request. We are looking into "
        "{{ case.reference }} and will get back to you shortly.\n\nBest regards",
    ),
    (
        "Entitlement and balance",
        "Hello {{ contact.name }},\n\n{{ decision }}\n\nYour contract's remaining balance: "
        "{{ balance }}.",
    ),
    (
        "Waiting for logs",
        "Hello {{ contact.name }},\n\nto continue with {{ case.reference }} we need the log "
        "files of the affected system. Please attach them to this case.",
    ),
    (
        "Resolved, please confirm",
        "Hello {{ contact.name }},\n\nwe believe {{ case.reference }} is resolved. If anything "
        "is still not right, just reply and the case opens again.",
    ),
)


def _article_link() -> str:
    article = (
        Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)
        .order_by("id")
        .first()
    )
    return f"\n\nThis article may help: {{{{ article:{article.slug} }}}}" if article else ""


def build(ctx: DemoContext) -> None:
    admin = ctx.objects["admin"]
    staff = ctx.objects["staff"]
    manager = next(u for u in staff if u.groups.filter(name=Role.MANAGER).exists())
    agent = (ctx.objects.get("agents") or [manager])[0]
    for url, description, types, active in ENDPOINTS:
        endpoint = actions.do_create_endpoint(
            values={"url": url, "description": description, "event_types": types}, actor=admin
        )
        if not active:
            actions.do_disable_endpoint(
                endpoint, reason="No local receiver runs in the demo.", actor=admin
            )
    for name, body in MACROS:
        actions.do_save_macro(None, values={"name": name, "body": body}, owner=None, actor=manager)
    actions.do_save_macro(
        None,
        values={
            "name": "My sign-off with an article",
            "body": "Hello {{ contact.name }},\n\nhere is what I found for "
            "{{ case.reference }}." + _article_link(),
        },
        owner=agent,
        actor=agent,
    )
    build_rules(ctx)


def _rules(admin: object) -> list[dict[str, object]]:
    team = Team.objects.filter(name="Escalations").first()
    assign: dict[str, object] = (
        {"type": "assign_team", "team": team.pk, "strategy": "least_loaded"}
        if team is not None
        else {"type": "set_priority", "value": "urgent"}
    )
    return [
        {
            "name": "Severity 1 from Platinum customers to the escalation team",
            "trigger": "case_opened",
            "conditions": {"severities": [1], "plan_tiers": ["platinum"]},
            "actions": [
                assign,
                {"type": "set_priority", "value": "urgent"},
                {"type": "set_tags", "add": ["escalated"]},
                {"type": "notify", "recipient": "account_owner"},
            ],
        },
        {
            "name": "Balance exhausted: tell the account team",
            "trigger": "balance_exhausted",
            "conditions": {},
            "actions": [
                {
                    "type": "add_note",
                    "text": "The contract's allowance is used up: talk to the account owner "
                    "about a top-up before more work is billed as overage.",
                }
            ],
        },
        {
            "name": "Contract expiring: tell the account owner",
            "trigger": "contract_expiring",
            "conditions": {},
            "actions": [{"type": "notify", "recipient": "account_owner"}],
        },
        {
            "name": "Waiting on us for a working day",
            "trigger": "in_status_for",
            "trigger_status": "waiting_on_vendor",
            "trigger_hours": 8,
            "conditions": {},
            "actions": [
                {"type": "set_priority", "value": "high"},
                {
                    "type": "add_note",
                    "text": "Waiting on us for 8 business hours: please pick it up.",
                },
            ],
        },
    ]


def build_rules(ctx: DemoContext) -> None:
    admin = ctx.objects["admin"]
    for definition in _rules(admin):
        actions.do_save_rule(None, values=checks.check_rule_definition(definition), actor=admin)
    fired = engine.run_time_rules()
    # What the daily job does: contracts ending within 30 days are announced, and the
    # outbox hands the announcements to the *Contract expiring* rule after commit.
    expiring = do_announce_expiring_contracts(today=ctx.today)
    ctx.log(
        f"automation: {len(_rules(admin))} rules, {fired} fired on waiting cases, "
        f"{len(expiring)} contracts announced as expiring"
    )
