from django import forms
from django.contrib.auth.forms import AuthenticationForm

from retainer.accounts.models import Organization, OrganizationDomain, domain_validator
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

    def clean_domain_list(self) -> str:
        """Check every domain here, so a bad one is a form error and nothing is saved."""
        value = self.cleaned_data.get("domain_list", "")
        errors = []
        for domain in self.split_domains(value) or []:
            try:
                domain_validator(domain)
            except forms.ValidationError as exc:
                errors.append(f"{domain}: {' '.join(exc.messages)}")
                continue
            taken = OrganizationDomain.objects.filter(domain__iexact=domain)
            if self.instance.pk:
                taken = taken.exclude(organization=self.instance)
            if taken.exists():
                errors.append(f"{domain}: this domain already belongs to another organization.")
        if errors:
            raise forms.ValidationError(errors)
        return value
