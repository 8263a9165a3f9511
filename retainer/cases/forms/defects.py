"""Forms of the console's defect pages: filters, a new defect, its fix release, and a case
to link by its reference."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from retainer.cases.choices import DefectStatus
from retainer.cases.models import REFERENCE_OFFSET, Defect
from retainer.catalog.models import Product, Release
from retainer.lib.limits import SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH
from retainer.lib.sanitize import clean_line, strip_invisible_controls

REFERENCE = re.compile(r"(?i)\s*RT-(\d{1,12})\s*")


class ReleasesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product.name} {obj.version}"


class VersionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.version)


class DefectFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=[("", "Any"), *DefectStatus.choices], required=False
    )
    product = forms.ModelChoiceField(
        label="Product",
        queryset=Product.objects.order_by("name"),
        required=False,
        empty_label="Any",
    )
    q = forms.CharField(label="Search", required=False, max_length=200)


class DefectForm(forms.Form):
    product = forms.ModelChoiceField(label="Product", queryset=Product.objects.order_by("name"))
    title = forms.CharField(label="Title", max_length=SUBJECT_MAX_LENGTH)
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    affected_releases = ReleasesField(
        label="Affected releases",
        queryset=Release.objects.select_related("product").order_by("product__name", "order"),
        required=False,
        help_text="Releases of the defect's product.",
    )

    def clean_title(self) -> str:
        return clean_line(self.cleaned_data["title"], max_length=SUBJECT_MAX_LENGTH)

    def clean_description(self) -> str:
        return strip_invisible_controls(self.cleaned_data["description"])


class FixReleaseForm(forms.Form):
    release = VersionField(label="Fixed in release", queryset=Release.objects.none())

    def __init__(self, *args: Any, defect: Defect, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        release = self.fields["release"]
        assert isinstance(release, forms.ModelChoiceField)  # noqa: S101
        release.queryset = Release.objects.filter(product_id=defect.product_id).order_by("-order")


class LinkCaseForm(forms.Form):
    reference = forms.CharField(
        label="Case reference", max_length=20, help_text="For example RT-10234."
    )

    def clean_reference(self) -> int:
        """The case's row id from its reference."""
        match = REFERENCE.fullmatch(self.cleaned_data["reference"])
        if match is None:
            raise ValidationError("Write the case's reference, for example RT-10234.")
        return int(match[1]) - REFERENCE_OFFSET
