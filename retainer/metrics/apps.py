from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "retainer.metrics"
    label = "metrics"
    verbose_name = "Metrics"
