"""Forms of the agent console. They parse and validate; the actions do the work."""

from __future__ import annotations

from django import forms

from retainer.accounts.models import User
from retainer.cases.choices import CaseStatus, Priority, RootCause, Severity
from retainer.cases.models import Defect
from retainer.contracts.choices import Outcome
from retainer.contracts.models import Contract


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}))
    internal = forms.BooleanField(
        label="Internal note (the customer does not see it)", required=False
    )
    file = forms.FileField(label="Attach a file", required=False)


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)
    root_cause = forms.ChoiceField(
        label="Root cause", choices=[("", "—"), *RootCause.choices], required=False
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label="Assignee",
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
    )


class CaseFieldsForm(forms.Form):
    severity = forms.TypedChoiceField(label="Severity", choices=Severity.choices, coerce=int)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices)


class DefectLinkForm(forms.Form):
    defect = forms.ModelChoiceField(label="Defect", queryset=Defect.objects.all())


class OverrideForm(forms.Form):
    outcome = forms.ChoiceField(label="Decision", choices=Outcome.choices)
    contract = forms.ModelChoiceField(
        label="Contract", queryset=Contract.objects.none(), required=False
    )
    reason = forms.CharField(
        label="Reason (kept in the history)", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, organization_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["contract"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = Contract.objects.filter(organization_id=organization_id)


class TimeEntryForm(forms.Form):
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=24 * 60)
    billable = forms.BooleanField(label="Billable", required=False, initial=True)
    note = forms.CharField(label="Note", max_length=500, required=False)


class TimerStopForm(forms.Form):
    billable = forms.BooleanField(label="Billable", required=False)
    note = forms.CharField(label="Note", max_length=500, required=False)
