"""JSON bodies are bounded in size and depth before they are parsed: a clear 4xx, never 500."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from retainer.lib.parsers import MAX_JSON_DEPTH, json_depth_exceeds


@pytest.mark.parametrize(
    ("raw", "limit", "deeper"),
    [
        (b"[[[]]]", 3, False),
        (b"[[[[]]]]", 3, True),
        (b'{"a": {"b": {"c": 1}}}', 3, False),
        (b'{"a": "[[[[[[[[[["}', 3, False),  # brackets inside a string do not nest
        (b'{"a": "\\"[[[[[[", "b": [[1]]}', 3, False),  # nor after an escaped quote
        (b"[" * 10_000 + b"]" * 10_000, MAX_JSON_DEPTH, True),
    ],
)
def test_json_depth_is_measured_outside_strings(raw: bytes, limit: int, deeper: bool) -> None:
    assert json_depth_exceeds(raw, limit) is deeper


def test_a_body_nested_50000_levels_is_refused_with_a_json_error(cast) -> None:
    body = '{"subject": "x", "description": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = cast.client_for(cast.contact).post(
        "/api/v1/cases/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_size_limit_is_refused_before_it_is_parsed(cast) -> None:
    body = json.dumps({"subject": "x", "description": "y" * 2000})
    response = cast.client_for(cast.contact).post(
        "/api/v1/cases/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_an_ordinary_body_is_parsed_as_before(cast) -> None:
    response = cast.client_for(cast.manager).patch(
        f"/api/v1/organizations/{cast.acme.pk}/",
        {"name": "Acme [EMEA] {2027}"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Acme [EMEA] {2027}"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"page_size": "abc"}, "invalid_page_size"),
        ({"page_size": "0"}, "invalid_page_size"),
        ({"page_size": "²"}, "invalid_page_size"),
        ({"cursor": "%%%"}, "invalid_cursor"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "invalid_cursor"),  # base64, but not a cursor
    ],
)
def test_a_bad_page_size_or_cursor_is_a_400_not_the_first_page(cast, query, code) -> None:
    response = cast.client_for(cast.agent).get("/api/v1/organizations/", query)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code


def test_pages_still_follow_their_cursors_and_large_sizes_are_capped(cast) -> None:
    client = cast.client_for(cast.agent)
    first = client.get("/api/v1/organizations/", {"page_size": "1"}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = client.get(first["next"]).json()
    assert second["results"] and second["results"][0]["id"] != first["results"][0]["id"]
    assert client.get("/api/v1/organizations/", {"page_size": "100000"}).status_code == 200
