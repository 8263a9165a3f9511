"""Typed readers for configuration from environment variables.

Each reader fails loudly with the variable's name, the value it got and what it
expected, so a typo in deployment stops the process at start-up instead of
quietly falling back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MISSING = object()

T = TypeVar("T")


class Env:
    """Reads configuration from a mapping (``os.environ`` by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    def _raw(self, name: str, default: object) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            if default is _MISSING:
                raise ImproperlyConfigured(f"{name} is required but not set.")
            return None
        return value.strip()

    def string(self, name: str, default: str | object = _MISSING) -> str:
        raw = self._raw(name, default)
        return raw if raw is not None else str(default)

    def optional_string(self, name: str) -> str | None:
        return self._raw(name, None)

    def boolean(self, name: str, default: bool | object = _MISSING) -> bool:
        raw = self._raw(name, default)
        if raw is None:
            return bool(default)
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name} must be one of true/false/yes/no/on/off/1/0, got {raw!r}."
        )

    def integer(
        self,
        name: str,
        default: int | object = _MISSING,
        *,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> int:
        raw = self._raw(name, default)
        if raw is None:
            return default if isinstance(default, int) else 0
        try:
            value = int(raw)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
        if min_value is not None and value < min_value:
            raise ImproperlyConfigured(f"{name} must be at least {min_value}, got {value}.")
        if max_value is not None and value > max_value:
            raise ImproperlyConfigured(f"{name} must be at most {max_value}, got {value}.")
        return value

    def number(self, name: str, default: Decimal | object = _MISSING) -> Decimal:
        raw = self._raw(name, default)
        if raw is None:
            return Decimal(str(default))
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise ImproperlyConfigured(f"{name} must be a decimal number, got {raw!r}.") from None
        if not value.is_finite():
            raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}.")
        return value

    def items(self, name: str, default: list[str] | object = _MISSING) -> list[str]:
        raw = self._raw(name, default)
        if raw is None:
            return list(default) if isinstance(default, list) else []
        return [item.strip() for item in raw.split(",") if item.strip()]

    def choice(self, name: str, choices: tuple[str, ...], default: str | object = _MISSING) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise ImproperlyConfigured(
                f"{name} must be one of {', '.join(choices)}, got {value!r}."
            )
        return value

    def timezone(self, name: str, default: str | object = _MISSING) -> str:
        value = self.string(name, default)
        if value not in available_timezones():
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ImproperlyConfigured(
                    f"{name} must be an IANA time zone such as Europe/Berlin, got {value!r}."
                ) from None
        return value

    def url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        raw = self._raw(name, None)
        if raw is None:
            return None
        scheme, sep, rest = raw.partition("://")
        if not sep or scheme not in schemes or not rest:
            raise ImproperlyConfigured(
                f"{name} must be a URL starting with one of "
                f"{', '.join(s + '://' for s in schemes)}, got a value starting with {scheme!r}."
            )
        return raw


env = Env()
