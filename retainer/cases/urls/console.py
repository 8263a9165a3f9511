from django.urls import include, path

from retainer.cases.views import console, reports

app_name = "console"

urlpatterns = [
    path("console/organizations/<id:pk>/", console.organization_detail, name="organization_detail"),
    path("console/cases/", console.case_queue, name="case_queue"),
    path("console/cases/next/", console.next_case, name="next_case"),
    # Before ``<str:public_id>``: "new" would otherwise be read as a case's id.
    path("console/cases/new/", console.case_new, name="case_new"),
    path("console/cases/new/preview/", console.case_preview, name="case_preview"),
    path("console/cases/new/releases/", console.case_releases, name="case_releases"),
    path("console/search/", reports.search, name="search"),
    path("console/csat/", reports.csat_report, name="csat_report"),
    path("console/team/", reports.team_overview, name="team_overview"),
    path("console/cases/<str:public_id>/", console.case_page, name="case_page"),
    path("console/cases/<str:public_id>/replies/", console.case_reply, name="case_reply"),
    path(
        "console/cases/<str:public_id>/transition/", console.case_transition, name="case_transition"
    ),
    path("console/cases/<str:public_id>/assign/", console.case_assign, name="case_assign"),
    path("console/cases/<str:public_id>/fields/", console.case_fields, name="case_fields"),
    path("console/cases/<str:public_id>/defect/", console.case_defect, name="case_defect"),
    path("console/cases/<str:public_id>/override/", console.case_override, name="case_override"),
    path("console/cases/<str:public_id>/time/", console.case_time, name="case_time"),
    path("console/cases/<str:public_id>/time/preview/", console.time_preview, name="time_preview"),
    path(
        "console/cases/<str:public_id>/timer/start/", console.case_timer_start, name="timer_start"
    ),
    path("console/cases/<str:public_id>/timer/stop/", console.case_timer_stop, name="timer_stop"),
    path("", include("retainer.cases.urls.config")),  # SLA settings and defects, same namespace
]
