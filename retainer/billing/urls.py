from django.urls import path

from retainer.billing import views

app_name = "billing"

urlpatterns = [
    path("console/billing/runs/", views.run_list, name="run_list"),
    path("console/billing/runs/start/", views.run_start, name="run_start"),
    path("console/billing/runs/<id:pk>/", views.run_detail, name="run_detail"),
    path("console/billing/runs/<id:pk>/continue/", views.run_continue, name="run_continue"),
    path("console/invoices/", views.invoice_list, name="invoice_list"),
    path(
        "console/invoices/export.csv",
        views.invoice_export,
        {"kind": "csv"},
        name="invoice_export_csv",
    ),
    path(
        "console/invoices/export.xlsx",
        views.invoice_export,
        {"kind": "xlsx"},
        name="invoice_export_xlsx",
    ),
    path("console/invoices/<id:pk>/", views.invoice_detail, name="invoice_detail"),
    path("console/invoices/<id:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("console/invoices/<id:pk>/void/", views.invoice_void, name="invoice_void"),
    path("console/invoices/<id:pk>/paid/", views.invoice_paid, name="invoice_paid"),
    path("console/invoices/<id:pk>/credit-notes/", views.invoice_credit, name="invoice_credit"),
    path("console/billing/renewal-quotes/", views.quote_list, name="quote_list"),
    path(
        "console/billing/renewal-quotes/generate/",
        views.quote_generate,
        name="quote_generate",
    ),
    path(
        "console/billing/renewal-quotes/<id:pk>/accept/",
        views.quote_accept,
        name="quote_accept",
    ),
    path("portal/invoices/", views.portal_invoice_list, name="portal_invoice_list"),
]

# Professional services (docs/billing.md, "Services").
urlpatterns += [
    path("console/services/quotes/", views.service_quote_list, name="service_quote_list"),
    path("console/services/quotes/new/", views.service_quote_new, name="service_quote_new"),
    path(
        "console/services/quotes/<id:pk>/",
        views.service_quote_detail,
        name="service_quote_detail",
    ),
    path(
        "console/services/quotes/<id:pk>/send/",
        views.service_quote_send,
        name="service_quote_send",
    ),
    path(
        "console/services/quotes/<id:pk>/withdraw/",
        views.service_quote_withdraw,
        name="service_quote_withdraw",
    ),
    path(
        "console/services/engagements/<id:pk>/",
        views.engagement_detail,
        name="engagement_detail",
    ),
    path(
        "console/services/engagements/<id:pk>/milestones/",
        views.engagement_split,
        name="engagement_split",
    ),
    path(
        "console/services/engagements/<id:pk>/time/",
        views.engagement_time,
        name="engagement_time",
    ),
    path(
        "console/services/milestones/<id:pk>/deliver/",
        views.milestone_deliver,
        name="milestone_deliver",
    ),
    path("portal/quotes/", views.portal_service_quote_list, name="portal_service_quote_list"),
    path(
        "portal/quotes/<id:pk>/",
        views.portal_service_quote_detail,
        name="portal_service_quote_detail",
    ),
    path(
        "portal/quotes/<id:pk>/accept/",
        views.portal_service_quote_accept,
        name="portal_service_quote_accept",
    ),
    path(
        "portal/quotes/<id:pk>/decline/",
        views.portal_service_quote_decline,
        name="portal_service_quote_decline",
    ),
]
