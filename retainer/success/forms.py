"""The console's forms for leads, opportunities, the handoff and interactions. Their
``cleaned_data`` are the keyword arguments of the matching ``checks.check_*``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from retainer.accounts.models import Contact, Organization, Team, User
from retainer.accounts.selectors import staff_people
from retainer.catalog.models import Product
from retainer.contracts.choices import Tier
from retainer.contracts.models import SupportPlan
from retainer.lib.limits import EMAIL_MAX_LENGTH, SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH
from retainer.lib.money import CURRENCY_CHOICES
from retainer.success.choices import (
    CourseLevel,
    InteractionKind,
    LeadSource,
    LeadStatus,
    Perception,
)
from retainer.success.models import License, OnboardingTemplate, Opportunity, Stage, SuccessPlan
from retainer.success.selectors import open_stages


def staff_users() -> QuerySet[User]:
    return staff_people().order_by("full_name")


class LeadForm(forms.Form):
    company = forms.CharField(max_length=200)
    contact_name = forms.CharField(label="Contact name", max_length=200)
    email = forms.EmailField(label="E-mail", max_length=EMAIL_MAX_LENGTH)
    phone = forms.CharField(max_length=30, required=False)
    source = forms.ChoiceField(choices=LeadSource.choices, initial=LeadSource.WEB)
    status = forms.ChoiceField(
        choices=[c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED],
        initial=LeadStatus.NEW,
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    currency = forms.ChoiceField(
        choices=CURRENCY_CHOICES, initial="EUR", help_text="What the customer would pay in."
    )
    notes = forms.CharField(widget=forms.Textarea, required=False, max_length=TEXT_MAX_LENGTH)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]


class ConvertForm(forms.Form):
    open_opportunity = forms.BooleanField(
        label="Open an opportunity for it", required=False, initial=True
    )


class OutcomesField(forms.CharField):
    """Expected outcomes, one per line."""

    widget = forms.Textarea

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class OpportunityForm(forms.Form):
    name = forms.CharField(max_length=SUBJECT_MAX_LENGTH)
    organization = forms.ModelChoiceField(queryset=Organization.objects.filter(is_active=True))
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), required=False)
    amount = forms.DecimalField(min_value=0, max_digits=14, decimal_places=4, initial=0)
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR")
    expected_close_date = forms.DateField(
        label="Expected close date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.filter(is_active=True), required=False
    )
    plan = forms.ModelChoiceField(
        label="Proposed support plan",
        queryset=SupportPlan.objects.filter(is_current=True),
        required=False,
    )
    tier = forms.ChoiceField(choices=[("", "The plan's"), *Tier.choices], required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    expected_outcomes = OutcomesField(
        label="Expected outcomes",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="What the customer wants to achieve, one per line.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]
        self.fields["stage"].queryset = open_stages()  # type: ignore[attr-defined]
        self.fields["contact"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).select_related("organization")


class OpportunityChangeForm(OpportunityForm):
    """The fields of an open opportunity that change (moving has its own form)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["organization"]
        del self.fields["stage"]

    @staticmethod
    def initial_for(opportunity: Opportunity) -> dict[str, Any]:
        return {
            "name": opportunity.name,
            "contact": opportunity.contact_id,
            "amount": opportunity.amount,
            "currency": opportunity.currency,
            "expected_close_date": opportunity.expected_close_date,
            "products": list(opportunity.products.all()),
            "plan": opportunity.plan_id,
            "tier": opportunity.tier,
            "owner": opportunity.owner_id,
            "expected_outcomes": "\n".join(opportunity.expected_outcomes),
        }


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.all(), empty_label=None)


class WinForm(forms.Form):
    success_owner = forms.ModelChoiceField(
        label="Customer-success owner", queryset=User.objects.none()
    )
    team = forms.ModelChoiceField(
        label="Support team", queryset=Team.objects.filter(is_active=True)
    )
    template = forms.ModelChoiceField(
        label="Onboarding template", queryset=OnboardingTemplate.objects.all(), required=False
    )
    start_date = forms.DateField(
        label="Contract start", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["success_owner"].queryset = staff_users()  # type: ignore[attr-defined]


class LoseForm(forms.Form):
    reason = forms.CharField(label="Why was it lost?", max_length=TEXT_MAX_LENGTH)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(choices=InteractionKind.choices, initial=InteractionKind.CALL)
    summary = forms.CharField(max_length=SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        label="Notes", widget=forms.Textarea, required=False, max_length=TEXT_MAX_LENGTH
    )
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if organization is None:
            del self.fields["contact"]
        else:
            self.fields["contact"].queryset = organization.contacts.filter(  # type: ignore[attr-defined]
                is_active=True
            )


class StepDoneForm(forms.Form):
    done = forms.BooleanField(required=False)


class LicenseForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.filter(is_active=True))
    product = forms.ModelChoiceField(queryset=Product.objects.filter(is_active=True))
    edition = forms.CharField(max_length=60)
    seats = forms.IntegerField(min_value=1)
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Ends on", widget=forms.DateInput(attrs={"type": "date"}))
    allow_overuse = forms.BooleanField(label="Usage may exceed the seats", required=False)


