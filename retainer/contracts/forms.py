from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms

from retainer.accounts.models import Contact, Organization
from retainer.catalog.models import Product
from retainer.contracts.choices import (
    AllowanceUnit,
    AuthorizationPolicy,
    Channel,
    DecrementPoint,
    ExhaustionPolicy,
    Preset,
    PriceBasis,
    ThresholdKind,
    Tier,
)
from retainer.contracts.models import NAME_MAX_LENGTH, SupportPlan
from retainer.contracts.terms import DEFAULT_DECREMENT, PlanTerms
from retainer.lib.money import CURRENCY_CHOICES


class TopUpForm(forms.Form):
    quantity = forms.DecimalField(
        label="Quantity (incidents, or hours)",
        min_value=Decimal("0.01"),
        max_value=100_000,
        max_digits=8,
        decimal_places=2,
    )
    price = forms.DecimalField(
        label="Price", min_value=0, max_digits=14, decimal_places=2, required=False
    )
    # Generated when the form is shown: submitting the same form twice tops up once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["key"].initial = f"console-top-up:{uuid.uuid4()}"


class CancelForm(forms.Form):
    # Required by ``checks.check_cancel_contract``, the rule of every door.
    reason = forms.CharField(label="Reason", max_length=500, required=False)


# --- Plans ---------------------------------------------------------------------------------

# Terms an empty field clears (none, or no text) rather than leaves at the preset's value.
CLEARABLE_TERMS = (
    "term_months", "term_days", "rollover_cap", "max_named_contacts", "tier", "required_course",
)  # fmt: skip


def _amount(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=0, max_digits=14, decimal_places=4, required=False, **kwargs
    )


def _whole(label: str, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=1_000_000, **kwargs)


