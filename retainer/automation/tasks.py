"""Background jobs of automation."""

from __future__ import annotations

from django_tasks import task


@task()
def send_webhook_task(delivery_id: int, force: bool = False) -> str | None:
    """One attempt of a webhook delivery if it is due (``force``: a replay, now).
    Idempotent: a delivered, given-up or claimed delivery is left alone."""
    from retainer.automation.webhooks import send

    return send(delivery_id, force=force)


def send_due_webhooks() -> int:
    """What the periodic job runs: every delivery that is due (``webhooks.send_due``)."""
    from retainer.automation.webhooks import send_due

    return send_due()


def run_time_rules() -> int:
    """What the periodic job runs: the time trigger of rules (``engine.run_time_rules``)."""
    from retainer.automation.engine import run_time_rules as run

    return run()
