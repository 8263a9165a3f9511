"""Signing webhook bodies (pure: no ORM).

``Retainer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
endpoint secret>``. The receiver recomputes it over the raw body, compares in constant
time and refuses old timestamps (docs/automation.md has the snippet).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Retainer-Signature"
EVENT_ID_HEADER = "Retainer-Event-Id"
EVENT_TYPE_HEADER = "Retainer-Event-Type"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: ``True`` when ``header`` signs ``body`` with ``secret`` and its
    timestamp is within ``tolerance`` seconds of ``now``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
