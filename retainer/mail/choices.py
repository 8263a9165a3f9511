"""States, kinds and event types of the e-mail channel."""

from django.db import models


class MailboxKind(models.TextChoices):
    PIPE = "pipe", "MTA pipe (receive_mail)"
    SPOOL = "spool", "Spool folder"
    IMAP = "imap", "IMAP (polled)"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    REJECTED = "rejected", "Rejected"
    NEEDS_REVIEW = "needs_review", "Needs review"


class InboundOutcome(models.TextChoices):
    """What processing did with a message (the row's ``outcome``)."""

    NONE = "", "—"
    NEW_CASE = "new_case", "Opened a case"
    REPLY = "reply", "Added a reply"
    BOUNCE = "bounce", "Recorded a bounce"
    ATTACHED = "attached", "Attached to a case by staff"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent (address bouncing)"


class OutboundKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Case acknowledged"
    AGENT_REPLY = "agent_reply", "Agent reply"
    RESOLVED = "resolved", "Case resolved"
    REJECTION = "rejection", "Message not accepted"
    WAITING_REMINDER = "waiting_reminder", "Waiting on you: reminder"
    LOW_BALANCE = "low_balance", "Low balance"
    ALLOWANCE_EXHAUSTED = "allowance_exhausted", "Allowance exhausted"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACH = "sla_breach", "SLA breach"
    RENEWAL = "renewal", "Renewal coming up"
    FIX_RELEASED = "fix_released", "Fix released"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    RULE_NOTICE = "rule_notice", "Rule notice"
    SIGN_IN_LINK = "sign_in_link", "Sign-in link"
    SERVICE_QUOTE = "service_quote", "Services quote"
    SUCCESS_SURVEY = "success_survey", "How are we doing? survey"


#: Kinds a person may turn off (each carries an unsubscribe link). Every other kind is
#: transactional — it answers something the person did or owes them a document — and is
#: always sent.
OPTIONAL_KINDS: tuple[str, ...] = (
    OutboundKind.WAITING_REMINDER,
    OutboundKind.LOW_BALANCE,
    OutboundKind.ALLOWANCE_EXHAUSTED,
    OutboundKind.SLA_WARNING,
    OutboundKind.SLA_BREACH,
    OutboundKind.RENEWAL,
    OutboundKind.FIX_RELEASED,
    OutboundKind.SUCCESS_SURVEY,
)
#: The optional kinds offered to staff and to customer contacts on the preferences page.
STAFF_KINDS: tuple[str, ...] = (
    OutboundKind.SLA_WARNING,
    OutboundKind.SLA_BREACH,
    OutboundKind.LOW_BALANCE,
    OutboundKind.ALLOWANCE_EXHAUSTED,
    OutboundKind.RENEWAL,
)
CONTACT_KINDS: tuple[str, ...] = (
    OutboundKind.WAITING_REMINDER,
    OutboundKind.FIX_RELEASED,
    OutboundKind.LOW_BALANCE,
    OutboundKind.ALLOWANCE_EXHAUSTED,
    OutboundKind.RENEWAL,
    OutboundKind.SUCCESS_SURVEY,
)


class MailEventType(models.TextChoices):
    MAILBOX_SAVED = "mailbox_saved", "Mailbox saved"
    INBOUND_RECEIVED = "inbound_received", "Message received"
    INBOUND_PROCESSED = "inbound_processed", "Message processed"
    INBOUND_REVIEWED = "inbound_reviewed", "Message reviewed"
    ADDRESS_BOUNCED = "address_bounced", "Address bounced"
    OUTBOUND_QUEUED = "outbound_queued", "Message queued"
    OUTBOUND_SENT = "outbound_sent", "Message sent"
    OUTBOUND_FAILED = "outbound_failed", "Message failed"
    OUTBOUND_RETRIED = "outbound_retried", "Message retried"
    PREFERENCES_CHANGED = "preferences_changed", "Notification preferences changed"
