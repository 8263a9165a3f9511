"""The Mail page's forms: the three decisions about a message in review."""

from __future__ import annotations

from django import forms

from retainer.lib.limits import EMAIL_MAX_LENGTH, LINE_MAX_LENGTH


class OpenCaseForm(forms.Form):
    contact_email = forms.CharField(
        label="Contact's e-mail address",
        max_length=EMAIL_MAX_LENGTH,
        help_text="The case is opened for this contact, on the mailbox's product.",
    )


class AttachForm(forms.Form):
    reference = forms.CharField(
        label="Case reference", max_length=20, help_text="For example RT-10234."
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=LINE_MAX_LENGTH)
