"""Constants of the contracts domain. Labels are for people; values are the data keys."""

from django.db import models


class Tier(models.TextChoices):
    BASIC = "basic", "Basic"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


TIER_RANK: dict[str, int] = {Tier.BASIC: 1, Tier.SILVER: 2, Tier.GOLD: 3, Tier.PLATINUM: 4}


class AllowanceUnit(models.TextChoices):
    """What the ledger counts. Hours are stored as integer minutes."""

    INCIDENTS = "incidents", "Incidents"
    HOURS = "hours", "Hours (stored in minutes)"
    NONE = "none", "None (coverage by dates only)"


class QuantityUnit(models.TextChoices):
    """The unit a request states a quantity in; the ledger stores incidents, or minutes."""

    INCIDENTS = "incidents", "Incidents"
    HOURS = "hours", "Hours"
    MINUTES = "minutes", "Minutes"


class DecrementPoint(models.TextChoices):
    CASE_CREATION = "case_creation", "On case creation"
    CASE_RESOLUTION = "case_resolution", "On case resolution"
    TIME_ENTRY = "time_entry", "Per billable time entry"
    NONE = "none", "Never (no allowance)"


class ExhaustionPolicy(models.TextChoices):
    """What happens when the allowance is used up."""

    BLOCK = "block", "Block: not covered"
    BILL = "bill", "Bill overage at the contract rate"
    ALLOW = "allow", "Allow a negative balance and flag it"


class ThresholdKind(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute quantity"
    PERCENT = "percent", "Percent of the term's allowance"


class Channel(models.TextChoices):
    WEB = "web", "Web portal"
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    API = "api", "API"


class AuthorizationPolicy(models.TextChoices):
    ANY_CONTACT = "any", "Any contact of the organization"
    NAMED = "named", "Named contacts only"
    TRAINED = "trained", "Trained contacts only"


class PriceBasis(models.TextChoices):
    FIXED = "fixed", "Fixed amount per term"
    PERCENT_OF_LIST = "percent_of_list", "Percent of the covered products' list price"
    PERCENT_OF_NET = "percent_of_net", "Percent of the covered products' net price"
    INCLUDED = "included", "Included in a product subscription"


class Preset(models.TextChoices):
    """Named sets of default terms. Every preset runs through the same contract mechanism."""

    WARRANTY = "warranty", "Warranty"
    MAINTENANCE = "maintenance", "Maintenance"
    SUBSCRIPTION = "subscription", "Subscription"
    FIXED_FEE = "fixed_fee", "Fixed fee with cap"
    BANK = "bank", "Bank (prepaid hours or incidents)"
    PAY_AS_YOU_GO = "payg", "Pay-as-you-go"


# What a contract is called when its name is generated and it has no plan: the bank preset
# says which unit it counts ("Hour bank", "Incident bank").
PRESET_NAMES: dict[tuple[str, str], str] = {
    (Preset.BANK, AllowanceUnit.HOURS): "Hour bank",
    (Preset.BANK, AllowanceUnit.INCIDENTS): "Incident bank",
    (Preset.BANK, AllowanceUnit.NONE): "Bank",
}


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    RENEWED = "renewed", "Renewed"


# Allowed status changes; anything else is refused by the actions.
CONTRACT_TRANSITIONS: dict[str, set[str]] = {
    ContractStatus.DRAFT: {ContractStatus.ACTIVE, ContractStatus.CANCELLED},
    ContractStatus.ACTIVE: {
        ContractStatus.EXPIRED,
        ContractStatus.CANCELLED,
        ContractStatus.RENEWED,
    },
    ContractStatus.EXPIRED: {ContractStatus.RENEWED},
    ContractStatus.CANCELLED: set(),
    ContractStatus.RENEWED: set(),
}


class EntryKind(models.TextChoices):
    """Ledger movements. Quantities are signed: positive adds to the balance."""

    GRANT = "grant", "Grant"
    TOP_UP = "top_up", "Top-up"
    CONSUME = "consume", "Consume"
    REVERSE = "reverse", "Reverse"
    EXPIRE = "expire", "Expire"
    ROLLOVER = "rollover", "Rollover"
    ADJUST = "adjust", "Adjust"


class SourceType(models.TextChoices):
    CASE = "case", "Case"
    TIME_ENTRY = "time_entry", "Time entry"
    ADMIN = "admin", "Administration"
    CONTRACT = "contract", "Contract lifecycle"


class Outcome(models.TextChoices):
    COVERED = "covered", "Covered"
    COVERED_BILLABLE = "covered_billable", "Covered, billable"
    WARRANTY = "warranty", "Warranty"
    OUT_OF_SCOPE = "out_of_scope", "Out of scope"
    NOT_ENTITLED = "not_entitled", "Not entitled"


class ContractEventType(models.TextChoices):
    PLAN_CREATED = "plan_created"
    PLAN_VERSIONED = "plan_versioned"
    CONTRACT_CREATED = "contract_created"
    CONTRACT_RENEWED = "contract_renewed"
    CONTRACT_CANCELLED = "contract_cancelled"
    CONTRACT_EXPIRED = "contract_expired"
    CONTRACT_EXPIRING = "contract_expiring"
    CONTRACT_TOPPED_UP = "contract_topped_up"
    CONTRACT_RENAMED = "contract_renamed"
    NAMED_CONTACTS_CHANGED = "named_contacts_changed"
    LEDGER_ADJUSTED = "ledger_adjusted"
    LOW_BALANCE = "low_balance"
    NEGATIVE_BALANCE = "negative_balance"
    EXHAUSTED_BALANCE = "exhausted_balance"
    DECISION_RECORDED = "decision_recorded"
    DECISION_OVERRIDDEN = "decision_overridden"
    TRAINING_RECORDED = "training_recorded"
