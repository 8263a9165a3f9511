"""REST API conventions shared by every app: error bodies, bounded inputs and pagination.

Every error response is JSON with a stable machine ``code`` and a human ``detail``;
validation errors add ``errors`` (field → messages). That holds for the refusals of the
views (:func:`exception_handler`), for what Django answers itself under ``/api/`` (an
unknown path, an uncaught exception: :class:`JsonErrorsMiddleware`), and the schema
documents it on every operation (:func:`document_errors`).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeGuard
from urllib.parse import parse_qs

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from retainer.lib.errors import DomainError

# The bounds live in ``lib.limits`` (no imports: forms use them too); re-exported here,
# where the API's code and its tests have always read them.
from retainer.lib.limits import SUBJECT_MAX_LENGTH as SUBJECT_MAX_LENGTH
from retainer.lib.limits import TEXT_MAX_LENGTH as TEXT_MAX_LENGTH


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
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        body["retry_after"] = math.ceil(wait)  # as the Retry-After header says
    response.data = body
    return response


#: The ``code`` of an error Django answered itself under ``/api/``, by status.
STATUS_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    500: "server_error",
}


def error_response(status_code: int, detail: str | None = None) -> JsonResponse:
    """A bare ``{"code", "detail"}`` response for ``status_code``."""
    code = STATUS_CODES.get(status_code, "error")
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    return JsonResponse({"code": code, "detail": detail or f"{phrase}."}, status=status_code)


class JsonErrorsMiddleware:
    """Under ``/api/``, an error Django answers itself (no URL matches, an uncaught
    exception's 500, a refused host) leaves in the API's JSON error shape rather than
    as an HTML page. The headers the other middleware set are kept."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or content_type.startswith("application/json")
        ):
            return response
        replaced = error_response(response.status_code)
        for header, value in response.headers.items():
            if header.lower() not in ("content-type", "content-length"):
                replaced.headers.setdefault(header, value)
        return replaced


#: The error body, as the schema documents it.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Every error: a stable machine `code` (snake_case) and a human `detail`; a "
        "validation error adds `errors`, field name → list of messages (nested objects "
        "for nested fields, `non_field_errors` for the request as a whole)."
    ),
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "detail": {"type": "string", "example": "subject: This field is required."},
        "errors": {"type": "object", "additionalProperties": {}},
    },
    "required": ["code", "detail"],
}

_WRITES = ("post", "put", "patch", "delete")


def _error_statuses(method: str, operation: Mapping[str, Any]) -> dict[int, str]:
    """The refusals an operation can answer, by what it takes."""
    parameters = operation.get("parameters", [])
    statuses = {
        403: "Not signed in, or not permitted to do this.",
        # Also a route only staff may know of, asked by a customer.
        404: "No such object, or not one this user may see.",
    }
    if "requestBody" in operation or any(p.get("in") in ("query", "header") for p in parameters):
        statuses[400] = "The request is not valid (`errors` says which field)."
    if method in _WRITES:
        statuses[409] = "The object's current state (or a reused Idempotency-Key) forbids it."
    if "requestBody" in operation:
        statuses[413] = "The body is larger than the server takes."
        statuses[415] = "The body's media type is not one the operation takes."
    return statuses


#: The components of :func:`by_audience`, documented as ``anyOf`` their two views.
_AUDIENCE_COMPONENTS: set[str] = set()


def by_audience(
    staff: type[serializers.Serializer],
    customer: type[serializers.Serializer],
    *,
    many: bool | None = None,
) -> PolymorphicProxySerializer:
    """The documented response of an endpoint that answers vendor staff with ``staff``
    and customer contacts with ``customer``, for ``@extend_schema``. The schema says
    ``anyOf`` the two (not ``oneOf``: the customer view is a subset of the staff one, so a
    staff body is a valid customer body too)."""
    name = staff.__name__.removesuffix("Out").replace("Staff", "") + "ByAudience"
    _AUDIENCE_COMPONENTS.add(name)
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[staff, customer],
        resource_type_field_name=None,
        many=many,
    )


def document_errors(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the ``Error`` component, and on every
    operation the error statuses it can answer, with that body; the components of
    :func:`by_audience` as ``anyOf``."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    for name in _AUDIENCE_COMPONENTS & set(components):
        if "oneOf" in components[name]:
            components[name]["anyOf"] = components[name].pop("oneOf")
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in sorted(_error_statuses(method, operation).items()):
                operation["responses"].setdefault(
                    str(code), {"description": description, "content": body}
                )
    return result


class TextField(serializers.CharField):
    """DRF's ``CharField`` for free text, bounded by default to ``TEXT_MAX_LENGTH``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", TEXT_MAX_LENGTH)
        super().__init__(**kwargs)


def is_free_text(field: Any) -> TypeGuard[serializers.CharField]:
    """Whether a serializer field takes text and keeps it text (not a field that parses
    its string into something else, like a billing period)."""
    return (
        isinstance(field, serializers.CharField)
        and not field.read_only
        and type(field).to_internal_value is serializers.CharField.to_internal_value
    )


def _bound_text(fields: Mapping[str, Any]) -> None:
    """Give every writable text field without a ``max_length`` the default bound: a
    1 MB description is a 400, whatever the serializer forgot to say."""
    for field in fields.values():
        inner = (
            field.child
            if isinstance(field, (serializers.ListField, serializers.ListSerializer))
            else field
        )
        if isinstance(inner, serializers.Serializer):
            _bound_text(inner.fields)
        elif is_free_text(inner) and inner.max_length is None:
            inner.max_length = TEXT_MAX_LENGTH
            message = inner.error_messages["max_length"].format(max_length=TEXT_MAX_LENGTH)
            inner.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH, message=message))


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
    nothing is written. Text fields without a bound of their own take at most
    ``TEXT_MAX_LENGTH`` characters.
    """
    serializer = serializer_class(data=data, partial=partial)
    _bound_text(serializer.fields)
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
