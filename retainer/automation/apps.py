from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "retainer.automation"
    label = "automation"
    verbose_name = "Automation"
