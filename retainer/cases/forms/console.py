"""Forms of the agent console. They parse and validate; the actions do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from retainer.accounts.models import Contact
from retainer.accounts.selectors import staff_people
from retainer.cases.choices import CaseStatus, Priority, RootCause, Severity
from retainer.cases.forms import portal
from retainer.cases.models import Defect
from retainer.contracts.choices import Channel, Outcome
from retainer.contracts.models import Contract
from retainer.lib.limits import TEXT_MAX_LENGTH


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Message", max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
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
        queryset=staff_people(),
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
        label="Reason (kept in the history)",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
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


def _contact_label(contact: Contact) -> str:
    """Name and address: two contacts of one organization may share a name."""
    return f"{contact.full_name} · {contact.email}"


class NewCaseForm(portal.NewCaseForm):
    """A case an agent opens for a contact of the chosen organization (a phone call, an
    e-mail): the portal's fields, plus the contact, the channel and the priority."""

    contact = forms.ModelChoiceField(
        label="Contact", queryset=Contact.objects.none(), empty_label="Choose the contact"
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[(c, Channel(c).label) for c in (Channel.PHONE, Channel.EMAIL, Channel.WEB)],
        initial=Channel.PHONE,
    )
    priority = forms.ChoiceField(
        label="Priority", choices=Priority.choices, initial=Priority.NORMAL
    )

    field_order = ["contact", "channel", "product", "release", "environment", "severity"]

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contacts = self.fields["contact"]
        assert isinstance(contacts, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        contacts.queryset = Contact.objects.filter(
            organization_id=organization_id, is_active=True
        ).order_by("full_name", "pk")
        contacts.label_from_instance = _contact_label  # type: ignore[method-assign,assignment]
        # The release options come from the console's fragment (the portal's is for contacts).
        self.fields["product"].widget.attrs["hx-get"] = reverse("console:case_releases")


class PreviewForm(NewCaseForm):
    """The console's decision preview: the contact and the product are needed, the rest
    as in the portal's preview."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        portal.relax_for_preview(self)
        self.fields["priority"].required = False

    def clean(self) -> dict[str, Any]:
        return portal.drop_foreign_release(super().clean() or {})
