from django.urls import path

from retainer.billing import views

app_name = "billing"

urlpatterns = [
    path("portal/invoices/", views.portal_invoice_list, name="portal_invoice_list"),
]
