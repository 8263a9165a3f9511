"""Every number an API client sends is bounded before it reaches the database."""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from rest_framework import serializers

from retainer.lib.api import INT_MAX


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
