"""Request limits on the REST API, counted in the database so that every worker process
and host shares them (``docs/api.md``, "Rate limits").

Each client has two budgets per one-minute window, reads (GET, HEAD, OPTIONS) and writes
(everything else): ``RETAINER_API_READS_PER_MINUTE`` and
``RETAINER_API_WRITES_PER_MINUTE`` (0 switches a budget off). The client is the API token
of a token request, else the signed-in user, else the client address
(``accounts.throttling.client_address``).

One statement per request: an upsert of the window's counter that adds one only while
the count is below the limit, and returns the new count — or nothing when the budget is
spent, so a refused request writes nothing at all. It runs as DRF's throttle, after
authentication and the view's permission check and before the view itself. Every
answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset``; a refusal is 429 ``rate_limited`` with ``Retry-After`` and
``retry_after`` in the body. The throttle also notes an admitted token's last use
(``actions.do_touch_api_token``: one write a minute at most).
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from retainer.accounts import actions
from retainer.accounts.models import ApiRateCounter, ApiToken
from retainer.accounts.throttling import client_address
from retainer.accounts.tokens import SAFE_METHODS

#: The length of a counting window, in seconds.
WINDOW_SECONDS = 60


class RateLimited(exceptions.Throttled):
    """429: the client's budget for this kind of request is spent until the window ends."""

    default_code = "rate_limited"
    wait: int

    def __init__(self, *, wait: int, limit: int, kind: str) -> None:
        # APIException's constructor, not Throttled's: that one appends its own sentence.
        exceptions.APIException.__init__(
            self,
            f"Too many API {kind} from this client: at most {limit} a minute. "
            f"Try again in {wait} seconds.",
        )
        self.wait = wait


def _upsert_sql() -> str:
    table = connection.ops.quote_name(ApiRateCounter._meta.db_table)
    # The same text on SQLite (3.35+) and PostgreSQL: the conflict target, the guarded
    # update and RETURNING are in both. No row comes back when the guard refuses.
    return (
        f"INSERT INTO {table} (bucket, window_index, hits) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (bucket, window_index) DO UPDATE SET hits = {table}.hits + 1 "
        f"WHERE {table}.hits < %s RETURNING hits"
    )


def hit(bucket: str, window_index: int, limit: int) -> int | None:
    """Count one request in ``bucket``'s window if fewer than ``limit`` were counted;
    the new count, or None when the budget was spent (then nothing is written)."""
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), [bucket, window_index, limit])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def spend(bucket: str, limit: int, *, now: float | None = None) -> int | None:
    """Count one request in ``bucket``'s current one-minute window; ``None`` while the
    budget of ``limit`` lasts, else the seconds until the window ends (nothing written)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    if hit(bucket[:120], window, limit) is not None:
        return None
    return max(math.ceil((window + 1) * WINDOW_SECONDS - now), 1)


def client_key(request: Any) -> str:
    """Whose budget a request spends: its token's, its user's, or its address's."""
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    user = request.user
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address(request._request) or 'unknown'}"


class ApiRateThrottle(BaseThrottle):
    """DRF throttle of every API view (``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        write = request.method.upper() not in SAFE_METHODS
        limit = (
            settings.RETAINER_API_WRITES_PER_MINUTE
            if write
            else settings.RETAINER_API_READS_PER_MINUTE
        )
        if limit:
            now = time.time()
            window = int(now // WINDOW_SECONDS)
            bucket = f"{client_key(request)}:{'write' if write else 'read'}"
            count = hit(bucket[:120], window, limit)
            reset = max(math.ceil((window + 1) * WINDOW_SECONDS - now), 1)
            # The view's headers go on its answer, a refusal included (finalize_response).
            view.headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": str(0 if count is None else limit - count),
                    "X-RateLimit-Reset": str(reset),
                }
            )
            if count is None:
                raise RateLimited(wait=reset, limit=limit, kind="writes" if write else "reads")
        if isinstance(request.auth, ApiToken):
            actions.do_touch_api_token(request.auth, now=timezone.now())
        return True


def do_prune_api_rate_counters(*, now: float | None = None) -> int:
    """Delete the counters of windows that have ended (the current one is kept); returns
    how many rows went. Run by a periodic job."""
    current = int((time.time() if now is None else now) // WINDOW_SECONDS)
    deleted, _ = ApiRateCounter.objects.filter(window_index__lt=current).delete()
    return deleted


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_INT = {"schema": {"type": "integer"}}


def document_api_access(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation can answer 401 (a bearer
    token that cannot be used) and 429 (a spent budget), with the error body and the
    rate-limit headers."""
    too_many = {
        "description": "Too many requests from this client in this minute "
        "(`retry_after` in the body, seconds).",
        "headers": {
            "Retry-After": {**_INT, "description": "Seconds until the window ends."},
            "X-RateLimit-Limit": {**_INT, "description": "The budget of this minute."},
            "X-RateLimit-Remaining": {**_INT, "description": "What is left of it."},
            "X-RateLimit-Reset": {**_INT, "description": "Seconds until the next window."},
        },
        "content": _ERROR,
    }
    rejected = {
        "description": "The bearer token is unknown, revoked or expired, or its user can "
        "no longer act (`WWW-Authenticate: Bearer`).",
        "content": _ERROR,
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("401", rejected)
                operation["responses"].setdefault("429", too_many)
    return result
