"""What base.html needs to know about the forms of a page, so no view has to tell it.

``{% page_errors as errors %}`` looks through the template context of a POST (a submitted
form re-rendered) for bound forms and formsets with errors, and on any page for error
messages flashed by a refused action (``lib.errors.report``). Filter forms bound to a
GET query are left out: their views ignore a value they cannot use.

base.html prefixes the title with "Error: " when there are any, and renders
``{% error_summary errors %}`` at the top of ``<main>``: one link per field error to the
field (``#id_<field>``). ``static/retainer/app.js`` focuses the summary on load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.contrib.messages import constants
from django.forms import BaseForm, BoundField
from django.forms.formsets import BaseFormSet
from django.forms.utils import ErrorList

register = template.Library()


@dataclass(frozen=True)
class SummaryItem:
    """One error of the summary: its text, and the ``#id`` of its field (or "")."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class PageErrors:
    items: list[SummaryItem] = field(default_factory=list)
    #: True when a refused action left an error message (shown in the messages list).
    flashed: bool = False

    def __bool__(self) -> bool:
        return bool(self.items) or self.flashed


def _forms_in(values: Iterable[Any]) -> list[BaseForm]:
    """Bound forms among the context's values, formsets expanded, each once."""
    found: dict[int, BaseForm] = {}
    for value in values:
        if isinstance(value, BaseFormSet) and value.is_bound:
            for form in value.forms:
                found.setdefault(id(form), form)
        elif isinstance(value, BaseForm) and value.is_bound:
            found.setdefault(id(value), value)
    return list(found.values())


def _target(bound: BoundField) -> str:
    """The element a link to the field should reach: the widget, or the first choice of a
    group of radio buttons or checkboxes (whose label names no single input)."""
    if bound.is_hidden or not bound.auto_id:
        return ""
    target = bound.id_for_label
    if not target and bound.subwidgets:
        target = bound.subwidgets[0].id_for_label
    return f"#{target}" if target else ""


def _items(form: BaseForm) -> list[SummaryItem]:
    items = []
    for name, errors in form.errors.items():
        bound = form[name] if name in form.fields else None
        for text in errors:
            if bound is None:
                items.append(SummaryItem(str(text)))
            else:
                label = bound.label or name.replace("_", " ").capitalize()
                items.append(SummaryItem(f"{label}: {text}", _target(bound)))
    return items


def _non_form_items(values: Iterable[Any]) -> list[SummaryItem]:
    items = []
    for value in values:
        if isinstance(value, BaseFormSet) and value.is_bound:
            errors: ErrorList = value.non_form_errors()
            items += [SummaryItem(str(text)) for text in errors]
    return items


def _flashed(context: template.Context) -> bool:
    # Iterating the storage marks the messages used; base.html shows them anyway.
    storage = context.get("messages")
    return storage is not None and any(m.level >= constants.ERROR for m in storage)


@register.simple_tag(takes_context=True)
def page_errors(context: template.Context) -> PageErrors:
    """The errors of every bound form in the context of a POST, in the order the context
    holds them, and whether a refused action flashed an error message."""
    request = context.get("request")
    if request is not None and request.method != "POST":
        return PageErrors([], _flashed(context))
    values = list(context.flatten().values())
    items = _non_form_items(values)
    for form in _forms_in(values):
        items += _items(form)
    return PageErrors(items, _flashed(context))


@register.inclusion_tag("django/forms/errors/summary.html")
def error_summary(errors: PageErrors) -> dict[str, Any]:
    """The list of a page's form errors, each linked to its field."""
    return {"items": errors.items if errors else []}
