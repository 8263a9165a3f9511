from django.urls import URLPattern, URLResolver

app_name = "success"

urlpatterns: list[URLPattern | URLResolver] = []
