"""The event catalogue as Markdown, written from the event classes themselves.

``docs/events.md`` carries this table between two markers; a test regenerates it and
fails when the document and the code disagree, so the catalogue cannot go stale.
``python manage.py shell -c "from retainer.lib.catalogue import write; write()"``
rewrites it.
"""

from __future__ import annotations

import dataclasses
import typing
from importlib import import_module
from pathlib import Path

from django.apps import apps

from retainer.lib.events import Event, event_types

BEGIN = "<!-- catalogue: begin (generated from the event classes; do not edit by hand) -->"
END = "<!-- catalogue: end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def load_all() -> dict[str, type[Event]]:
    """Import every app's ``events`` module, then return every declared event type."""
    for config in apps.get_app_configs():
        if config.name.startswith("retainer."):
            try:
                import_module(f"{config.name}.events")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.events":
                    raise
    return {
        name: cls
        for name, cls in event_types().items()
        if cls.__module__.startswith("retainer.") and ".tests." not in cls.__module__
    }


def _type_name(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return str(text or annotation).replace("|", "or")


def _fields(cls: type[Event]) -> str:
    hints = typing.get_type_hints(cls)
    parts = []
    for field in dataclasses.fields(cls):
        shown = f"`{field.name}`"
        if field.name in cls.customer_fields:
            shown += " (customer)"
        parts.append(f"{shown}: {_type_name(hints.get(field.name, field.type))}")
    return "; ".join(parts) or "—"


def table() -> str:
    """The catalogue: one row per event type, grouped by history table."""
    lines = [
        "| Topic | History row type | Payload (customer-visible fields marked) | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for name, cls in sorted(load_all().items(), key=lambda item: (item[1].history, item[0])):
        # The docstring's first paragraph, on one line.
        meaning = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
        if meaning.startswith(f"{cls.__name__}("):  # dataclass's generated docstring
            meaning = ""
        lines.append(f"| `{name}` | `{cls.history}` · `{cls.type}` | {_fields(cls)} | {meaning} |")
    return "\n".join(lines)


def rendered(document: str) -> str:
    """``document`` with the text between the markers replaced by the current table."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def write() -> None:
    DOC.write_text(rendered(DOC.read_text()))
