from django.urls import path

from retainer.automation import api

urlpatterns = [
    path("webhooks/", api.WebhookList.as_view(), name="webhook_list"),
    path("webhooks/<id:pk>/", api.WebhookDetail.as_view(), name="webhook_detail"),
    path("webhooks/<id:pk>/disable/", api.WebhookDisable.as_view(), name="webhook_disable"),
    path("webhooks/<id:pk>/enable/", api.WebhookEnable.as_view(), name="webhook_enable"),
    path(
        "webhooks/<id:pk>/rotate-secret/",
        api.WebhookRotateSecret.as_view(),
        name="webhook_rotate_secret",
    ),
    path(
        "webhooks/<id:pk>/deliveries/",
        api.WebhookDeliveryList.as_view(),
        name="webhook_delivery_list",
    ),
    path(
        "webhooks/deliveries/<id:pk>/replay/",
        api.WebhookDeliveryReplay.as_view(),
        name="webhook_delivery_replay",
    ),
]
