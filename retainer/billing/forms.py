"""Forms of the billing console. They parse; the check functions decide (permission,
period, state), so a refusal reads the same from the console, the API and the command."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms

from retainer.accounts.models import Organization
from retainer.billing.actions import DEFAULT_RENEWAL_DAYS
from retainer.billing.checks import MAX_RENEWAL_DAYS
from retainer.billing.models import InvoiceLine
from retainer.catalog.models import ServiceOffering


class StartRunForm(forms.Form):
    period = forms.CharField(
        label="Period (YYYY-MM)",
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "2026-10", "inputmode": "numeric"}),
    )
    organization = forms.ModelChoiceField(
        label="Organization",
        queryset=Organization.objects.order_by("name"),
        required=False,
        empty_label="All organizations",
    )
    draft = forms.BooleanField(label="Leave the invoices as drafts", required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500)


class PaidForm(forms.Form):
    reference = forms.CharField(label="Payment reference", max_length=120, required=False)


class CreditNoteForm(forms.Form):
    """A reason, and optionally an amount per line: no amount at all credits the whole
    rest of the invoice."""

    reason = forms.CharField(label="Reason", max_length=500)

    def __init__(self, *args: Any, lines: Iterable[InvoiceLine] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_fields: list[tuple[InvoiceLine, str]] = []
        for line in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=f"Line {line.position}: {line.description[:60]}",
                required=False,
                min_value=Decimal("0.01"),
                max_digits=14,
                decimal_places=4,
            )
            self.line_fields.append((line, name))

    def line_amounts(self) -> list[tuple[int, Decimal]] | None:
        """``(line id, amount)`` for every line given an amount, or ``None`` (in full)."""
        amounts = [
            (line.pk, self.cleaned_data[name])
            for line, name in self.line_fields
            if self.cleaned_data.get(name) is not None
        ]
        return amounts or None


class GenerateQuotesForm(forms.Form):
    within_days = forms.IntegerField(
        label="Contracts ending within (days)",
        min_value=1,
        max_value=MAX_RENEWAL_DAYS,
        initial=DEFAULT_RENEWAL_DAYS,
    )


# --- Professional services -----------------------------------------------------------------


class ServiceQuoteForm(forms.Form):
    """A quote of one catalogue offering: to an organization, or on a case (``case`` is
    its public id, carried over from the "Offer services" link)."""

    organization = forms.ModelChoiceField(
        label="Organization",
        queryset=Organization.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="The case's organization",
    )
    case = forms.CharField(max_length=32, required=False, widget=forms.HiddenInput)
    offering = forms.ModelChoiceField(
        label="Service offering",
        queryset=ServiceOffering.objects.filter(is_active=True).order_by("kind", "name"),
    )
    valid_until = forms.DateField(
        label="Valid until",
        required=False,
        help_text="Empty: 30 days from today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    scope = forms.CharField(
        label="Scope of the work",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    send = forms.BooleanField(label="Send it to the customer now", required=False, initial=True)


class ServiceQuoteDeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MilestoneSplitForm(forms.Form):
    """One milestone per line, ``title | amount``; the check decides whether the amounts
    add up to the quote's."""

    milestones = forms.CharField(
        label="Milestones (one per line: title | amount)",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Analysis | 800.00\nFix | 1600.00"}),
    )

    def clean_milestones(self) -> list[tuple[str, str]]:
        parts = []
        for number, line in enumerate(self.cleaned_data["milestones"].splitlines(), start=1):
            if not line.strip():
                continue
            title, bar, amount = line.rpartition("|")
            if not bar or not title.strip() or not amount.strip():
                raise forms.ValidationError(
                    f"Line {number}: write the title, a bar and the amount (Fix | 1600.00)."
                )
            parts.append((title.strip(), amount.strip()))
        return parts


class EngagementTimeForm(forms.Form):
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=24 * 60)
    work_date = forms.DateField(
        label="Work date",
        required=False,
        help_text="Empty: today.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label="Note", max_length=500, required=False)
