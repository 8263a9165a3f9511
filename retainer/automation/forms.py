"""Console forms of automation. They parse; ``checks`` decides (the SSRF rule, known
event types and placeholders live there, for the API too)."""

from __future__ import annotations

from typing import Any

from django import forms

from retainer.automation.models import (
    DESCRIPTION_MAX_LENGTH,
    MACRO_NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    Macro,
    WebhookEndpoint,
)
from retainer.automation.webhooks import subscribable_topics
from retainer.lib.limits import TEXT_MAX_LENGTH


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=URL_MAX_LENGTH,
        help_text="HTTPS, on a public address.",
        widget=forms.URLInput(),
    )
    description = forms.CharField(
        label="Description", max_length=DESCRIPTION_MAX_LENGTH, required=False
    )
    event_types = forms.MultipleChoiceField(
        label="Event types",
        choices=(),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="The events this endpoint receives (docs/events.md).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["event_types"]
        field.choices = [(name, name) for name in subscribable_topics()]

    @staticmethod
    def initial_for(endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": list(endpoint.event_types),
        }


class MacroForm(forms.Form):
    name = forms.CharField(label="Name", max_length=MACRO_NAME_MAX_LENGTH)
    body = forms.CharField(
        label="Text",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "Placeholders: {{ contact.name }}, {{ case.reference }}, {{ balance }}, "
            "{{ decision }}, and {{ article:<slug> }} for a help-centre link."
        ),
    )
    shared = forms.BooleanField(
        label="Shared with every agent", required=False, help_text="Managers only."
    )

    @staticmethod
    def initial_for(macro: Macro) -> dict[str, Any]:
        return {"name": macro.name, "body": macro.body, "shared": macro.shared}


class MacroPickForm(forms.Form):
    macro = forms.IntegerField(min_value=1, max_value=2**63 - 1)
