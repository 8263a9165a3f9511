"""Background jobs of the e-mail channel."""

from __future__ import annotations

from django_tasks import task


@task()
def send_outbound_task(outbound_id: int) -> bool:
    """Send one queued e-mail (idempotent: a sent or claimed one is left alone)."""
    from retainer.mail.actions import do_send_outbound

    return do_send_outbound(outbound_id)
