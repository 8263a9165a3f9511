from django.db import models


class Role(models.TextChoices):
    """Vendor staff roles; each is a Django group with the permissions in ``roles.py``."""

    AGENT = "agent", "Agent"
    MANAGER = "manager", "Manager"
    BILLING = "billing", "Billing"
    ADMIN = "admin", "Admin"


class ContactRole(models.TextChoices):
    """What a contact may do in the customer portal for their organization."""

    MEMBER = "member", "Member"
    ADMIN = "admin", "Customer admin"


class AccountEventType(models.TextChoices):
    ORGANIZATION_CREATED = "organization_created"
    ORGANIZATION_UPDATED = "organization_updated"
    ORGANIZATION_DOMAINS_CHANGED = "organization_domains_changed"
    ORGANIZATION_DEACTIVATED = "organization_deactivated"
    ORGANIZATION_REACTIVATED = "organization_reactivated"
    CONTACT_CREATED = "contact_created"
    CONTACT_UPDATED = "contact_updated"
    CONTACT_DEACTIVATED = "contact_deactivated"
    CONTACT_REACTIVATED = "contact_reactivated"
    CONTACT_PORTAL_ACCESS_GRANTED = "contact_portal_access_granted"
    STAFF_CREATED = "staff_created"
    STAFF_ROLES_CHANGED = "staff_roles_changed"
    STAFF_UPDATED = "staff_updated"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    TEAM_CREATED = "team_created"
    TEAM_UPDATED = "team_updated"
    SIGN_IN_LOCKED = "sign_in_locked"
    PREFERENCES_CHANGED = "preferences_changed"
    API_TOKEN_CREATED = "api_token_created"  # noqa: S105 (an event type, not a secret)
    API_TOKEN_REVOKED = "api_token_revoked"  # noqa: S105


class TokenKind(models.TextChoices):
    """Whose an API token is: a person's own, or an integration's (``docs/api.md``)."""

    PERSONAL = "personal", "Personal"
    SERVICE = "service", "Service"


#: The areas of the API a token's scopes name: the app each ``/api/v1/`` view lives in.
API_AREAS: dict[str, str] = {
    "accounts": "Organizations and contacts",
    "catalog": "Catalog",
    "contracts": "Plans, contracts and decisions",
    "cases": "Cases and defects",
    "billing": "Billing and services",
    "kb": "Knowledge base",
    "success": "Sales and customer success",
    "metrics": "Metrics",
    "automation": "Automation",
}
READ, WRITE = "read", "write"
