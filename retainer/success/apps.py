from django.apps import AppConfig


class SuccessConfig(AppConfig):
    name = "retainer.success"
    label = "success"
    verbose_name = "Customer success"
