"""Configuration of automation, read from Django settings when set there (tests do) and
otherwise from the environment (docs/automation.md, "Configuration")."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from retainer.lib.env import env


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def allow_hosts() -> frozenset[str]:
    """``RETAINER_WEBHOOK_ALLOW_HOSTS``: host names or addresses a webhook may reach even
    on a private or loopback address, and over plain HTTP (comma-separated; default none)."""
    raw = _setting("RETAINER_WEBHOOK_ALLOW_HOSTS", None)
    if raw is None:
        raw = env.string("RETAINER_WEBHOOK_ALLOW_HOSTS", "")
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return frozenset(item.strip().lower().strip("[]") for item in items if item.strip())


def disable_after() -> int:
    """``RETAINER_WEBHOOK_DISABLE_AFTER``: consecutive failed attempts after which an
    endpoint is disabled (default 10)."""
    value = _setting("RETAINER_WEBHOOK_DISABLE_AFTER", None)
    if value is None:
        value = env.integer("RETAINER_WEBHOOK_DISABLE_AFTER", 10, min_value=1, max_value=1000)
    return int(value)


def max_attempts() -> int:
    """``RETAINER_WEBHOOK_MAX_ATTEMPTS``: attempts of one delivery before it is given up
    (default 15: about two days with the back-off)."""
    value = _setting("RETAINER_WEBHOOK_MAX_ATTEMPTS", None)
    if value is None:
        value = env.integer("RETAINER_WEBHOOK_MAX_ATTEMPTS", 15, min_value=1, max_value=100)
    return int(value)


def timeout_seconds() -> float:
    """``RETAINER_WEBHOOK_TIMEOUT``: seconds to connect and to wait for each read (default 10)."""
    value = _setting("RETAINER_WEBHOOK_TIMEOUT", None)
    if value is None:
        value = env.integer("RETAINER_WEBHOOK_TIMEOUT", 10, min_value=1, max_value=60)
    return float(value)
