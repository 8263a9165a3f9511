from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "retainer.billing"
    label = "billing"
    verbose_name = "Billing"
