"""REST API conventions shared by every app: error bodies and pagination.

Every error response is JSON with a stable machine ``code`` and a human ``detail``;
validation errors add ``errors`` (field → messages).
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import parse_qs

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from retainer.lib.errors import DomainError


class ApiError(exceptions.APIException):
    """A domain error raised by an API view with its own code and status."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"
    default_detail = "The request is not valid."

    def __init__(self, code: str, detail: str, *, status_code: int | None = None) -> None:
        super().__init__(detail=detail, code=code)
        self.error_code = code
        if status_code is not None:
            self.status_code = status_code


def _codes(exc: exceptions.APIException) -> str:
    if isinstance(exc, ApiError):
        return exc.error_code
    if isinstance(exc, exceptions.ValidationError):
        return "invalid"
    return str(exc.default_code)


def _first_message(errors: Any) -> str:
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            return message if field in ("non_field_errors", "detail") else f"{field}: {message}"
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The JSON API's translator of every refusal: domain errors (status by their class),
    Django's validation errors, 404 and 403 all leave as ``{"code", "detail"}``."""
    if isinstance(exc, DomainError):
        exc = ApiError(exc.code, exc.detail, status_code=exc.status)
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError(
            "too_large",
            "The request body is larger than the server takes.",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {
                ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            errors = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    body: dict[str, Any] = {"code": _codes(exc)}
    if isinstance(exc, exceptions.ValidationError):
        body["detail"] = _first_message(exc.detail)
        body["errors"] = (
            exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        )
    else:
        body["detail"] = str(exc.detail)
    response.data = body
    return response


#: The range of the integer columns inputs land in (Django's ``IntegerField``).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


class IntegerField(serializers.IntegerField):
    """DRF's ``IntegerField``, bounded by default to the integer columns' range: an
    unbounded one passed 2**70 through to the database driver, which answered 500. Give
    explicit ``min_value``/``max_value`` where the rule is tighter."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", INT_MIN)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(**kwargs)


def _is_cursor(encoded: str) -> bool:
    """Whether ``encoded`` has the shape of a cursor DRF wrote: base64 of a query string
    of offset (``o``), reverse (``r``) and position (``p``)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", encoded):
        return False
    try:
        fields = parse_qs(base64.b64decode(encoded, validate=True).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return False
    return bool(fields) and set(fields) <= {"o", "r", "p"}


class Pagination(pagination.CursorPagination):
    """Cursor pagination: stable under inserts and O(page) on any table size.

    A ``page_size`` that is not a positive whole number, or a ``cursor`` the API did not
    give out, is a 400 rather than a silent first page (a client would loop on it);
    a page size above the maximum is served at the maximum.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0):
            raise ApiError(
                "invalid_page_size",
                f"page_size must be a whole number from 1 to {self.max_page_size}.",
            )
        return min(int(raw), self.max_page_size)

    def decode_cursor(self, request: Any) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        # DRF's decoder skips characters outside base64 and reads what is left (for
        # "%%%": nothing, the first page); a cursor it wrote never has them.
        if encoded is not None and not _is_cursor(encoded):
            raise ApiError("invalid_cursor", "This cursor is not one the API gave out.")
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise ApiError("invalid_cursor", "This cursor is not one the API gave out.") from None


def validated(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    partial: bool = False,
    refuse_unknown: bool = True,
) -> dict[str, Any]:
    """Validate ``data`` with an input serializer and return the clean values.

    Fields the serializer does not accept are refused (400 ``field_not_allowed``) rather
    than silently dropped, so a client that tries to set what it may not learns so and
    nothing is written.
    """
    serializer = serializer_class(data=data, partial=partial)
    if refuse_unknown:
        unknown = sorted(set(getattr(data, "keys", dict)()) - set(serializer.fields))
        if unknown:
            raise ApiError(
                "field_not_allowed", f"These fields cannot be set here: {', '.join(unknown)}."
            )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def require_perm(user: Any, *perms: str) -> None:
    """Raise 403 unless ``user`` is active vendor staff holding every permission."""
    if not (user.is_authenticated and user.is_active and user.is_staff and user.has_perms(perms)):
        raise exceptions.PermissionDenied("You do not have permission to do this.")


class IsVendorStaff:
    """DRF permission: active vendor staff only."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)
