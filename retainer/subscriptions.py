"""Which subscriber takes which events: the one wiring of the outbox (``lib/outbox.py``).

A lower app that must react to what a higher one does exposes a handler (a function
taking a :class:`retainer.lib.outbox.Message`); this project-level module names it, so the
app that writes the event never imports the app that reacts. The catalogue of topics is
in ``docs/events.md``. Handlers are idempotent: a message may reach one twice after a
crash (its database writes commit exactly once with the delivery mark).
"""

from __future__ import annotations

from retainer.automation.engine import rule_topics
from retainer.automation.webhooks import webhook_topics
from retainer.lib.outbox import Subscriber
from retainer.metrics.rollups import TOPICS as METRICS_TOPICS

SUBSCRIBERS: tuple[Subscriber, ...] = (
    # E-mail about a case: to the requester the acknowledgement (cases opened by e-mail),
    # agent replies (public ones only), resolved with the survey link, the fix release
    # (also to watchers); to staff the SLA warning and breach (docs/mail.md).
    Subscriber(
        "mail.case_notifications",
        "retainer.mail.notifications.handle",
        (
            "case.decision_recorded",
            "case.replied",
            "case.status_changed",
            "case.sla_warning",
            "case.sla_breached",
            "case.fix_available",
        ),
        wants="retainer.mail.notifications.wants",
    ),
    # E-mail about an organization: low balance, allowance exhausted and renewal coming up
    # (customer admins and the account owner), a sent services quote (those who may accept
    # it), invoice issued with its PDF (docs/mail.md).
    Subscriber(
        "mail.account_notifications",
        "retainer.mail.notifications.handle_account",
        (
            "contract.balance_low",
            "contract.balance_exhausted",
            "contract.balance_negative",
            "renewal_quote.created",
            "service_quote.sent",
            "invoice.issued",
        ),
        wants="retainer.mail.notifications.wants_account",
    ),
    # Support roll-ups: a case event refreshes the case's share of the dashboards'
    # monthly tallies (docs/metrics.md "Roll-ups").
    Subscriber(
        "metrics.support_rollups",
        "retainer.metrics.rollups.handle",
        METRICS_TOPICS,
        wants="retainer.metrics.rollups.wants",
    ),
    # --- automation (begin) ---
    # Webhooks: every event type of the catalogue (docs/events.md) except automation's
    # own is queued for the active endpoints subscribed to it, then sent by a job with
    # retries (docs/automation.md).
    Subscriber(
        "automation.webhooks",
        "retainer.automation.webhooks.handle",
        webhook_topics(),
        wants="retainer.automation.webhooks.wants",
    ),
    # Rules on events: the active rules a case event (or a balance event of the case's
    # contract) triggers fire in order, as the rules system (docs/automation.md "Rules").
    Subscriber(
        "automation.rules",
        "retainer.automation.engine.handle",
        rule_topics(),
        wants="retainer.automation.engine.wants",
    ),
    # --- automation (end) ---
)
