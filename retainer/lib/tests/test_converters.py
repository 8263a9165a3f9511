"""Ids in paths are bounded before they reach the database."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/1789173872655324921462784/scope-policy/",
        "/api/v1/organizations/99999999999999999999/",
        "/api/v1/products/٣/",
    ],
)
def test_an_id_beyond_64_bits_or_of_other_digits_is_not_found(cast, path: str) -> None:
    response = cast.client_for(cast.agent).get(path)
    assert response.status_code == 404


def test_an_ordinary_id_still_resolves(cast) -> None:
    response = cast.client_for(cast.agent).get(f"/api/v1/organizations/{cast.acme.pk}/")
    assert response.status_code == 200
