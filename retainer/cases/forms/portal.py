"""Forms of the customer portal: opening a case, replying, moving a case, the survey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy

from retainer.cases.choices import CsatRating, Severity
from retainer.catalog.models import Environment, Product, Release
from retainer.lib.converters import parse_id
from retainer.lib.fulltext import QUERY_MAX_LENGTH
from retainer.lib.limits import SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH
from retainer.lib.sanitize import clean_line


class NewCaseForm(forms.Form):
    """What a contact may say about a new case. Organization, contract, priority and
    assignee are never fields: the contact's own organization is used, the rest is the
    vendor's to decide."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label="Choose a product",
        # Changing the product reloads the release options (an HTMX fragment).
        widget=forms.Select(
            attrs={
                "hx-get": reverse_lazy("portal:case_releases"),
                "hx-target": "#id_release",
                "hx-trigger": "change",
            }
        ),
    )
    release = forms.ModelChoiceField(
        queryset=Release.objects.select_related("product").order_by("product_id", "-order"),
        required=False,
        empty_label="Not sure / not listed",
    )
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.filter(is_active=True).order_by("name", "version"),
        required=False,
        empty_label="Not sure / not listed",
    )
    severity = forms.TypedChoiceField(choices=Severity.choices, coerce=int, initial=Severity.MEDIUM)
    subject = forms.CharField(max_length=SUBJECT_MAX_LENGTH)
    description = forms.CharField(
        max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )
    modified_source = forms.BooleanField(
        required=False, label="We run a modified version of the source code"
    )
    third_party = forms.BooleanField(
        required=False, label="The question is about a third-party integration"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product = self._chosen_product()
        # Only the chosen product's releases are offered (the HTMX fragment keeps this
        # in step when the product changes).
        releases = self.fields["release"]
        assert isinstance(releases, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        releases.queryset = (
            Release.objects.filter(product_id=product).order_by("-order")
            if product is not None
            else Release.objects.none()
        )

    def clean_subject(self) -> str:
        """One line, without control, bidi or zero-width characters."""
        return clean_line(self.cleaned_data.get("subject") or "", max_length=SUBJECT_MAX_LENGTH)

    def _chosen_product(self) -> int | None:
        raw = self.data.get("product") if self.is_bound else self.initial.get("product")
        return parse_id(raw)


#: What the entitlement decision reads of a new case (the rest is the case's content).
PREVIEW_FIELDS = ("product", "release", "environment", "modified_source", "third_party")


def preview_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned values ``selectors.preview_decision`` takes."""
    return {name: data.get(name) for name in PREVIEW_FIELDS}


def relax_for_preview(form: forms.Form) -> None:
    """Turn a new-case form into its preview's: only the product (and, in the console,
    the contact) is needed, and any release is accepted here, since a release of another
    product (the product just changed) is dropped by ``drop_foreign_release``."""
    for name in ("subject", "description", "severity"):
        form.fields[name].required = False
    releases = form.fields["release"]
    assert isinstance(releases, forms.ModelChoiceField)  # noqa: S101 - narrows the type
    releases.queryset = Release.objects.all()


def drop_foreign_release(data: dict[str, Any]) -> dict[str, Any]:
    release, product = data.get("release"), data.get("product")
    if release is not None and (product is None or release.product_id != product.pk):
        data["release"] = None
    return data


class PreviewForm(NewCaseForm):
    """The same fields for the decision preview: only the product is needed, and a release
    of another product (the product just changed) is ignored rather than an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relax_for_preview(self)

    def clean(self) -> dict[str, Any]:
        return drop_foreign_release(super().clean() or {})


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    file = forms.FileField(label="Attach a file", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body") or "").strip() and not data.get("file"):
            raise forms.ValidationError("Write a reply or attach a file.", code="empty")
        return data


class TransitionForm(forms.Form):
    status = forms.CharField(max_length=30)


class CsatForm(forms.Form):
    rating = forms.ChoiceField(
        label="How did we do?", choices=CsatRating.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CaseFilterForm(forms.Form):
    STATUS_CHOICES = [("", "All"), ("open", "Open"), ("closed", "Closed")]

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
    q = forms.CharField(label="Search", max_length=QUERY_MAX_LENGTH, required=False)
