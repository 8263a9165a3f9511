from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "retainer.contracts"
    label = "contracts"
    verbose_name = "Contracts and entitlements"
