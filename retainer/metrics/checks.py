"""Who may read which figures. Support figures need ``metrics.view_support_metrics``
(managers, admins); revenue figures need ``metrics.view_revenue_metrics`` (managers,
admins, billing). Every staff member reads their own agent page (and the time entries
behind it); another agent's needs the support permission. Customers reach one thing
only: a customer admin reads their own organization's health figures."""

from __future__ import annotations

from retainer.accounts.choices import ContactRole
from retainer.accounts.models import Contact, User
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


def authorize_view_agent(actor: User | None, agent_id: int) -> None:
    """One's own agent page: any active staff member; another's: the support permission."""
    if actor is not None and actor.pk == agent_id:
        _require(actor)
    else:
        _require(actor, SUPPORT)


def authorize_view_own_health(contact: Contact) -> None:
    """A customer reads their organization's health figures when they are its admin."""
    if contact.role != ContactRole.ADMIN:
        raise NotPermitted("permission_denied", "Only your organization's admins see this.")
