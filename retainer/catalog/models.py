"""What the vendor supports and sells: products, releases, environments, the scope
policy per product, and the professional services offered for out-of-scope work."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from retainer.accounts.models import User
from retainer.catalog.choices import CatalogEventType, EnvironmentKind, OfferingKind, PriceUnit
from retainer.catalog.versions import VERSION_PATTERN, version_key
from retainer.lib.money import AmountField, CurrencyField, validate_currency, validate_non_negative

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{0,39}$", "Use lower-case letters, digits and dashes.", code="invalid_code"
)


class Product(models.Model):
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=40, unique=True, validators=[slug_validator])
    description = models.TextField(blank=True)
    list_price = AmountField(
        default=0, validators=[validate_non_negative], help_text="Licence list price."
    )
    net_price = AmountField(
        default=0, validators=[validate_non_negative], help_text="Typical price after discount."
    )
    currency = CurrencyField(default="EUR", validators=[validate_currency])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(list_price__gte=0) & models.Q(net_price__gte=0),
                name="catalog_product_prices_non_negative",
            ),
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_product_name_ci_unique",
                violation_error_message="A product with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Release(models.Model):
    """A version of a product. ``order`` ranks releases; versions and GA dates must agree."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(
        max_length=40,
        validators=[RegexValidator(VERSION_PATTERN, "Enter a version such as 4.2 or 2024.1.")],
    )
    order = models.PositiveIntegerField(help_text="Higher is newer.")
    ga_date = models.DateField("GA date")
    end_of_support_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["product", "-order"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "order"],
                name="catalog_release_order_unique",
                violation_error_message="Another release of this product has this order.",
            ),
            models.UniqueConstraint(
                fields=["product", "version"],
                name="catalog_release_version_unique",
                violation_error_message="This product already has a release with this version.",
            ),
            models.CheckConstraint(
                condition=models.Q(end_of_support_date__isnull=True)
                | models.Q(end_of_support_date__gte=models.F("ga_date")),
                name="catalog_release_eos_after_ga",
                violation_error_message="End of support cannot be before the GA date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id and self.product.name} {self.version}"

    def clean(self) -> None:
        """A release must sort between its neighbours by version and by GA date."""
        if not self.product_id or self.order is None or not self.version or not self.ga_date:
            return
        siblings = Release.objects.filter(product_id=self.product_id).exclude(pk=self.pk)
        before = siblings.filter(order__lt=self.order).order_by("-order").first()
        after = siblings.filter(order__gt=self.order).order_by("order").first()
        mine = version_key(self.version)
        if before and version_key(before.version) >= mine:
            raise ValidationError(
                {
                    "version": f"Version {self.version} must be higher than {before.version}, "
                    f"the release ordered before it."
                }
            )
        if after and version_key(after.version) <= mine:
            raise ValidationError(
                {
                    "version": f"Version {self.version} must be lower than {after.version}, "
                    f"the release ordered after it."
                }
            )
        if before and before.ga_date > self.ga_date:
            raise ValidationError(
                {"ga_date": f"GA date is before that of the earlier release {before.version}."}
            )
        if after and after.ga_date < self.ga_date:
            raise ValidationError(
                {"ga_date": f"GA date is after that of the later release {after.version}."}
            )


class Environment(models.Model):
    """A platform a product runs on: an OS, a database, a cloud."""

    name = models.CharField(max_length=80)
    version = models.CharField(max_length=40, blank=True)
    kind = models.CharField(
        max_length=20, choices=EnvironmentKind.choices, default=EnvironmentKind.OPERATING_SYSTEM
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="catalog_environment_unique",
                violation_error_message="This environment already exists.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class ScopePolicy(models.Model):
    """What support covers for one product; published as the "Scope of Support" page."""

    product = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="scope_policy")
    supported_previous_releases = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=2,
        help_text="Support the current release and this many previous ones. Empty: no such rule.",
    )
    honour_end_of_support_dates = models.BooleanField(
        default=True, help_text="Releases past their end-of-support date are out of scope."
    )
    supported_environments = models.ManyToManyField(
        Environment,
        blank=True,
        related_name="scope_policies",
        help_text="Empty: every environment is supported.",
    )
    modified_source_supported = models.BooleanField(default=False)
    third_party_supported = models.BooleanField("third-party integrations supported", default=False)
    notes = models.TextField(blank=True, help_text="Published with the policy.")

    class Meta:
        verbose_name_plural = "scope policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(supported_previous_releases__isnull=False)
                | models.Q(honour_end_of_support_dates=True),
                name="catalog_scope_policy_has_release_rule",
                violation_error_message=(
                    "Choose at least one release rule: a number of previous releases "
                    "or end-of-support dates."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Scope of support for {self.product_id and self.product.name}"


class ServiceOffering(models.Model):
    """A professional service with a standard price, sold for out-of-scope requests."""

    kind = models.CharField(max_length=20, choices=OfferingKind.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
        help_text="Empty: offered for every product.",
    )
    price = AmountField(validators=[validate_non_negative, MinValueValidator(0)])
    currency = CurrencyField(default="EUR", validators=[validate_currency])
    unit = models.CharField(max_length=10, choices=PriceUnit.choices, default=PriceUnit.FIXED)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="catalog_offering_price_non_negative",
                violation_error_message="The price cannot be negative.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CatalogEvent(models.Model):
    """Append-only history of catalog changes."""

    type = models.CharField(max_length=40, choices=CatalogEventType.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    object_repr = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type}: {self.object_repr}"
