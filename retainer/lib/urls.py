from django.urls import path

from retainer.lib import views

app_name = "operations"

urlpatterns = [
    path("console/operations/", views.operations, name="home"),
    path("console/operations/jobs/<str:job_id>/retry/", views.job_retry, name="job_retry"),
    path(
        "console/operations/deliveries/<id:pk>/retry/",
        views.delivery_retry,
        name="delivery_retry",
    ),
]
