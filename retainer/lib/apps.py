from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "retainer.lib"
    label = "lib"
    verbose_name = "Shared helpers"

    def ready(self) -> None:
        from django.urls import register_converter

        from retainer.lib.converters import IdConverter

        # Before any URL module is imported: routes use <id:pk> for database ids.
        register_converter(IdConverter, "id")
