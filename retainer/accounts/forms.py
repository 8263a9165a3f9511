from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.db import models

from retainer.accounts.actions import (
    account_owner_error,
    normalize_domains,
    organization_domain_errors,
)
from retainer.accounts.choices import API_AREAS, READ, WRITE, Role
from retainer.accounts.models import Organization, Team, User
from retainer.accounts.selectors import staff_people
from retainer.accounts.shortcuts import (
    SHORTCUTS,
    effective_keys,
    overrides_for,
    shortcut_key_errors,
)
from retainer.lib.limits import (
    EMAIL_MAX_LENGTH,
    LIST_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from retainer.lib.timezones import TIME_ZONE_CHOICES


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail",
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    # Bounded: a password is hashed on every attempt, and a too-long one is refused before
    # ``authenticate`` runs (see ``lib.limits.PASSWORD_MAX_LENGTH``).
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MagicLinkForm(forms.Form):
    """The address a sign-in link goes to. Labelled "Address" so that "E-mail" stays the
    password form's field."""

    email = forms.EmailField(
        label="Address for the link",
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "id": "id_link_email"}),
    )


class OrganizationAdminForm(forms.ModelForm):
    """Offers the time-zone list the model itself does not carry (see Organization.time_zone)."""

    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")
    domain_list = forms.CharField(
        label="Domains",
        required=False,
        max_length=LIST_MAX_LENGTH,
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


class PreferencesForm(forms.Form):
    """A staff member's keyboard shortcuts: on or off, and one key per shortcut."""

    shortcuts_enabled = forms.BooleanField(
        label="Use single-key shortcuts in the console",
        required=False,
        help_text="Off, no key does anything by itself: useful with speech input, or when "
        "keys are pressed by accident.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for shortcut in SHORTCUTS:
            self.fields[f"key_{shortcut.action}"] = forms.CharField(
                label=shortcut.label,
                max_length=1,
                strip=False,
                help_text=f"Default: {shortcut.key}",
                widget=forms.TextInput(attrs={"size": 2, "autocomplete": "off"}),
            )

    @classmethod
    def for_user(cls, user: Any, data: Any = None) -> PreferencesForm:
        keys = effective_keys(user.shortcut_keys)
        initial = {"shortcuts_enabled": user.shortcuts_enabled}
        initial.update({f"key_{action}": key for action, key in keys.items()})
        return cls(data, initial=initial)

    def key_fields(self) -> list[Any]:
        return [self[f"key_{shortcut.action}"] for shortcut in SHORTCUTS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        keys = {
            s.action: cleaned[f"key_{s.action}"] for s in SHORTCUTS if f"key_{s.action}" in cleaned
        }
        for action, message in shortcut_key_errors(keys).items():
            self.add_error(f"key_{action}", message)
        return cleaned

    def values(self) -> dict[str, Any]:
        """The arguments of ``checks.check_set_preferences``."""
        keys = {s.action: self.cleaned_data[f"key_{s.action}"] for s in SHORTCUTS}
        return {
            "shortcuts_enabled": self.cleaned_data["shortcuts_enabled"],
            "shortcut_keys": overrides_for(keys),
        }


SCOPE_CHOICES = [("", "No access"), (READ, "Read"), (WRITE, "Read and write")]


class ApiTokenForm(forms.Form):
    """A personal API token: its name, what it may reach per API area, and its expiry."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, e.g. the script or the integration that uses it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for area, label in API_AREAS.items():
            self.fields[f"scope_{area}"] = forms.ChoiceField(
                label=label, choices=SCOPE_CHOICES, required=False
            )
        longest = settings.RETAINER_API_TOKEN_MAX_DAYS
        self.fields["expires_in_days"] = forms.IntegerField(
            label="Expires after (days)",
            min_value=1,
            max_value=longest or None,
            required=bool(longest),
            initial=min(settings.RETAINER_API_TOKEN_DEFAULT_DAYS, longest or 10**6),
            help_text=f"At most {longest} days." if longest else "Empty: never expires.",
        )

    def scope_fields(self) -> list[Any]:
        return [self[f"scope_{area}"] for area in API_AREAS]

    def values(self) -> dict[str, Any]:
        """The arguments of ``checks.check_create_api_token``."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "scopes": [
                f"{area}:{data[f'scope_{area}']}" for area in API_AREAS if data[f"scope_{area}"]
            ],
            "expires_in_days": data.get("expires_in_days"),
        }


class ServiceTokenForm(ApiTokenForm):
    """A service token: an API token of its own service account with a staff role."""

    role = forms.ChoiceField(
        label="Acts with the role",
        choices=Role.choices,
        initial=Role.AGENT,
        help_text="The token's account holds this role's permissions; the scopes narrow "
        "them further.",
    )

    def values(self) -> dict[str, Any]:
        return {**super().values(), "role": self.cleaned_data["role"]}


# --- People (the console's staff and teams) ----------------------------------------------------


class StaffMemberForm(forms.Form):
    """A staff member's name and roles (what the console's edit changes)."""

    full_name = forms.CharField(label="Name", max_length=200)
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each role adds its permissions; without a role a staff member can sign "
        "in but do little.",
    )

    @classmethod
    def initial_for(cls, user: User) -> dict[str, Any]:
        return {
            "full_name": user.full_name,
            "roles": sorted(group.name for group in user.groups.all()),
        }


