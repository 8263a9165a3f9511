from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "retainer.lib"
    label = "lib"
    verbose_name = "Shared helpers"
