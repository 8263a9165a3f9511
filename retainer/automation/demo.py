"""Demo webhooks and macros: two endpoints (one on a local receiver, disabled until
someone runs one; one to a public host for invoices) and five macros (four shared, one
personal to an agent)."""

from __future__ import annotations

from retainer.accounts.choices import Role
from retainer.automation import actions
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
