"""Small helpers for the contracts API tests."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def post(client: Client, route: str, *args: Any, key: str | None = None, **data: Any) -> Any:
    """POST ``data`` as JSON to the named API route; ``key`` goes in ``Idempotency-Key``."""
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(url(route, *args), data, content_type="application/json", headers=headers)


def create_contract(client: Client, **data: Any) -> dict[str, Any]:
    response = post(client, "contract_list", **data)
    assert response.status_code == 201, response.json()
    return response.json()
