"""Background jobs of the cases app."""

from __future__ import annotations

from retainer.cases import actions


def scan_sla_clocks() -> dict[str, int]:
    """Record due SLA warnings and breaches (idempotent; run every minute)."""
    return actions.do_scan_sla_clocks()
