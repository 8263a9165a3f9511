from django.urls import path

from retainer.catalog import views

app_name = "catalog"

urlpatterns = [
    path("scope-of-support/", views.scope_of_support, name="scope_of_support"),
]
