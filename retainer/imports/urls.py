from django.urls import path

from retainer.imports import views

app_name = "imports"

urlpatterns = [
    path("console/imports/", views.run_list, name="run_list"),
    path("console/imports/<id:pk>/", views.run_detail, name="run_detail"),
]
