from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms


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
