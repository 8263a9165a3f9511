"""Constants of the billing domain. Labels are for people; values are the data keys."""

from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


#: A run in one of these states does no more work until someone continues it (a failed
#: run may be continued; a succeeded one has nothing left).
RUN_FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


# Allowed status changes; anything else is refused by the actions.
INVOICE_TRANSITIONS: dict[str, set[str]] = {
    InvoiceStatus.DRAFT: {InvoiceStatus.ISSUED, InvoiceStatus.VOID},
    InvoiceStatus.ISSUED: {InvoiceStatus.PAID, InvoiceStatus.VOID},
    InvoiceStatus.PAID: set(),
    InvoiceStatus.VOID: set(),
}

# What customers may see: an invoice exists for them once it has a number.
CUSTOMER_VISIBLE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID)


class ItemKind(models.TextChoices):
    """What a billed item (and the invoice line it lands on) is for."""

    FEE = "fee", "Contract fee"
    ADDON = "addon", "Add-on"
    TOP_UP = "top_up", "Top-up"
    OVERAGE = "overage", "Overage"
    PAYG = "payg", "Pay-as-you-go"
    SERVICES = "services", "Services"
    MANUAL = "manual", "Manual"


class LineUnit(models.TextChoices):
    TERM = "term", "term"
    EACH = "each", "each"
    HOUR = "hour", "hour"
    INCIDENT = "incident", "incident"


class QuoteStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class BillingEventType(models.TextChoices):
    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    RUN_FAILED = "run_failed"
    INVOICE_CREATED = "invoice_created"
    INVOICE_CHANGED = "invoice_changed"
    INVOICE_LINE_ADDED = "invoice_line_added"
    INVOICE_ISSUED = "invoice_issued"
    INVOICE_PAID = "invoice_paid"
    INVOICE_VOIDED = "invoice_voided"
    CREDIT_NOTE_ISSUED = "credit_note_issued"
    PROFILE_CHANGED = "profile_changed"
    QUOTE_CREATED = "quote_created"
    QUOTE_ACCEPTED = "quote_accepted"
    # Professional services (docs/billing.md, "Services").
    SERVICE_QUOTE_CREATED = "service_quote_created"
    SERVICE_QUOTE_SENT = "service_quote_sent"
    SERVICE_QUOTE_ACCEPTED = "service_quote_accepted"
    SERVICE_QUOTE_DECLINED = "service_quote_declined"
    SERVICE_QUOTE_WITHDRAWN = "service_quote_withdrawn"
    SERVICE_QUOTE_EXPIRED = "service_quote_expired"
    ENGAGEMENT_CREATED = "engagement_created"
    MILESTONES_SPLIT = "milestones_split"
    MILESTONE_DELIVERED = "milestone_delivered"
    ENGAGEMENT_TIME_LOGGED = "engagement_time_logged"


# --- Professional services: quotes and engagements -------------------------------------------


class ServicePricing(models.TextChoices):
    """How a services quote is priced: one fixed amount, or an hourly rate on the time
    logged (time and materials)."""

    FIXED = "fixed", "Fixed price"
    TIME_AND_MATERIALS = "time_materials", "Time and materials"


class ServiceQuoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


#: A quote in one of these states has been answered (or lapsed): nothing changes it again.
SERVICE_QUOTE_CLOSED = (
    ServiceQuoteStatus.ACCEPTED,
    ServiceQuoteStatus.DECLINED,
    ServiceQuoteStatus.EXPIRED,
    ServiceQuoteStatus.WITHDRAWN,
)
