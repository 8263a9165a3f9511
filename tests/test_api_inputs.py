"""Every number and every text a client sends is bounded before it reaches the database:
API serializers and the forms of the console and the portal."""

from __future__ import annotations

import inspect
import pkgutil
from collections.abc import Iterator, Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

import pytest
from django import forms
from django.apps import apps
from rest_framework import serializers

from retainer.lib.api import INT_MAX, SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH, is_free_text


def _serializer_classes() -> list[type[serializers.Serializer]]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("retainer."):
            continue
        for module_name in ("serializers", "api"):
            try:
                module = import_module(f"{config.name}.{module_name}")
            except ModuleNotFoundError:
                continue
            found += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, serializers.Serializer) and cls.__module__ == module.__name__
            ]
    return found


def _integer_fields(cls: type[serializers.Serializer]) -> list[tuple[str, Any]]:
    fields = []
    for name, field in cls._declared_fields.items():
        inner = field.child if isinstance(field, serializers.ListField) else field
        if isinstance(inner, serializers.IntegerField) and not field.read_only:
            fields.append((f"{cls.__module__}.{cls.__name__}.{name}", inner))
    return fields


def test_every_integer_a_client_sends_has_bounds() -> None:
    classes = _serializer_classes()
    assert len(classes) > 20, "the serializers were not found"
    unbounded = [
        name
        for cls in classes
        for name, field in _integer_fields(cls)
        if field.max_value is None or field.min_value is None
    ]
    assert not unbounded, f"unbounded integer inputs: {unbounded}"


@pytest.mark.django_db
def test_an_integer_beyond_the_column_is_a_field_error(cast) -> None:
    body = {"code": "big", "name": "Big", "preset": "bank", "terms": {"quantity": 2**70}}
    response = cast.client_for(cast.manager).post(
        "/api/v1/plans/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]["terms"]["quantity"]
    assert str(INT_MAX) in str(errors)


def _text_fields(prefix: str, fields: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Writable text fields, through nested serializers and lists."""
    for name, field in fields.items():
        inner = (
            field.child
            if isinstance(field, (serializers.ListField, serializers.ListSerializer))
            else field
        )
        if isinstance(inner, serializers.Serializer):
            yield from _text_fields(f"{prefix}.{name}", inner.fields)
        elif is_free_text(inner):
            yield f"{prefix}.{name}", inner


def test_every_text_an_api_client_sends_has_a_maximum_length() -> None:
    inputs = [cls for cls in _serializer_classes() if cls.__name__.endswith("In")]
    assert len(inputs) > 20, "the input serializers were not found"
    unbounded = sorted(
        name
        for cls in inputs
        for name, field in _text_fields(f"{cls.__module__}.{cls.__name__}", cls().fields)
        if field.max_length is None
    )
    # ``lib.api.validated`` would still cap these at TEXT_MAX_LENGTH, but the schema shows
    # only a bound the field declares: each declares its own (see ``lib.limits``).
    assert not unbounded, f"text inputs without max_length: {unbounded}"


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["description", "subject"])
def test_a_text_beyond_its_bound_is_a_400_in_the_error_shape(cast, field: str) -> None:
    bound = TEXT_MAX_LENGTH if field == "description" else SUBJECT_MAX_LENGTH
    body = {"subject": "Posting fails", "description": "Fails.", "product": 1}
    body[field] = "é" * (bound + 1)
    response = cast.client_for(cast.contact).post(
        "/api/v1/cases/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    answer = response.json()
    assert answer["code"] == "invalid"
    assert str(bound) in answer["errors"][field][0]


@pytest.mark.django_db
def test_a_one_megabyte_description_is_refused(cast) -> None:
    body = {"subject": "Posting fails", "description": "x" * 1_000_000, "product": 1}
    response = cast.client_for(cast.contact).post(
        "/api/v1/cases/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "description" in response.json()["errors"]


def _form_modules() -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        if not config.name.startswith("retainer."):
            continue
        try:
            module = import_module(f"{config.name}.forms")
        except ModuleNotFoundError:
            continue
        yield module
        for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
            yield import_module(f"{module.__name__}.{info.name}")


def test_every_text_a_form_takes_has_a_maximum_length() -> None:
    classes = [
        cls
        for module in _form_modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__
    ]
    assert len(classes) > 10, "the forms were not found"
    unbounded = sorted(
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in getattr(cls, "base_fields", {}).items()
        if isinstance(field, forms.CharField) and field.max_length is None and not field.disabled
    )
    # 50,000 for descriptions, bodies, notes and reasons; see ``lib.limits`` and docs/api.md.
    assert not unbounded, f"form text fields without max_length: {unbounded}"


# --- One error shape --------------------------------------------------------------------


def _assert_error_shape(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) <= {"code", "detail", "errors"}, body
    assert (body["code"], type(body["detail"])) == (code, str), body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing/", None, None, 404, "not_found"),
        ("get", "/api/v1/cases/not-a-case/", None, None, 404, "not_found"),
        ("delete", "/api/v1/cases/", None, None, 405, "method_not_allowed"),
        ("post", "/api/v1/cases/", "{not json", "application/json", 400, "parse_error"),
        ("post", "/api/v1/cases/", "subject", "text/plain", 415, "unsupported_media_type"),
        ("get", "/api/v1/billing/runs/", None, None, 403, "permission_denied"),
    ],
)
def test_every_refusal_under_api_has_the_one_error_shape(
    cast, method: str, path: str, body: Any, content_type: str | None, status: int, code: str
) -> None:
    send = getattr(cast.client_for(cast.contact), method)
    response = send(path, body, content_type=content_type) if body else send(path)
    _assert_error_shape(response, status, code)


@pytest.mark.django_db
def test_an_anonymous_request_is_refused_in_the_error_shape(client) -> None:
    _assert_error_shape(client.get("/api/v1/cases/"), 403, "not_authenticated")


@pytest.mark.django_db
def test_a_server_fault_under_api_is_a_500_in_the_error_shape(cast, monkeypatch) -> None:
    from django.test import Client

    from retainer.cases import api

    def fault(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a fault")

    monkeypatch.setattr(api.CaseList, "get_queryset", fault)
    client = Client(raise_request_exception=False)
    client.force_login(cast.agent)
    _assert_error_shape(client.get("/api/v1/cases/"), 500, "server_error")


def test_the_schema_documents_the_error_shape_on_every_operation() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "detail"}
    error = {"$ref": "#/components/schemas/Error"}
    operations = [
        operation
        for item in schema["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "responses" in operation
    ]
    assert len(operations) > 50
    for operation in operations:
        for status in ("403", "404"):
            documented = operation["responses"][status]["content"]["application/json"]
            assert documented["schema"] == error, operation["operationId"]
