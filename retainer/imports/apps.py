from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Taking over the history of the helpdesk Retainer replaces (docs/imports.md)."""

    name = "retainer.imports"
    label = "imports"
    verbose_name = "Imports"
