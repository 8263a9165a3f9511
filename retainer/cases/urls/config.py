"""Console routes of the settings the cases app reads: SLA calendars and targets, and
defects. Included by ``urls.console`` without a namespace of its own, so the names are
``console:…`` (a second ``console`` namespace at the top level would hide one of them)."""

from django.urls import path

from retainer.cases.views import defects, sla

urlpatterns = [
    path("console/sla/", sla.sla_settings, name="sla_settings"),
    path("console/sla/calendars/new/", sla.calendar_new, name="calendar_new"),
    path("console/sla/calendars/<id:pk>/edit/", sla.calendar_edit, name="calendar_edit"),
    path("console/sla/targets/new/", sla.sla_target_new, name="sla_target_new"),
    path("console/sla/targets/<id:pk>/edit/", sla.sla_target_edit, name="sla_target_edit"),
    path("console/defects/", defects.defect_list, name="defect_list"),
    path("console/defects/new/", defects.defect_new, name="defect_new"),
    path("console/defects/<id:pk>/", defects.defect_detail, name="defect_detail"),
    path("console/defects/<id:pk>/fix-release/", defects.defect_fix, name="defect_fix"),
    path("console/defects/<id:pk>/cases/", defects.defect_link, name="defect_link"),
]