class UsageForm(forms.Form):
    """A month's usage of one license (any day of the month stands for it)."""

    period = forms.DateField(
        label="Month",
        help_text="Any day of the month reported.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    seats_in_use = forms.IntegerField(label="Seats in use", min_value=0)
    basic_users = forms.IntegerField(
        label="Users on basic features", min_value=0, initial=0, required=False
    )
    advanced_users = forms.IntegerField(
        label="Users on advanced features", min_value=0, initial=0, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("basic_users", "advanced_users"):
            if data.get(name) is None and name not in self.errors:
                data[name] = 0
        return data


class ReportUsageForm(UsageForm):
    """The console's usage form: the license is chosen in it."""

    license = forms.ModelChoiceField(queryset=License.objects.none())

    field_order = ["license", "period", "seats_in_use", "basic_users", "advanced_users"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["license"].queryset = License.objects.select_related(  # type: ignore[attr-defined]
            "organization", "product"
        )


#: Usage files are small (a row per license and month).
USAGE_UPLOAD_MAX_BYTES = 1024 * 1024


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 with a header row: license, period, seats_in_use, basic_users, "
        "advanced_users.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > USAGE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError("This file is larger than 1 MB: split it.")
        return bytes(upload.read())


# --- Success plans and the perception survey --------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"})
WEIGHT_ERRORS = {"min_value": "A milestone weighs at least 1.", "invalid": "Enter a whole number."}


class PlanForm(forms.Form):
    """The plan's owner, summary and ROI record."""

    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    summary = forms.CharField(widget=forms.Textarea, required=False, max_length=TEXT_MAX_LENGTH)
    roi_investment = forms.DecimalField(
        label="Investment", required=False, min_value=0, max_digits=16, decimal_places=4
    )
    roi_return = forms.DecimalField(
        label="Return", required=False, min_value=0, max_digits=16, decimal_places=4
    )
    roi_currency = forms.ChoiceField(
        label="Currency", choices=[("", "—"), *CURRENCY_CHOICES], required=False
    )
    roi_note = forms.CharField(
        label="ROI note", widget=forms.Textarea, required=False, max_length=TEXT_MAX_LENGTH
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(plan: SuccessPlan | None) -> dict[str, Any]:
        if plan is None:
            return {}
        return {
            "owner": plan.owner_id,
            "summary": plan.summary,
            "roi_investment": plan.roi_investment,
            "roi_return": plan.roi_return,
            "roi_currency": plan.roi_currency,
            "roi_note": plan.roi_note,
        }


class GoalForm(forms.Form):
    title = forms.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = forms.CharField(widget=forms.Textarea, required=False, max_length=TEXT_MAX_LENGTH)


class MilestoneForm(forms.Form):
    title = forms.CharField(max_length=SUBJECT_MAX_LENGTH)
    weight = forms.IntegerField(
        min_value=1,
        initial=1,
        error_messages=WEIGHT_ERRORS,
        help_text="A whole number, at least 1.",
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(label="Due date", widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]


class MilestoneDoneForm(forms.Form):
    done = forms.BooleanField(required=False)
    completed_on = forms.DateField(label="Done on", required=False, widget=DATE)


class SurveyForm(forms.Form):
    """Send the perception survey to a contact, or (empty) to every customer admin."""

    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, empty_label="Every customer admin"
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = organization.contacts.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("full_name")


class SurveyAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label="Do you see the success you expected from us?",
        choices=Perception.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        widget=forms.Textarea,
        required=False,
        max_length=TEXT_MAX_LENGTH,
    )


# --- Proficiency ------------------------------------------------------------------------------


class CourseForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.filter(is_active=True))
    name = forms.CharField(
        max_length=120, help_text="The name trained-only plans require, exactly as written there."
    )
    level = forms.ChoiceField(choices=CourseLevel.choices)
    duration_hours = forms.IntegerField(label="Duration (hours)", min_value=1, max_value=1000)
    validity_months = forms.IntegerField(
        label="Valid for (months)",
        min_value=0,
        max_value=240,
        initial=0,
        help_text="How long a completion counts; 0: it never expires.",
    )
    is_active = forms.BooleanField(label="Offered", required=False, initial=True)


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    capacity = forms.IntegerField(
        min_value=1,
        max_value=1000,
        error_messages={"min_value": "A session has room for at least one contact."},
    )
    location = forms.CharField(max_length=200, required=False)
    online_link = forms.URLField(
        label="Online link", max_length=500, required=False, assume_scheme="https"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("location") and not data.get("online_link"):
            raise forms.ValidationError("Give the session a location or an online link.")
        return data


class EnrollForm(forms.Form):
    email = forms.EmailField(label="Contact's e-mail", max_length=EMAIL_MAX_LENGTH)


class CompleteForm(forms.Form):
    completed_on = forms.DateField(
        label="Completed on",
        required=False,
        help_text="Empty: the session's day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
