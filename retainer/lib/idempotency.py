"""``Idempotency-Key`` for write endpoints, with Stripe's semantics.

- A request without the header runs normally.
- The first request with a key runs inside one transaction that ends by inserting
  the key row (unique per user and key) with its response (status and body), so
  either both the effects and the stored response commit, or neither does.
- The same key with the same method, path and body returns the stored response
  (same status, same body) with the header ``Idempotent-Replayed: true``.
- The same key with a different request is a 409 ``idempotency_key_reused``.
- A malformed key (empty, longer than 255 characters, non-printable) is a 400
  ``idempotency_key_invalid``.
- Concurrent requests with one key take effect once: the later one fails on the
  unique key row (on PostgreSQL after waiting for the first to commit), which rolls
  back everything it did, and replays the stored response.
- A request that fails (4xx/5xx) stores nothing, so it may be retried with the key.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from retainer.lib import compiled
from retainer.lib.errors import Conflict, InvalidInput
from retainer.lib.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_LENGTH = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Up to 255 printable characters. Replaying a key with the same request returns "
        "the stored response; with a different request, 409 idempotency_key_reused."
    ),
)

View = TypeVar("View", bound=Callable[..., Response])

# On every write with a key: compiled once (``lib/compiled.py``).
_KEY_USED = compiled.Select[int](
    lambda user_id, key: IdempotencyKey.objects.filter(user_id=user_id, key=key).values_list(
        "pk", flat=True
    )
)


def validate_key(raw: str) -> str:
    if not raw or len(raw) > MAX_LENGTH or not raw.isprintable() or raw.strip() != raw:
        raise InvalidInput(
            "idempotency_key_invalid",
            f"The {HEADER} header must be 1 to {MAX_LENGTH} printable characters "
            "without leading or trailing spaces.",
        )
    return raw


def fingerprint(request: Request) -> str:
    """SHA-256 of the method, path and the parsed body (key order does not matter)."""
    data = request.data
    if hasattr(data, "lists"):
        data = dict(data.lists())
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    text = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent(view_method: View) -> View:
    """Decorate a DRF view's ``post``/``put``/``patch`` to honour ``Idempotency-Key``."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.headers.get(HEADER)
        if raw is None:
            return view_method(self, request, *args, **kwargs)
        key = validate_key(raw)
        user = request.user
        if not user.is_authenticated:  # the view's permission classes answer first
            raise PermissionDenied
        digest = fingerprint(request)
        if _KEY_USED.first(user.pk, key) is not None:
            return _replay(user.pk, key, digest)
        prepare = getattr(self, f"prepare_{view_method.__name__}", None)
        if prepare is not None:
            # Reads the view can do before the write transaction (validation, decisions),
            # so concurrent requests only take turns for their writes.
            request.prepared = prepare(request, *args, **kwargs)  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                if response.status_code >= status.HTTP_400_BAD_REQUEST:
                    transaction.set_rollback(True)
                    return response
                # Written last, with the response, in the transaction of the effects: a
                # concurrent request with the same key fails here (the unique row) and
                # rolls back everything it did.
                compiled.insert(
                    IdempotencyKey(
                        user=user,
                        key=key,
                        fingerprint=digest,
                        method=request.method or "",
                        path=request.path[:500],
                        status_code=response.status_code,
                        response_body=json.loads(JSONRenderer().render(response.data) or b"null"),
                    )
                )
        except IntegrityError:
            if not IdempotencyKey.objects.filter(user=user, key=key).exists():
                raise
            return _replay(user.pk, key, digest)
        return response

    return wrapper  # type: ignore[return-value]


def _replay(user_id: int, key: str, digest: str) -> Response:
    stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
    if stored.fingerprint != digest:
        raise Conflict(
            "idempotency_key_reused", f"This {HEADER} was already used for a different request."
        )
    response = Response(stored.response_body, status=stored.status_code)
    response["Idempotent-Replayed"] = "true"
    return response
