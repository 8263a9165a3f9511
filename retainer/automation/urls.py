"""Console pages of automation: webhooks (``/console/webhooks/…``, admins) and macros
(``/console/macros/…``, agents and managers)."""

from django.urls import path

from retainer.automation import views

app_name = "automation"

urlpatterns = [
    path("console/webhooks/", views.endpoint_list, name="endpoint_list"),
    path("console/webhooks/new/", views.endpoint_new, name="endpoint_new"),
    path("console/webhooks/<id:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("console/webhooks/<id:pk>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("console/webhooks/<id:pk>/disable/", views.endpoint_disable, name="endpoint_disable"),
    path("console/webhooks/<id:pk>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("console/webhooks/<id:pk>/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path(
        "console/webhooks/deliveries/<id:pk>/replay/",
        views.delivery_replay,
        name="delivery_replay",
    ),
    path("console/macros/", views.macro_list, name="macro_list"),
    path("console/macros/new/", views.macro_new, name="macro_new"),
    path("console/macros/<id:pk>/edit/", views.macro_edit, name="macro_edit"),
    path("console/cases/<str:public_id>/macro/", views.macro_apply, name="macro_apply"),
]
