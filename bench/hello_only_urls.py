"""Only ``/bench/hello``: a JSON answer through the full middleware stack."""

from django.http import HttpRequest, JsonResponse
from django.urls import path


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world"})


urlpatterns = [path("bench/hello", hello)]