class PlanForm(forms.Form):
    """Every term of a plan (``PlanTerms``), quantities in the plan's unit: incidents, or
    hours for an hour plan. ``terms()`` gives them to ``checks.check_create_plan`` /
    ``check_create_plan_version``, which validate them through ``PlanTerms``; their
    refusals come back beside the field of the same name."""

    name = forms.CharField(label="Name", max_length=120)
    code = forms.SlugField(
        label="Code (stable across versions)", max_length=60, help_text="e.g. gold-hours"
    )
    tier = forms.ChoiceField(label="Tier", choices=[("", "—"), *Tier.choices], required=False)
    products = forms.ModelMultipleChoiceField(
        label="Products", queryset=Product.objects.all(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    unit = forms.ChoiceField(label="Allowance unit", choices=AllowanceUnit.choices)
    quantity = forms.DecimalField(
        label="Allowance per term (incidents, or hours)", min_value=0, max_value=1_000_000,
        max_digits=10, decimal_places=2, required=False,
    )  # fmt: skip
    term_months = _whole("Term (months)", required=False)
    term_days = _whole("Term (days, replaces months: warranties)", required=False)
    decrement_point = forms.ChoiceField(
        label="Draws", choices=[("", "Follows the unit"), *DecrementPoint.choices], required=False
    )
    exhaustion_policy = forms.ChoiceField(label="When used up", choices=ExhaustionPolicy.choices)
    overage_rate = _amount("Overage rate (per hour, or per incident)")
    low_balance_kind = forms.ChoiceField(
        label="Low-balance threshold is", choices=ThresholdKind.choices
    )
    low_balance_threshold = _whole(
        "Low-balance threshold (incidents, or hours for an hour bank; or a percent)",
        required=False,
    )
    rollover_cap = forms.DecimalField(
        label="Rollover cap (empty: unused allowance expires)", min_value=0,
        max_value=1_000_000, max_digits=10, decimal_places=2, required=False,
    )  # fmt: skip
    allowance_expires = forms.BooleanField(label="Allowance expires", required=False)
    channels = forms.MultipleChoiceField(
        label="Channels", choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    authorization_policy = forms.ChoiceField(
        label="Who may ask", choices=AuthorizationPolicy.choices
    )
    max_named_contacts = _whole("Named contacts at most", required=False)
    required_course = forms.CharField(label="Required course", max_length=120, required=False)
    price_basis = forms.ChoiceField(label="Price", choices=PriceBasis.choices)
    price_amount = _amount("Price per term (fixed)")
    price_percent = _amount("Percent of the products' price")
    named_engineer_price = _amount("Add-on: named support engineer")
    extra_contact_price = _amount("Add-on: each extra named contact")
    uplift_percent = _amount("Annual uplift (%)")
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)
    includes_updates = forms.BooleanField(label="Includes product updates", required=False)

    def __init__(self, *args: Any, plan_terms: PlanTerms, editing: bool = False, **kwargs: Any):
        kwargs.setdefault("initial", {}).update(self.initial_from(plan_terms))
        super().__init__(*args, **kwargs)
        self.preset = plan_terms.preset
        if editing:
            del self.fields["code"]  # a new version keeps the plan's code

    @staticmethod
    def initial_from(terms: PlanTerms) -> dict[str, Any]:
        values = terms.to_json()
        per_unit = 60 if terms.unit == AllowanceUnit.HOURS else 1
        values["quantity"] = Decimal(terms.quantity) / per_unit
        if terms.rollover_cap is not None:
            values["rollover_cap"] = Decimal(terms.rollover_cap) / per_unit
        if terms.decrement_point == DEFAULT_DECREMENT.get(terms.unit):
            values["decrement_point"] = ""  # so that changing the unit changes it too
        return values

    def terms(self) -> dict[str, Any]:
        """The cleaned term values (quantities still in the plan's unit)."""
        data = self.cleaned_data
        terms = {
            name: data[name]
            for name in TERM_FIELDS
            if data.get(name) not in (None, "") or name in CLEARABLE_TERMS
        }
        terms["channels"] = list(data["channels"])
        if not data.get("decrement_point"):
            terms["decrement_point"] = DEFAULT_DECREMENT[data["unit"]]
        return terms


TERM_FIELDS = [name for name in PlanForm.base_fields if name not in ("name", "code", "products")]


# --- Contracts -----------------------------------------------------------------------------


class PlanChoiceField(forms.ModelChoiceField):
    """Plans by their names and kinds."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_preset_display()})"


class ContactChoiceField(forms.ModelChoiceField):
    """Contacts by name and e-mail address (two people may share a name)."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} <{obj.email}>"


class ContractForm(forms.Form):
    """Sell a contract on a plan, or on a preset's default terms. ``values()`` gives the
    arguments of ``checks.check_create_contract``, the rule the API follows too."""

    organization = forms.ModelChoiceField(
        label="Organization", queryset=Organization.objects.filter(is_active=True)
    )
    plan = PlanChoiceField(
        label="Plan", queryset=SupportPlan.objects.filter(is_current=True), required=False,
        empty_label="— none: the preset's terms —",
    )  # fmt: skip
    preset = forms.ChoiceField(
        label="Kind (when no plan is chosen)", choices=[("", "—"), *Preset.choices],
        required=False,
    )  # fmt: skip
    name = forms.CharField(
        label="Name (empty: organization, plan and start year)", max_length=NAME_MAX_LENGTH,
        required=False,
    )  # fmt: skip
    start_date = forms.DateField(label="Start date", widget=forms.DateInput(attrs={"type": "date"}))
    covered_products = forms.ModelMultipleChoiceField(
        label="Covered products (empty: the plan's)", queryset=Product.objects.all(),
        required=False, widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    price = forms.DecimalField(
        label="Price per term (empty: from the plan)", min_value=0, max_digits=14,
        decimal_places=4, required=False,
    )  # fmt: skip
    purchase_price = forms.DecimalField(
        label="Purchase price (maintenance at a percent of what was paid)", min_value=0,
        max_digits=14, decimal_places=4, required=False,
    )  # fmt: skip
    named_engineer = forms.BooleanField(label="Named support engineer add-on", required=False)
    extra_named_contacts = forms.IntegerField(
        label="Extra named contacts", min_value=0, max_value=1000, initial=0, required=False
    )
    reference = forms.CharField(label="Reference (order number)", max_length=60, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("plan") and not data.get("preset"):
            self.add_error("preset", "Choose a plan, or the kind of contract.")
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        plan = data.get("plan")
        terms: dict[str, Any] = {}
        if data.get("price") is not None:
            terms = {"price_basis": PriceBasis.FIXED, "price_amount": data["price"]}
        return {
            "organization": data["organization"],
            "plan": plan,
            "preset": data.get("preset") or (plan.preset if plan else ""),
            "name": data.get("name", ""),
            "start_date": data["start_date"],
            "covered_products": list(data.get("covered_products") or []),
            "purchase_price": data.get("purchase_price"),
            "named_engineer": bool(data.get("named_engineer")),
            "extra_named_contacts": data.get("extra_named_contacts") or 0,
            "reference": data.get("reference", ""),
            "terms": terms,
        }


class RenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH)


class NamedContactForm(forms.Form):
    """One contact to name on (or remove from) a contract; the choices are the active
    contacts of the contract's organization."""

    contact = ContactChoiceField(label="Contact", queryset=Contact.objects.none())

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = Contact.objects.filter(organization_id=organization_id).order_by(
            "full_name"
        )
