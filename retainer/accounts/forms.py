from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from retainer.accounts.actions import (
    account_owner_error,
    normalize_domains,
    organization_domain_errors,
)
from retainer.accounts.models import Organization
from retainer.lib.timezones import TIME_ZONE_CHOICES


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class MagicLinkForm(forms.Form):
    """The address a sign-in link goes to. Labelled "Address" so that "E-mail" stays the
    password form's field."""

    email = forms.EmailField(
        label="Address for the link",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "id": "id_link_email"}),
    )


class OrganizationAdminForm(forms.ModelForm):
    """Offers the time-zone list the model itself does not carry (see Organization.time_zone)."""

    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")
    domain_list = forms.CharField(
        label="Domains",
        required=False,
        help_text="E-mail domains of this customer, separated by commas.",
    )

    class Meta:
        model = Organization
        fields = ["name", "time_zone", "currency", "account_owner"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if self.instance.pk:
            self.fields["domain_list"].initial = ", ".join(
                self.instance.domains.values_list("domain", flat=True)
            )

    @staticmethod
    def split_domains(value: str | None) -> list[str] | None:
        if value is None:
            return None
        return [d.strip().lower() for d in value.split(",") if d.strip()]

    def clean(self) -> dict[str, Any]:
        """Check the domains and the account owner with the action's own rules, so a refusal
        is a form error (with the API's message) and nothing is saved."""
        cleaned = super().clean() or {}
        domains = normalize_domains(self.split_domains(cleaned.get("domain_list")) or [])
        for message in organization_domain_errors(self.instance, domains):
            self.add_error("domain_list", message)
        owner_error = account_owner_error(cleaned.get("account_owner"))
        if owner_error:
            self.add_error("account_owner", owner_error)
        return cleaned
