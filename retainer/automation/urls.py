"""Console pages of automation: webhooks (``/console/webhooks/…``, admins), rules
(``/console/rules/…``, ``automation.manage_rule``) and macros (``/console/macros/…``,
agents and managers)."""

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
    path("console/rules/", views.rule_list, name="rule_list"),
    path("console/rules/new/", views.rule_new, name="rule_new"),
    path("console/rules/firings/", views.firing_list, name="firing_list"),
    path("console/rules/<id:pk>/", views.rule_detail, name="rule_detail"),
    path("console/rules/<id:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("console/rules/<id:pk>/activate/", views.rule_activate, name="rule_activate"),
    path("console/rules/<id:pk>/deactivate/", views.rule_deactivate, name="rule_deactivate"),
    path("console/rules/<id:pk>/move/", views.rule_move, name="rule_move"),
    path("console/macros/", views.macro_list, name="macro_list"),
    path("console/macros/new/", views.macro_new, name="macro_new"),
    path("console/macros/<id:pk>/edit/", views.macro_edit, name="macro_edit"),
    path("console/cases/<str:public_id>/macro/", views.macro_apply, name="macro_apply"),
]
