"""One family of domain errors, and how the HTML interfaces show them.

An action or a check function that refuses an operation raises a :class:`DomainError`
with a stable machine ``code`` and a human ``detail``. Its class says what kind of
refusal it is, and so which HTTP status every interface answers with:

==================  ======  =========================================================
class               status  meaning
==================  ======  =========================================================
``InvalidInput``    400     the request itself is wrong (a value, a unit, a currency)
``NotPermitted``    403     this actor may not do this
``NotFound``        404     the object does not exist for this actor
``Conflict``        409     the request is fine, the current state forbids it
==================  ======  =========================================================

Django's ``ValidationError`` keeps its meaning (field errors of the input, 400).

One translator per interface renders both: :func:`retainer.lib.api.exception_handler`
for the JSON API, :func:`add_to_form` and :func:`report` here for forms, pages and the
admin. Views never format a domain error themselves.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest


class DomainError(Exception):
    """A refused operation, with a stable ``code`` for programs and a sentence for people.

    ``field`` names the input the refusal is about, when there is one, so a form can show
    it beside that field.
    """

    status: ClassVar[int] = 409

    def __init__(self, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r})"


class InvalidInput(DomainError):
    """The request carries a value the operation cannot take."""

    status = 400


class NotPermitted(DomainError):
    """The actor may not perform this operation."""

    status = 403


class NotFound(DomainError):
    """The object does not exist, or not for this actor (never say which)."""

    status = 404


class Conflict(DomainError):
    """The request is well formed, but the object's current state forbids it."""

    status = 409


class PayloadTooLarge(InvalidInput):
    """The request is larger than the product takes."""

    status = 413


def error_messages(exc: DomainError | ValidationError) -> dict[str, list[str]]:
    """``{field or NON_FIELD_ERRORS: [messages]}`` for a domain or validation error."""
    if isinstance(exc, DomainError):
        return {exc.field or NON_FIELD_ERRORS: [exc.detail]}
    if hasattr(exc, "error_dict"):
        return {field: list(msgs) for field, msgs in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: list(exc.messages)}


def _raise_http(exc: Exception) -> None:
    """Refusals that are not about the input become the interface's own 403/404."""
    if isinstance(exc, NotPermitted):
        raise PermissionDenied(exc.detail) from exc
    if isinstance(exc, NotFound):
        raise Http404(exc.detail) from exc


def add_to_form(form: BaseForm, exc: DomainError | ValidationError) -> None:
    """Show a refusal on ``form``: beside its field when the form has that field,
    otherwise as a form-wide error. Permission and not-found refusals are not form
    errors: they raise the 403/404 page."""
    _raise_http(exc)
    for field, texts in error_messages(exc).items():
        target: Any = field if field in form.fields else None
        for text in texts:
            form.add_error(target, text)


def report(request: HttpRequest, exc: DomainError | ValidationError) -> None:
    """Show a refusal as a message on the next page (actions without a form of their
    own: buttons, admin actions). Permission and not-found refusals raise 403/404."""
    _raise_http(exc)
    for field, texts in error_messages(exc).items():
        for text in texts:
            prefix = "" if field == NON_FIELD_ERRORS else f"{field.replace('_', ' ')}: "
            messages.error(request, f"{prefix}{text}")
