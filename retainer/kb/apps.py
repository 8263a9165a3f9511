from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "retainer.kb"
    label = "kb"
    verbose_name = "Knowledge base"
