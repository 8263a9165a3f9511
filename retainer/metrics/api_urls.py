from django.urls import path

from retainer.metrics import api

urlpatterns = [
    path("metrics/revenue/", api.MetricsRevenue.as_view(), name="metrics_revenue"),
    path("metrics/support/", api.MetricsSupport.as_view(), name="metrics_support"),
]
