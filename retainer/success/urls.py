"""Console pages of sales and customer success, under ``/console/success/``, and the
customer's licenses and success plan in the portal (``/portal/licenses/``,
``/portal/success-plan/``), training (courses, sessions, enrollments; the portal's
``/portal/training/``), and the perception survey's signed link."""

from django.urls import URLPattern, URLResolver, path

from retainer.success import views
from retainer.success.views import proficiency as training

app_name = "success"

P = "console/success/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{P}leads/", views.lead_list, name="lead_list"),
    path(f"{P}leads/new/", views.lead_new, name="lead_new"),
    path(f"{P}leads/<id:pk>/", views.lead_detail, name="lead_detail"),
    path(f"{P}leads/<id:pk>/convert/", views.lead_convert, name="lead_convert"),
    path(f"{P}leads/<id:pk>/interactions/", views.lead_interaction, name="lead_interaction"),
    path(f"{P}opportunities/", views.opportunity_list, name="opportunity_list"),
    path(f"{P}opportunities/board/", views.opportunity_board, name="opportunity_board"),
    path(f"{P}opportunities/new/", views.opportunity_new, name="opportunity_new"),
    path(f"{P}opportunities/<id:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path(f"{P}opportunities/<id:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path(f"{P}opportunities/<id:pk>/stage/", views.opportunity_move, name="opportunity_move"),
    path(f"{P}opportunities/<id:pk>/win/", views.opportunity_win, name="opportunity_win"),
    path(f"{P}opportunities/<id:pk>/lose/", views.opportunity_lose, name="opportunity_lose"),
    path(
        f"{P}opportunities/<id:pk>/interactions/",
        views.opportunity_interaction,
        name="opportunity_interaction",
    ),
    path(f"{P}organizations/<id:pk>/", views.organization_success, name="organization_success"),
    path(
        f"{P}organizations/<id:pk>/interactions/",
        views.organization_interaction,
        name="organization_interaction",
    ),
    path(f"{P}onboarding-steps/<id:pk>/done/", views.step_done, name="step_done"),
    path(f"{P}licenses/", views.license_list, name="license_list"),
    path(f"{P}licenses/new/", views.license_new, name="license_new"),
    path(f"{P}licenses/usage/", views.license_report, name="license_report"),
    path(f"{P}licenses/usage/upload/", views.license_upload, name="license_upload"),
    path("portal/licenses/", views.portal_license_list, name="portal_license_list"),
    path(f"{P}plans/", views.plan_list, name="plan_list"),
    path(f"{P}organizations/<id:pk>/plan/", views.plan_detail, name="plan_detail"),
    path(f"{P}organizations/<id:pk>/plan/edit/", views.plan_edit, name="plan_edit"),
    path(f"{P}organizations/<id:pk>/plan/goals/", views.goal_new, name="goal_new"),
    path(f"{P}organizations/<id:pk>/plan/surveys/", views.survey_send, name="survey_send"),
    path(f"{P}goals/<id:pk>/edit/", views.goal_edit, name="goal_edit"),
    path(f"{P}goals/<id:pk>/milestones/", views.milestone_new, name="milestone_new"),
    path(f"{P}milestones/<id:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    path(f"{P}milestones/<id:pk>/done/", views.milestone_done, name="milestone_done"),
    path("portal/success-plan/", views.portal_plan, name="portal_plan"),
    path(f"{P}courses/", training.course_list, name="course_list"),
    path(f"{P}courses/new/", training.course_new, name="course_new"),
    path(f"{P}courses/<id:pk>/", training.course_detail, name="course_detail"),
    path(f"{P}courses/<id:pk>/edit/", training.course_edit, name="course_edit"),
    path(f"{P}courses/<id:pk>/sessions/", training.session_new, name="session_new"),
    path(f"{P}training-sessions/<id:pk>/", training.session_detail, name="session_detail"),
    path(
        f"{P}training-sessions/<id:pk>/enrollments/",
        training.enrollment_new,
        name="enrollment_new",
    ),
    path(
        f"{P}enrollments/<id:pk>/complete/",
        training.enrollment_complete,
        name="enrollment_complete",
    ),
    path(
        f"{P}enrollments/<id:pk>/no-show/", training.enrollment_no_show, name="enrollment_no_show"
    ),
    path(f"{P}enrollments/<id:pk>/cancel/", training.enrollment_cancel, name="enrollment_cancel"),
    path("portal/training/", training.portal_training, name="portal_training"),
    path("success-survey/<str:survey_token>/", views.survey_answer, name="survey_answer"),
]
