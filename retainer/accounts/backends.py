"""How a request's user is loaded."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from retainer.accounts.models import User


class AccountBackend(ModelBackend):
    """Django's model backend, loading a customer's contact and organization in the same
    query as the user: every portal page and API call of a customer needs them."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User.objects.select_related("contact__organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
