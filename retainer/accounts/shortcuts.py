"""The console's keyboard shortcuts and a staff member's choice of keys (WCAG 2.1.4).

A pure rule, no ORM: what the shortcuts are, their default keys, which remapping is
valid, and the keys in effect for a user's stored overrides. ``console.js`` reads the
result from ``<meta name="retainer-shortcuts">`` (``accounts/context_processors.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Shortcut:
    action: str
    key: str
    label: str


#: Every shortcut with its default key, in the order of the help dialog.
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("next", "j", "Next case"),
    Shortcut("reply", "r", "Reply"),
    Shortcut("note", "n", "Internal note"),
    Shortcut("assign", "a", "Assign to me"),
    Shortcut("timer", "t", "Start or stop the timer"),
    Shortcut("help", "?", "The list of shortcuts"),
)
ACTIONS = frozenset(s.action for s in SHORTCUTS)
DEFAULT_KEYS = {s.action: s.key for s in SHORTCUTS}


def key_error(key: str) -> str | None:
    """Why ``key`` cannot be a shortcut: one visible character, typed without a modifier."""
    if len(key) != 1 or not key.isprintable() or key.isspace():
        return "A shortcut is a single visible character, such as j or /."
    return None


def shortcut_key_errors(keys: Mapping[str, Any]) -> dict[str, str]:
    """Every refusal of a mapping ``{action: key}``, by action (empty when it is valid):
    unknown actions, keys that are not one visible character, and one key for two
    actions once the defaults fill in what ``keys`` leaves out."""
    errors: dict[str, str] = {}
    for action, key in keys.items():
        if action not in ACTIONS:
            errors[str(action)] = f"There is no shortcut called {action!r}."
            continue
        message = key_error(key) if isinstance(key, str) else "A shortcut is a character."
        if message:
            errors[action] = message
    if errors:
        return errors
    taken: dict[str, str] = {}
    for action, key in effective_keys(keys).items():
        if key in taken:
            errors[action] = f"{key} is already the key of {label(taken[key]).lower()}."
        taken[key] = action
    return errors


def validate_shortcut_keys(value: Any) -> None:
    """Model validator of ``User.shortcut_keys``."""
    if not isinstance(value, Mapping):
        raise ValidationError("Shortcut keys are a mapping of shortcut to key.")
    errors = shortcut_key_errors(value)
    if errors:
        raise ValidationError([f"{action}: {message}" for action, message in errors.items()])


def effective_keys(overrides: Mapping[str, Any]) -> dict[str, str]:
    """The key of every shortcut: the user's own, else the default."""
    return {s.action: str(overrides.get(s.action) or s.key) for s in SHORTCUTS}


def overrides_for(keys: Mapping[str, str]) -> dict[str, str]:
    """What to store of a complete mapping: only the keys that differ from the defaults,
    so a user who remapped nothing follows any future change of a default."""
    return {action: key for action, key in keys.items() if DEFAULT_KEYS.get(action) != key}


def label(action: str) -> str:
    return next(s.label for s in SHORTCUTS if s.action == action)


def client_config(*, enabled: bool, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """What ``console.js`` reads: whether shortcuts are on, and the key of each action."""
    return {"enabled": enabled, "keys": effective_keys(overrides)}
