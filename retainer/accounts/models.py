"""Who is who: vendor staff, customer organizations, their contacts, and teams.

People are deactivated, never deleted: everything that points at a person or an
organization does so with ``PROTECT`` so their history cannot vanish.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts.choices import AccountEventType, ContactRole, TokenKind
from retainer.accounts.shortcuts import validate_shortcut_keys
from retainer.lib.money import CurrencyField, validate_currency
from retainer.lib.timezones import validate_time_zone

domain_validator = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a domain name such as example.com (lower case, no scheme or path).",
    code="invalid_domain",
)
phone_validator = RegexValidator(
    r"^\+?[0-9 ()./-]{4,30}$",
    "Enter a phone number of digits, spaces and + ( ) . / - only.",
    code="invalid_phone",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Vendor staff have ``is_staff`` and role groups; customers have a contact."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    is_staff = models.BooleanField(
        "vendor staff",
        default=False,
        help_text="Vendor employees: agents, managers, billing and admins.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    shortcuts_enabled = models.BooleanField(
        "keyboard shortcuts",
        default=True,
        help_text="The console's single-key shortcuts; off, no key does anything by itself.",
    )
    shortcut_keys = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_shortcut_keys],
        help_text="The user's own key for a shortcut (accounts/shortcuts.py), by shortcut; "
        "the others keep their default key.",
    )
    is_service_account = models.BooleanField(
        "service account",
        default=False,
        help_text="The user a service API token acts as: never signs in, works only "
        "through its token (docs/api.md).",
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this e-mail address already exists.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Team(models.Model):
    """A group of agents that works a queue together, with an optional lead.

    The lead is ``SET_NULL``, unlike the ``PROTECT`` elsewhere: who led a team is in the
    team's history (``team.created``/``team.updated`` events), not in this column."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    lead = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
        help_text="The vendor staff member who leads the team; SLA warnings and breaches "
        "of the team's cases reach them too.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """A customer account."""

    name = models.CharField(max_length=200, db_index=True)
    # No ``choices`` here: the zone list comes from the system's tzdata and would make
    # migrations differ between machines. Forms offer the list; the validator decides.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = CurrencyField(default="EUR", validators=[validate_currency])
    account_owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_organizations",
        limit_choices_to={"is_staff": True},
        help_text="The vendor agent responsible for this customer.",
    )
    is_active = models.BooleanField(default=True)
    share_cases_with_colleagues = models.BooleanField(
        default=True,
        help_text="Contacts see their colleagues' cases in the portal (customer admins always do).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrganizationDomain(models.Model):
    """An e-mail domain that identifies an organization (each domain has one owner)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="domains")
    domain = models.CharField(max_length=253, validators=[domain_validator])

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"),
                name="accounts_domain_ci_unique",
                violation_error_message="This domain already belongs to an organization.",
            )
        ]

    def __str__(self) -> str:
        return self.domain


class Contact(models.Model):
    """A person at a customer organization. Portal login is optional."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="contacts"
    )
    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=30, blank=True, validators=[phone_validator])
    role = models.CharField(max_length=10, choices=ContactRole.choices, default=ContactRole.MEMBER)
    is_active = models.BooleanField(default=True)
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="contact"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_contact_email_ci_unique",
                violation_error_message="A contact with this e-mail address already exists.",
            )
        ]
        indexes = [models.Index(fields=["organization", "full_name"])]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.organization_id and self.organization})"

    @property
    def is_customer_admin(self) -> bool:
        return self.role == ContactRole.ADMIN


class AccountEvent(models.Model):
    """Append-only history of changes to people and organizations."""

    type = models.CharField(max_length=40, choices=AccountEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="account_events"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M}"


class MagicLinkToken(models.Model):
    """A request for an e-mailed sign-in link.

    Only the SHA-256 of the token is stored, so a database reader cannot sign anyone in.
    A row is written for every request, even for an address without an account (then
    ``user`` is empty and the row can never sign anyone in): the rows are what the
    per-address rate limit counts, keyed by the digest of the address, not the address.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    email_digest = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="magic_links"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email_digest", "created_at"])]

    def __str__(self) -> str:
        return f"sign-in link of {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for the REST API (``docs/api.md``), acting as ``user``.

    A personal token's user is its owner (a staff member or a contact's login); a service
    token's user is a service account made for it (``User.is_service_account``), holding
    the staff role chosen at creation. Only the SHA-256 of the secret is stored
    (``accounts/tokens.py``). Tokens are revoked, never deleted; ``last_used_at`` is
    written at most once a minute.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=TokenKind.choices, default=TokenKind.PERSONAL)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    scopes = models.JSONField(default=list, help_text="``<area>:read`` and ``<area>:write``.")
    secret_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]
        permissions = [
            ("manage_service_tokens", "Create service API tokens and revoke any API token"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_usable_at(self, when: Any) -> bool:
        """Neither revoked nor expired at ``when`` (whether its user may still act is
        the authentication's question)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > when)


class ApiRateCounter(models.Model):
    """Requests to the API in one fixed window, per client and budget (reads or writes).

    Written only by ``accounts/ratelimit.py`` with one upsert per request; rows of past
    windows are pruned by a periodic job. Not history: nothing else reads them.
    """

    bucket = models.CharField(max_length=120)
    window_index = models.BigIntegerField(help_text="Seconds since the epoch // window length.")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_index"], name="accounts_rate_bucket_window"
            )
        ]
        indexes = [models.Index(fields=["window_index"])]

    def __str__(self) -> str:
        return f"{self.bucket} @ {self.window_index}: {self.hits}"