class NewStaffMemberForm(StaffMemberForm):
    """A new staff member: name, e-mail address, roles and a first password (checked with
    the password rules of ``AUTH_PASSWORD_VALIDATORS``), which they sign in with."""

    email = forms.EmailField(
        label="E-mail", max_length=EMAIL_MAX_LENGTH, help_text="They sign in with it."
    )
    password1 = forms.CharField(
        label="First password",
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="The password again",
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["full_name", "email", "roles", "password1", "password2"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned

    def values(self) -> dict[str, Any]:
        """The arguments of ``checks.check_create_staff_user``."""
        data = self.cleaned_data
        return {
            "full_name": data["full_name"],
            "email": data["email"],
            "roles": data["roles"],
            "password": data["password1"],
        }


class StaffActiveForm(forms.Form):
    """Deactivate (``0``) or reactivate (``1``) a staff member: the state asked for, so a
    repeated request does not undo the first."""

    active = forms.TypedChoiceField(
        choices=[("0", "Deactivate"), ("1", "Reactivate")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )


class StaffMemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.full_name if obj.is_active else f"{obj.full_name} (inactive)"


class StaffMembersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.full_name if obj.is_active else f"{obj.full_name} (inactive)"


class TeamForm(forms.Form):
    """A team: name, description, members and lead, offered from the active staff (and,
    when editing, the current members, so saving never drops one unasked)."""

    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(
        label="Description", max_length=TEXT_MAX_LENGTH, required=False, widget=forms.Textarea
    )
    lead = StaffMemberChoiceField(
        label="Lead",
        queryset=User.objects.none(),
        required=False,
        empty_label="No lead",
        help_text="SLA warnings and breaches of the team's cases reach the lead too.",
    )
    members = StaffMembersField(
        label="Members",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, team: Team | None = None, **kwargs: Any) -> None:
        if team is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": team.name,
                    "description": team.description,
                    "lead": team.lead_id,
                    "members": [member.pk for member in team.members.all()],
                },
            )
        super().__init__(*args, **kwargs)
        people = staff_people().order_by("full_name", "id")
        self.fields["lead"].queryset = people  # type: ignore[attr-defined]
        current = team.members.values("pk") if team is not None else User.objects.none()
        self.fields["members"].queryset = (  # type: ignore[attr-defined]
            User.objects.filter(
                models.Q(pk__in=people.values("pk")) | models.Q(pk__in=current)
            ).order_by("full_name", "id")
        )

    def values(self) -> dict[str, Any]:
        """The arguments of ``checks.check_save_team``."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "members": list(data["members"]),
            "lead": data["lead"],
        }
