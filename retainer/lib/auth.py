"""The signed-in user of a request, typed for the code behind login-required views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from retainer.accounts.models import User


def request_user(request: Any) -> User:
    """Return ``request.user``; anonymous requests never get this far (403 if they do)."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
