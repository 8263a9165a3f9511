"""The Mail page's forms: mailboxes, the three decisions about a message in review, and a
person's notification preferences."""

from __future__ import annotations

from django import forms
from django.conf import settings

from retainer.catalog.models import Product
from retainer.lib.limits import EMAIL_MAX_LENGTH, LINE_MAX_LENGTH
from retainer.mail.choices import MailboxKind, OutboundKind


class MailboxForm(forms.Form):
    """A mailbox's settings. The IMAP password is never asked for: the mailbox names the
    environment variable of the server's process that holds it."""

    name = forms.SlugField(max_length=50, help_text="For receive_mail --mailbox NAME.")
    address = forms.EmailField(max_length=EMAIL_MAX_LENGTH, help_text="Where customers write.")
    kind = forms.ChoiceField(label="Receives by", choices=MailboxKind.choices)
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        required=False,
        label="New cases on",
        help_text="Without a product, new messages wait for review.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    spool_dir = forms.CharField(
        max_length=500, required=False, label="Spool folder", help_text="Spool mailboxes."
    )
    imap_host = forms.CharField(max_length=253, required=False, label="IMAP host")
    imap_port = forms.IntegerField(
        min_value=1, max_value=65535, initial=993, label="IMAP port", required=False
    )
    imap_tls = forms.BooleanField(required=False, initial=True, label="IMAP over TLS")
    imap_folder = forms.CharField(max_length=200, initial="INBOX", required=False)
    imap_user = forms.CharField(max_length=254, required=False, label="IMAP user")
    password_env = forms.CharField(
        max_length=100,
        required=False,
        label="Password variable",
        help_text="The environment variable that holds the IMAP password, for example "
        "RETAINER_IMAP_PASSWORD_SUPPORT.",
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        data["imap_port"] = data.get("imap_port") or 993
        data["imap_folder"] = data.get("imap_folder") or "INBOX"
        return data


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


class PreferencesForm(forms.Form):
    """The optional e-mails a person gets: a ticked kind is sent, an unticked one is not.
    ``offered`` are the kinds this person may receive (``choices.STAFF_KINDS`` or
    ``CONTACT_KINDS``)."""

    wanted = forms.MultipleChoiceField(
        label="E-mail me about",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(
        label="Language of my e-mails",
        choices=settings.LANGUAGES,
        required=False,  # left out: the language stays as it is
        help_text="Every e-mail you get from support is written in this language.",
    )

    def __init__(self, *args: object, offered: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.offered = offered
        field = self.fields["wanted"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        field.choices = [(kind, OutboundKind(kind).label) for kind in offered]
