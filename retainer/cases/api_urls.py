from django.urls import path

from retainer.cases import api

urlpatterns = [
    path("cases/", api.CaseList.as_view(), name="case_list"),
    path("search/cases/", api.CaseSearch.as_view(), name="case_search"),
    path("cases/<str:public_id>/", api.CaseDetail.as_view(), name="case_detail"),
    path("cases/<str:public_id>/transition/", api.CaseTransition.as_view(), name="case_transition"),
    path(
        "cases/<str:public_id>/override-decision/", api.CaseOverride.as_view(), name="case_override"
    ),
    path("cases/<str:public_id>/messages/", api.CaseMessages.as_view(), name="case_messages"),
    path("cases/<str:public_id>/events/", api.CaseEvents.as_view(), name="case_events"),
    path(
        "cases/<str:public_id>/attachments/", api.CaseAttachments.as_view(), name="case_attachments"
    ),
    path(
        "cases/<str:public_id>/attachments/<id:pk>/",
        api.CaseAttachmentDownload.as_view(),
        name="case_attachment_download",
    ),
    path(
        "cases/<str:public_id>/time-entries/",
        api.CaseTimeEntries.as_view(),
        name="case_time_entries",
    ),
    path(
        "cases/<str:public_id>/time-entries/<id:pk>/",
        api.CaseTimeEntryDetail.as_view(),
        name="case_time_entry_detail",
    ),
    path("cases/<str:public_id>/defect/", api.CaseDefectLink.as_view(), name="case_defect_link"),
    path("cases/<str:public_id>/csat/", api.CaseCsat.as_view(), name="case_csat"),
    path("csat/<str:token>/", api.CsatByToken.as_view(), name="csat_by_token"),
    path("defects/", api.DefectList.as_view(), name="defect_list"),
    path("defects/<id:pk>/", api.DefectDetail.as_view(), name="defect_detail"),
    path("defects/<id:pk>/fix-release/", api.DefectFixRelease.as_view(), name="defect_fix_release"),
]
