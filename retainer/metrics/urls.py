"""The metrics dashboards in the console (``/console/metrics/…``, staff with the
metrics permissions)."""

from django.urls import path

from retainer.metrics import views

app_name = "metrics"

urlpatterns = [
    path("console/metrics/", views.overview, name="overview"),
    path("console/metrics/revenue/", views.revenue, name="revenue"),
    path("console/metrics/support/", views.support, name="support"),
    path("console/metrics/agent/", views.agent, name="agent"),
    path("console/metrics/drill-down/", views.drill_down, name="drill_down"),
    path("console/metrics/export.csv", views.export_csv, name="export_csv"),
    path("console/metrics/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path(
        "console/metrics/organizations/<id:pk>/health/",
        views.organization_health,
        name="organization_health",
    ),
    path("portal/health/", views.portal_health, name="portal_health"),
]
