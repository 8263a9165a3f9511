"""``Authorization: Bearer rtk_…`` on the whole REST API: API tokens (``docs/api.md``).

The token acts as its user, so every permission and access rule of that user applies
unchanged; its scopes limit it further, per API area (the app a view lives in) and per
kind of request (reads: GET, HEAD, OPTIONS; writes: everything else). Refusals:

- no such token, a wrong secret, revoked, expired, or its user can no longer act
  (deactivated, a contact whose organization was deactivated): 401 ``invalid_token``
  with ``WWW-Authenticate: Bearer``;
- a request outside the token's scopes: 403 ``insufficient_scope``.

Token requests carry no cookie, so they are not CSRF-checked; session requests still
are (``SessionAuthentication`` comes next in ``REST_FRAMEWORK``). A request without a
bearer header is left to the session, and an anonymous one keeps its 403.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication

from retainer.accounts import tokens
from retainer.accounts.access import customer_contact, is_vendor_staff
from retainer.accounts.choices import TokenKind
from retainer.accounts.models import ApiToken, User
from retainer.lib import compiled

CHALLENGE = 'Bearer realm="api"'


class TokenRejected(exceptions.APIException):
    """401: the bearer token cannot be used (whatever the reason: the answer does not
    tell an unknown token from a revoked one)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_token"
    default_detail = "This API token is not valid: unknown, revoked or expired."
    auth_header = f'{CHALLENGE}, error="invalid_token"'


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


# Read on every token request: compiled once (``lib/compiled.py``).
_TOKEN = compiled.Select[ApiToken](
    lambda pk: ApiToken.objects.select_related("user__contact__organization").filter(pk=pk)
)


def user_may_act(token: ApiToken) -> bool:
    """Whether the token's user may still act: active staff (a service account only
    through a service token), or an active contact of an active organization."""
    user: User = token.user
    if user.is_service_account != (token.kind == TokenKind.SERVICE):
        return False
    return is_vendor_staff(user) or customer_contact(user) is not None


def token_for(text: str) -> ApiToken:
    """The usable token ``text`` names, or ``TokenRejected``."""
    parsed = tokens.parse(text)
    token = _TOKEN.first(parsed[0]) if parsed else None
    if (
        parsed is None
        or token is None
        or not tokens.secret_matches(parsed[1], token.secret_digest)
        or not token.is_usable_at(timezone.now())
        or not user_may_act(token)
    ):
        raise TokenRejected
    return token


class BearerTokenAuthentication(BaseAuthentication):
    """DRF authentication by API token; ``request.auth`` is the ``ApiToken``."""

    keyword = "bearer"

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        token = token_for(credentials)
        view = (getattr(request, "parser_context", None) or {}).get("view")
        needed = tokens.needed_scope(type(view).__module__, request.method) if view else None
        if needed is None or needed not in token.scopes:
            raise InsufficientScope(
                f"This API token does not have the {needed or 'needed'} scope."
                if needed
                else "API tokens cannot be used here."
            )
        return token.user, token

    def authenticate_header(self, request: Any) -> str | None:
        # None: an anonymous request stays a 403 as before; a refused token says Bearer
        # itself (``TokenRejected.auth_header``).
        return None


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The bearer scheme in the OpenAPI schema."""

    target_class = "retainer.accounts.authentication.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rtk_<id>_<secret>",
            "description": (
                "A personal or service API token, `Authorization: Bearer rtk_…`; its "
                "scopes (`<area>:read`, `<area>:write`) limit what it reaches. Guide: "
                "docs/api.md."
            ),
        }
