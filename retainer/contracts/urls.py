from django.urls import path

from retainer.contracts import views

app_name = "contracts"

urlpatterns = [
    path("console/contracts/", views.contract_list, name="contract_list"),
    path("console/contracts/new/", views.contract_new, name="contract_new"),
    path("console/contracts/<id:pk>/", views.contract_detail, name="contract_detail"),
    path("console/contracts/<id:pk>/top-up/", views.contract_top_up, name="contract_top_up"),
    path("console/contracts/<id:pk>/renew/", views.contract_renew, name="contract_renew"),
    path("console/contracts/<id:pk>/cancel/", views.contract_cancel, name="contract_cancel"),
    path("console/contracts/<id:pk>/name/", views.contract_rename, name="contract_rename"),
    path(
        "console/contracts/<id:pk>/named-contacts/",
        views.contract_named_contacts,
        name="contract_named_contacts",
    ),
    path("console/plans/", views.plan_list, name="plan_list"),
    path("console/plans/new/", views.plan_new, name="plan_new"),
    path("console/plans/<id:pk>/edit/", views.plan_edit, name="plan_edit"),
]
