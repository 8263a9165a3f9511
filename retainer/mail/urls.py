"""The console's Mail page (``/console/mail/…``, staff), everyone's notification
preferences and the unsubscribe link."""

from django.urls import path

from retainer.mail import views

app_name = "mail"

urlpatterns = [
    path("console/mail/", views.inbound_list, name="inbound_list"),
    path("console/mail/inbound/<id:pk>/", views.inbound_detail, name="inbound_detail"),
    path("console/mail/inbound/<id:pk>/case/", views.inbound_open_case, name="inbound_open_case"),
    path("console/mail/inbound/<id:pk>/attach/", views.inbound_attach, name="inbound_attach"),
    path("console/mail/inbound/<id:pk>/reject/", views.inbound_reject, name="inbound_reject"),
    path("console/mail/outbound/", views.outbound_list, name="outbound_list"),
    path("console/mail/mailboxes/new/", views.mailbox_new, name="mailbox_new"),
    path("console/mail/mailboxes/<id:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("console/mail/outbound/<id:pk>/retry/", views.outbound_retry, name="outbound_retry"),
    # Everyone's own notification preferences, and the unsubscribe link (no sign-in).
    path("account/notifications/", views.preferences, name="preferences"),
    path("mail/unsubscribe/<str:unsubscribe_token>/", views.unsubscribe, name="unsubscribe"),
]
