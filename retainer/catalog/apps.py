from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "retainer.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from retainer.catalog import events  # noqa: F401 - registers the event types for parse()
