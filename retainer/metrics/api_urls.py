from django.urls import path

from retainer.metrics import api

urlpatterns = [
    path("metrics/revenue/", api.MetricsRevenue.as_view(), name="metrics_revenue"),
    path("metrics/support/", api.MetricsSupport.as_view(), name="metrics_support"),
    path(
        "metrics/organizations/<id:pk>/health/",
        api.MetricsOrganizationHealth.as_view(),
        name="metrics_organization_health",
    ),
]
