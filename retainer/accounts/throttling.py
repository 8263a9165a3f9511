"""Password sign-in throttling: django-axes, counting failures in the database.

Every password check goes through ``accounts.backends.AccountBackend``, which asks this
module's handler first. Failures are rows of ``axes.AccessAttempt`` (one per account name,
client address and user agent), so every worker process and host sees the same counts.
Within the cool-off window (``AXES_COOLOFF_TIME``, counted from the last failure):

- an **account** is locked after ``AXES_FAILURE_LIMIT`` failures, from any address;
- a **client address** is locked after ``RETAINER_SIGN_IN_ADDRESS_LIMIT`` failures, for
  any account (higher: an office behind one address holds many people).

A locked request is refused without checking the password, and it counts as one more
failure, so the lock lasts until nobody has tried for a whole cool-off window (the
back-off). A successful sign-in clears the failures of that account only: a client's own
account cannot wipe the address's record of its guesses at other accounts. The first
failure that locks records a ``sign_in.locked`` event (``accounts/events.py``).
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_credentials, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.http import HttpRequest

from retainer.accounts import actions

# AccessAttempt.username's length.
_NAME_LENGTH = 255


def sign_in_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account name a sign-in attempt is counted against: the e-mail address as the
    user table holds it (trimmed, lower case), so that ``Ann@X`` and ``ann@x`` share a count."""
    value = (credentials or {}).get("username")
    if value is None:
        data = getattr(request, "data", None) or request.POST
        value = data.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:_NAME_LENGTH]


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the peer's, or behind a reverse proxy
    (``RETAINER_BEHIND_PROXY``) the last ``X-Forwarded-For`` entry, the one the proxy
    itself appended (the entries before it are whatever the client sent)."""
    if settings.RETAINER_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or None


class SignInThrottle(AxesDatabaseHandler):
    """The database handler with a limit of its own for client addresses, a reset limited
    to the account that signed in, the audit event of a lockout, and no query that a
    sign-in does not need: the counts read before the password check are kept on the
    request, and sign-in and sign-out write no access log (``last_login`` has it)."""

    def failure_counts(self, request: Any, credentials: dict[str, Any] | None) -> tuple[int, int]:
        """The failures within the cool-off window of the attempt's account and of its
        client address (one query). The first answer for a request is kept on it as
        ``sign_in_counts_before``: the counts before this attempt."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        counts = AccessAttempt.objects.filter(
            attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(
            account=Sum("failures_since_start", filter=Q(username=username)),
            address=Sum("failures_since_start", filter=Q(ip_address=address)),
        )
        account = (counts["account"] or 0) if username is not None else 0
        by_address = (counts["address"] or 0) if address is not None else 0
        if not hasattr(request, "sign_in_counts_before"):
            request.sign_in_counts_before = (account, by_address)
        return account, by_address

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """The failures that count against the account limit: the account's own, or the
        account limit itself once the client address has reached its (higher) limit."""
        return self._against_limit(request, credentials, self.failure_counts(request, credentials))

    def _against_limit(
        self, request: Any, credentials: dict[str, Any] | None, counts: tuple[int, int]
    ) -> int:
        account, by_address = counts
        if by_address >= settings.RETAINER_SIGN_IN_ADDRESS_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        """Count the failure; when it is the one that locks, record the lockout."""
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        before = getattr(request, "sign_in_counts_before", None)
        if before is None:  # a door that did not ask the backend first
            before = self.failure_counts(request, credentials)
        limit = get_failure_limit(request, credentials)
        was_locked = self._against_limit(request, credentials, before) >= limit
        super().user_login_failed(sender, credentials, request, **kwargs)
        if not request.axes_locked_out or was_locked:
            return None
        account, by_address = self.failure_counts(request, credentials)
        by_account = account >= limit
        actions.do_record_sign_in_lockout(
            username=get_client_username(request, credentials),
            address=request.axes_ip_address,
            locked="account" if by_account else "address",
            failures=account if by_account else by_address,
        )
        return None

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        """Clear the account's failures (``AXES_RESET_ON_SUCCESS``); without an access log
        (``AXES_DISABLE_ACCESS_LOG``) nothing else is written."""
        if not settings.AXES_DISABLE_ACCESS_LOG:
            return super().user_logged_in(sender, request, user, **kwargs)
        account_failures = getattr(request, "sign_in_counts_before", (None, None))[0]
        if settings.AXES_RESET_ON_SUCCESS and account_failures != 0:
            self.reset_user_attempts(request, get_credentials(user.get_username()))
        return None

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        """Only the access log has anything to do at sign-out."""
        if not settings.AXES_DISABLE_ACCESS_LOG:
            super().user_logged_out(sender, request, user, **kwargs)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """Clear the failures of the account that signed in (from every address)."""
        username = get_client_username(request, credentials)
        if username is None:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
