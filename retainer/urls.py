from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from retainer.lib import health

api_patterns = [
    path("", include("retainer.accounts.api_urls")),
    path("", include("retainer.catalog.api_urls")),
    path("", include("retainer.contracts.api_urls")),
    path("", include("retainer.cases.api_urls")),
    path("", include("retainer.billing.api_urls")),
    path("", include("retainer.kb.api_urls")),
    path("", include("retainer.mail.api_urls")),
    path("", include("retainer.success.api_urls")),
    path("", include("retainer.metrics.api_urls")),
    path("", include("retainer.automation.api_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("retainer.accounts.urls")),
    path("", include("retainer.catalog.urls")),
    path("", include("retainer.cases.urls.portal")),
    path("", include("retainer.cases.urls.console")),
    path("", include("retainer.contracts.urls")),
    path("", include("retainer.billing.urls")),
    path("", include("retainer.kb.urls")),
    path("", include("retainer.mail.urls")),
    path("", include("retainer.success.urls")),
    path("", include("retainer.metrics.urls")),
    path("", include("retainer.automation.urls")),
    path("", include("retainer.imports.urls")),
    path("", include("retainer.lib.urls")),
]
