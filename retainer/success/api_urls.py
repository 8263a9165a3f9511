"""API routes of sales and customer success, under ``/api/v1/`` (namespace ``api``)."""

from django.urls import URLPattern, URLResolver, path

from retainer.success import api
from retainer.success.api import proficiency as training

urlpatterns: list[URLPattern | URLResolver] = [
    path("leads/", api.LeadList.as_view(), name="lead_list"),
    path("leads/<id:pk>/", api.LeadDetail.as_view(), name="lead_detail"),
    path("leads/<id:pk>/convert/", api.LeadConvert.as_view(), name="lead_convert"),
    path("pipeline-stages/", api.StageList.as_view(), name="pipeline_stage_list"),
    path("pipeline-stages/<id:pk>/", api.StageDetail.as_view(), name="pipeline_stage_detail"),
    path("opportunities/", api.OpportunityList.as_view(), name="opportunity_list"),
    path("opportunities/<id:pk>/", api.OpportunityDetail.as_view(), name="opportunity_detail"),
    path("opportunities/<id:pk>/stage/", api.OpportunityMove.as_view(), name="opportunity_move"),
    path("opportunities/<id:pk>/win/", api.OpportunityWin.as_view(), name="opportunity_win"),
    path("opportunities/<id:pk>/lose/", api.OpportunityLose.as_view(), name="opportunity_lose"),
    path("interactions/", api.InteractionList.as_view(), name="interaction_list"),
    path("onboarding-plans/", api.OnboardingPlanList.as_view(), name="onboarding_plan_list"),
    path(
        "onboarding-plans/<id:pk>/",
        api.OnboardingPlanDetail.as_view(),
        name="onboarding_plan_detail",
    ),
    path(
        "onboarding-steps/<id:pk>/done/",
        api.OnboardingStepDone.as_view(),
        name="onboarding_step_done",
    ),
    path("licenses/", api.LicenseList.as_view(), name="license_list"),
    path("licenses/<id:pk>/", api.LicenseDetail.as_view(), name="license_detail"),
    path("licenses/<id:pk>/usage/", api.LicenseUsageReport.as_view(), name="license_usage"),
    path("success-plans/", api.SuccessPlanList.as_view(), name="success_plan_list"),
    path("success-plans/<id:pk>/", api.SuccessPlanDetail.as_view(), name="success_plan_detail"),
    path("success-plans/<id:pk>/goals/", api.SuccessGoalList.as_view(), name="success_goal_list"),
    path("success-goals/<id:pk>/", api.SuccessGoalDetail.as_view(), name="success_goal_detail"),
    path("success-goals/<id:pk>/milestones/", api.MilestoneList.as_view(), name="milestone_list"),
    path("milestones/<id:pk>/", api.MilestoneDetail.as_view(), name="milestone_detail"),
    path("milestones/<id:pk>/done/", api.MilestoneDone.as_view(), name="milestone_done"),
    path("perception-surveys/", api.PerceptionSurveyList.as_view(), name="perception_survey_list"),
    path("courses/", training.CourseList.as_view(), name="course_list"),
    path("courses/<id:pk>/", training.CourseDetail.as_view(), name="course_detail"),
    path(
        "training-sessions/", training.TrainingSessionList.as_view(), name="training_session_list"
    ),
    path(
        "training-sessions/<id:pk>/",
        training.TrainingSessionDetail.as_view(),
        name="training_session_detail",
    ),
    path(
        "training-sessions/<id:pk>/enrollments/",
        training.TrainingSessionEnroll.as_view(),
        name="training_session_enroll",
    ),
    path("enrollments/", training.EnrollmentList.as_view(), name="enrollment_list"),
    path("enrollments/<id:pk>/", training.EnrollmentDetail.as_view(), name="enrollment_detail"),
    path(
        "enrollments/<id:pk>/complete/",
        training.EnrollmentComplete.as_view(),
        name="enrollment_complete",
    ),
    path(
        "enrollments/<id:pk>/no-show/",
        training.EnrollmentNoShow.as_view(),
        name="enrollment_no_show",
    ),
    path(
        "enrollments/<id:pk>/cancel/", training.EnrollmentCancel.as_view(), name="enrollment_cancel"
    ),
    path("certificates/", training.CertificateList.as_view(), name="certificate_list"),
    path("health-scores/", api.HealthList.as_view(), name="health_score_list"),
    path("health-scores/<id:pk>/", api.HealthDetail.as_view(), name="health_score_detail"),
]
