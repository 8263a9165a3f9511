"""States, kinds and event types of leads, opportunities, interactions and onboarding."""

from django.db import models


class LeadSource(models.TextChoices):
    WEB = "web", "Web form"
    REFERRAL = "referral", "Referral"
    EVENT = "event", "Event"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound"
    OTHER = "other", "Other"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    DISQUALIFIED = "disqualified", "Disqualified"
    CONVERTED = "converted", "Converted"


class StageKind(models.TextChoices):
    """Where a stage sits: open stages are the pipeline a deal moves through; an
    opportunity reaches the won or lost stage only by being won or lost."""

    OPEN = "open", "Pipeline"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class OpportunityStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class InteractionKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "E-mail"
    NOTE = "note", "Note"


class SuccessEventType(models.TextChoices):
    LEAD_CREATED = "lead_created"
    LEAD_UPDATED = "lead_updated"
    LEAD_CONVERTED = "lead_converted"
    OPPORTUNITY_CREATED = "opportunity_created"
    OPPORTUNITY_UPDATED = "opportunity_updated"
    OPPORTUNITY_MOVED = "opportunity_moved"
    OPPORTUNITY_WON = "opportunity_won"
    OPPORTUNITY_LOST = "opportunity_lost"
    INTERACTION_LOGGED = "interaction_logged"
    STAGE_SAVED = "stage_saved"
    ONBOARDING_PLAN_CREATED = "onboarding_plan_created"
    ONBOARDING_STEP_DONE = "onboarding_step_done"
    ONBOARDING_STEP_UNDONE = "onboarding_step_undone"
    LICENSE_CREATED = "license_created"
    LICENSE_USAGE_REPORTED = "license_usage_reported"
    SUCCESS_PLAN_CREATED = "success_plan_created"
    SUCCESS_PLAN_UPDATED = "success_plan_updated"
    SUCCESS_GOAL_SAVED = "success_goal_saved"
    MILESTONE_SAVED = "milestone_saved"
    MILESTONE_DONE = "milestone_done"
    MILESTONE_UNDONE = "milestone_undone"
    PERCEPTION_SURVEY_SENT = "perception_survey_sent"
    PERCEPTION_SURVEY_ANSWERED = "perception_survey_answered"
    COURSE_SAVED = "course_saved"
    TRAINING_SESSION_SCHEDULED = "training_session_scheduled"
    CONTACT_ENROLLED = "contact_enrolled"
    ENROLLMENT_CANCELLED = "enrollment_cancelled"
    ENROLLMENT_COMPLETED = "enrollment_completed"
    ENROLLMENT_NO_SHOW = "enrollment_no_show"


class Perception(models.TextChoices):
    """The answer to the success-perception survey: does the customer see success?"""

    POSITIVE = "positive", "Yes, we see success"
    NEUTRAL = "neutral", "Somewhat"
    NEGATIVE = "negative", "Not yet, or not at all"


class CourseLevel(models.TextChoices):
    BASIC = "basic", "Basic"
    ADVANCED = "advanced", "Advanced"


class EnrollmentStatus(models.TextChoices):
    """An enrollment's state: enrolled until the session, then completed or no-show; or
    cancelled, which frees the seat."""

    ENROLLED = "enrolled", "Enrolled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"


#: Enrollments that hold a seat in their session (a cancelled one frees it).
SEATED_STATUSES = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED, EnrollmentStatus.NO_SHOW)
