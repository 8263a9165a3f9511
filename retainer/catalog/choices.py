from django.db import models


class EnvironmentKind(models.TextChoices):
    OPERATING_SYSTEM = "os", "Operating system"
    DATABASE = "database", "Database"
    CLOUD = "cloud", "Cloud"
    BROWSER = "browser", "Browser"
    OTHER = "other", "Other"


class OfferingKind(models.TextChoices):
    """Professional services sold instead of support when a request is out of scope."""

    BACKPORT = "backport", "Backport a fix"
    CUSTOMIZATION = "customization", "Customization"
    PORTING = "porting", "Porting"
    INSTALLATION = "installation", "Installation"
    MIGRATION = "migration", "Migration"
    TRAINING = "training", "Training"


class PriceUnit(models.TextChoices):
    FIXED = "fixed", "Fixed price"
    PER_HOUR = "per_hour", "Per hour"


class ScopeReason(models.TextChoices):
    """Why a request falls outside the published scope of support."""

    RELEASE_NOT_RELEASED = "release_not_released", "Release not yet generally available"
    RELEASE_END_OF_SUPPORT = "release_end_of_support", "Release past its end-of-support date"
    RELEASE_TOO_OLD = "release_too_old", "Release older than the supported releases"
    RELEASE_OTHER_PRODUCT = "release_other_product", "Release belongs to another product"
    ENVIRONMENT_UNSUPPORTED = "environment_unsupported", "Environment not supported"
    MODIFIED_SOURCE = "modified_source", "Modified source code is not supported"
    THIRD_PARTY = "third_party", "Third-party integrations are not supported"


class CatalogEventType(models.TextChoices):
    PRODUCT_SAVED = "product_saved"
    RELEASE_SAVED = "release_saved"
    ENVIRONMENT_SAVED = "environment_saved"
    SCOPE_POLICY_SAVED = "scope_policy_saved"
    OFFERING_SAVED = "offering_saved"
