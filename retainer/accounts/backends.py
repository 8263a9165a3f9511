"""How a request's user is loaded, and how a password sign-in is checked."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from retainer.accounts.models import User
from retainer.lib import compiled


class AccountBackend(AxesStandaloneBackend, ModelBackend):
    """The one authentication backend: the sign-in throttle, then Django's password check.

    One backend on purpose: with the throttle and the password check in two backends,
    every permission check asks both, and a second password backend verifies the
    password a second time when the first refuses it. A locked-out attempt
    (``accounts/throttling.py``) is refused before the password is hashed.

    A password check without a request (a command, a test's ``Client.login``) still
    refuses a locked account; it cannot be counted, as it has no client.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        # Raises AxesBackendPermissionDenied when locked: django.contrib.auth.authenticate
        # then stops, without asking another backend, and signals the failure.
        super().authenticate(request or HttpRequest(), username, password, **kwargs)
        return ModelBackend.authenticate(self, request, username, password, **kwargs)

    def user_can_authenticate(self, user: Any) -> bool:
        """Active, and not a service token's account: that one acts only through its
        token (``accounts/authentication.py``), never with a password or a session."""
        return super().user_can_authenticate(user) and not getattr(
            user, "is_service_account", False
        )

    def get_user(self, user_id: Any) -> User | None:
        """The user with a customer's contact and organization in the same query: every
        portal page and API call of a customer needs them."""
        try:
            user = _WITH_CONTACT.first(int(user_id))
        except (TypeError, ValueError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None


# Read on every signed-in request: compiled once (``lib/compiled.py``).
_WITH_CONTACT = compiled.Select[User](
    lambda pk: User.objects.select_related("contact__organization").filter(pk=pk)
)
