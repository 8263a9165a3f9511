"""Who may read which figures. Support figures need ``metrics.view_support_metrics``
(managers, admins); revenue figures need ``metrics.view_revenue_metrics`` (managers,
admins, billing). Customers reach no metrics at all."""

from __future__ import annotations

from retainer.accounts.models import User
from retainer.lib.errors import NotPermitted

SUPPORT = "metrics.view_support_metrics"
REVENUE = "metrics.view_revenue_metrics"


def _require(actor: User | None, *permissions: str) -> None:
    if actor is None:
        return
    if not (
        getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.is_staff
        and actor.has_perms(permissions)
    ):
        raise NotPermitted("permission_denied", "You do not have permission to do this.")


def authorize_view_support(actor: User | None) -> None:
    _require(actor, SUPPORT)


def authorize_view_revenue(actor: User | None) -> None:
    _require(actor, REVENUE)


def authorize_view_overview(actor: User | None) -> None:
    _require(actor, SUPPORT, REVENUE)
