from django.urls import path

from retainer.billing import api

urlpatterns = [
    path("billing/runs/", api.RunList.as_view(), name="billing_run_list"),
    path("billing/runs/<id:pk>/", api.RunDetail.as_view(), name="billing_run_detail"),
    path("billing/runs/<id:pk>/start/", api.RunStart.as_view(), name="billing_run_start"),
    path("billing/invoices/", api.InvoiceList.as_view(), name="invoice_list"),
    path(
        "billing/invoices/export.csv",
        api.InvoiceExportCsv.as_view(),
        name="invoice_export_csv",
    ),
    path(
        "billing/invoices/export.xlsx",
        api.InvoiceExportXlsx.as_view(),
        name="invoice_export_xlsx",
    ),
    path("billing/invoices/<id:pk>/", api.InvoiceDetail.as_view(), name="invoice_detail"),
    path("billing/invoices/<id:pk>/lines/", api.InvoiceLines.as_view(), name="invoice_lines"),
    path("billing/invoices/<id:pk>/items/", api.InvoiceItems.as_view(), name="invoice_items"),
    path("billing/invoices/<id:pk>/issue/", api.InvoiceIssue.as_view(), name="invoice_issue"),
    path("billing/invoices/<id:pk>/void/", api.InvoiceVoid.as_view(), name="invoice_void"),
    path("billing/invoices/<id:pk>/paid/", api.InvoicePaid.as_view(), name="invoice_paid"),
    path("billing/invoices/<id:pk>/pdf/", api.InvoicePdf.as_view(), name="invoice_pdf"),
    path("billing/credit-notes/", api.CreditNoteList.as_view(), name="credit_note_list"),
    path(
        "billing/credit-notes/<id:pk>/",
        api.CreditNoteDetail.as_view(),
        name="credit_note_detail",
    ),
    path(
        "billing/renewal-quotes/",
        api.RenewalQuoteList.as_view(),
        name="renewal_quote_list",
    ),
    path(
        "billing/renewal-quotes/generate/",
        api.RenewalQuoteGenerate.as_view(),
        name="renewal_quote_generate",
    ),
    path(
        "billing/renewal-quotes/<id:pk>/accept/",
        api.RenewalQuoteAccept.as_view(),
        name="renewal_quote_accept",
    ),
]

# Professional services (docs/billing.md, "Services").
urlpatterns += [
    path("service-quotes/", api.ServiceQuoteList.as_view(), name="service_quote_list"),
    path("service-quotes/<id:pk>/", api.ServiceQuoteDetail.as_view(), name="service_quote_detail"),
    path("service-quotes/<id:pk>/send/", api.ServiceQuoteSend.as_view(), name="service_quote_send"),
    path(
        "service-quotes/<id:pk>/withdraw/",
        api.ServiceQuoteWithdraw.as_view(),
        name="service_quote_withdraw",
    ),
    path(
        "service-quotes/<id:pk>/accept/",
        api.ServiceQuoteAccept.as_view(),
        name="service_quote_accept",
    ),
    path(
        "service-quotes/<id:pk>/decline/",
        api.ServiceQuoteDecline.as_view(),
        name="service_quote_decline",
    ),
    path("engagements/", api.EngagementList.as_view(), name="engagement_list"),
    path("engagements/<id:pk>/", api.EngagementDetail.as_view(), name="engagement_detail"),
    path(
        "engagements/<id:pk>/milestones/",
        api.EngagementMilestones.as_view(),
        name="engagement_milestones",
    ),
    path(
        "engagements/<id:pk>/time-entries/",
        api.EngagementTimeEntries.as_view(),
        name="engagement_time_entries",
    ),
    path(
        "engagement-milestones/<id:pk>/deliver/",
        api.MilestoneDeliver.as_view(),
        name="engagement_milestone_deliver",
    ),
]
