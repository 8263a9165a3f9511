"""The product's URLs plus ``/bench/hello`` (see ``hello_settings.py``)."""

from django.urls import include, path
from hello_only_urls import hello

urlpatterns = [path("bench/hello", hello), path("", include("retainer.urls"))]
