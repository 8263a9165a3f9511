from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "retainer.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        # Registers the case event types, so any history row can be parsed.
        from retainer.cases import events  # noqa: F401
