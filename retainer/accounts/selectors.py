from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from retainer.accounts.models import ApiToken, Contact, Organization, Team, User


def organizations_for_console() -> QuerySet[Organization]:
    return (
        Organization.objects.select_related("account_owner")
        .prefetch_related("domains")
        .annotate(active_contacts=Count("contacts", filter=Q(contacts__is_active=True)))
        .order_by("name", "id")
    )


def contacts_for_organization(
    *, organization: Organization, active_only: bool = False
) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(organization=organization).select_related("user")
    if active_only:
        contacts = contacts.filter(is_active=True)
    return contacts.order_by("-is_active", "full_name")


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (revoked ones too: their history)."""
    return ApiToken.objects.filter(user=user).select_related("created_by", "revoked_by")


def api_tokens_for_admin() -> QuerySet[ApiToken]:
    """Every token with whom it acts as and who made it, newest first."""
    return ApiToken.objects.select_related(
        "user", "user__contact__organization", "created_by", "revoked_by"
    )


def staff_people() -> QuerySet[User]:
    """Active vendor staff who are people: what every picker of agents, owners and
    assignees offers. Service accounts (one per service API token) act through the API
    only and are never assigned work."""
    return User.objects.filter(is_staff=True, is_active=True, is_service_account=False)


def staff_for_people_page() -> QuerySet[User]:
    """Every vendor staff member who is a person, active first, with their roles and
    teams (service accounts are listed with their tokens instead)."""
    return (
        User.objects.filter(is_staff=True, is_service_account=False)
        .prefetch_related("groups", "teams")
        .order_by("-is_active", "full_name", "id")
    )


def teams_for_people_page() -> QuerySet[Team]:
    """Every team with its lead and members."""
    return (
        Team.objects.select_related("lead")
        .prefetch_related("members")
        .order_by("-is_active", "name", "id")
    )
