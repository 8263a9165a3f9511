"""The 400, 403, 404 and 500 pages are pages of the product: the layout, a heading in
<main>, and a way back home. The 500 page renders without a request context."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client
from django.urls import include, path


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("odd")


urlpatterns = [
    path("test-denied/", denied),
    path("test-broken/", broken),
    path("test-suspicious/", suspicious),
    path("", include("retainer.urls")),
]

pytestmark = pytest.mark.urls(__name__)


def assert_product_page(body: str, heading: str) -> None:
    assert '<main id="main"' in body
    assert f"<h1>{heading}</h1>" in body
    assert 'href="/">Go to your home page</a>' in body
    assert 'class="topbar"' in body  # inside the layout
    assert "<script>" not in body and "style=" not in body


def test_an_unknown_address_gets_the_not_found_page(cast):
    answer = cast.client_for(cast.agent).get("/no-such-page/")
    assert answer.status_code == 404
    body = answer.content.decode()
    assert_product_page(body, "Page not found")
    assert "Ann Agent" in body  # the signed-in layout: navigation and who is signed in


def test_a_refusal_gets_the_not_allowed_page(cast):
    answer = cast.client_for(cast.contact).get("/test-denied/")
    assert answer.status_code == 403
    assert_product_page(answer.content.decode(), "Not allowed")


def test_a_bad_request_gets_the_bad_request_page(db):
    answer = Client().get("/test-suspicious/")
    assert answer.status_code == 400
    assert_product_page(answer.content.decode(), "Bad request")


def test_a_server_error_gets_the_error_page(cast):
    client = cast.client_for(cast.agent)
    client.raise_request_exception = False
    answer = client.get("/test-broken/")
    assert answer.status_code == 500
    body = answer.content.decode()
    assert_product_page(body, "Something went wrong")
    assert "a bug" not in body and "Traceback" not in body


def test_the_server_error_page_renders_with_an_empty_context():
    """Django renders 500.html with no context at all (not even a request)."""
    body = loader.get_template("500.html").render()
    assert_product_page(body, "Something went wrong")
