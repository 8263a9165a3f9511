"""The pure rules of API tokens: their text, its digest, and what a scope lets through.

A token reads ``rtk_<id>_<secret>``: the row's id, so the server finds the row with its
primary key, and 43 characters of URL-safe randomness (256 bits). Only the SHA-256 of the
secret is stored; with that much entropy a plain hash is enough (a slow password hash
protects guessable secrets, and would cost every API request its time). No ORM here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from retainer.accounts.choices import API_AREAS, READ, WRITE

PREFIX = "rtk_"
_TOKEN = re.compile(r"^rtk_([1-9][0-9]{0,17})_([A-Za-z0-9_-]{43})$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_secret() -> str:
    """43 URL-safe characters: 256 bits from the operating system's generator."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The stored form of a secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_text(token_id: int, secret: str) -> str:
    """What the owner is shown once and sends as ``Authorization: Bearer …``."""
    return f"{PREFIX}{token_id}_{secret}"


def parse(text: str) -> tuple[int, str] | None:
    """``(id, secret)`` of a token's text, or None when it is not shaped like one."""
    match = _TOKEN.match(text.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def secret_matches(secret: str, stored_digest: str) -> bool:
    """Whether ``secret`` is the one ``stored_digest`` was made from (constant time)."""
    return hmac.compare_digest(digest(secret), stored_digest)


def scope(area: str, access: str) -> str:
    return f"{area}:{access}"


ALL_SCOPES = tuple(scope(area, access) for area in API_AREAS for access in (READ, WRITE))


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes sorted, each once; a write scope brings its area's read scope with it
    (a client that may change something may read it). Unknown scopes raise ``ValueError``
    naming them."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ValueError(", ".join(unknown))
    for value in list(wanted):
        area, access = value.split(":")
        if access == WRITE:
            wanted.add(scope(area, READ))
    return sorted(wanted, key=ALL_SCOPES.index)


def area_of(module: str) -> str | None:
    """The API area of a view from its module (``retainer.cases.api`` → ``cases``), or
    None for a view outside every area (which no token may reach)."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "retainer" and parts[1] in API_AREAS:
        return parts[1]
    return None


def needed_scope(module: str, method: str) -> str | None:
    """The scope a request of ``method`` to a view of ``module`` needs: the area's read
    scope for GET, HEAD and OPTIONS, its write scope for anything else. None when the view
    is in no area."""
    area = area_of(module)
    if area is None:
        return None
    return scope(area, READ if method.upper() in SAFE_METHODS else WRITE)
