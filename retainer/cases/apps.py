from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "retainer.cases"
    label = "cases"
    verbose_name = "Cases"
