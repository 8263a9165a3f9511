"""Routes of the customer portal (``portal:``) and the public survey link."""

from django.urls import path

from retainer.cases.views import portal

app_name = "portal"

urlpatterns = [
    path("portal/cases/", portal.case_list, name="case_list"),
    path("portal/cases/new/", portal.case_new, name="case_new"),
    path("portal/cases/new/releases/", portal.case_releases, name="case_releases"),
    path("portal/cases/new/preview/", portal.case_preview, name="case_preview"),
    path("portal/cases/<str:public_id>/", portal.case_detail, name="case_detail"),
    path("portal/cases/<str:public_id>/replies/", portal.case_reply, name="case_reply"),
    path(
        "portal/cases/<str:public_id>/transitions/",
        portal.case_transition,
        name="case_transition",
    ),
    path("portal/cases/<str:public_id>/csat/", portal.case_csat, name="case_csat"),
    path("portal/support/", portal.support, name="support"),
    path("csat/<str:token>/", portal.csat_by_token, name="csat"),
]
