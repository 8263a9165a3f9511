"""Ids in paths are bounded before they reach the database."""

from __future__ import annotations

import pytest

from retainer.lib.converters import parse_id


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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), (42, 42), ("²", None), ("٣", None), ("", None), ("-1", None), (True, None),
     ("1" * 18, int("1" * 18)), ("1" * 19, None), (" 4", None)],
)  # fmt: skip
def test_parse_id_takes_only_short_runs_of_ascii_digits(raw: object, expected: int | None):
    assert parse_id(raw) == expected


@pytest.mark.parametrize("product", ["²", "٣", "1789173872655324921462784"])
def test_the_portal_release_picker_answers_odd_digits_with_no_options(cast, product: str):
    response = cast.client_for(cast.contact).get(
        "/portal/cases/new/releases/", {"product": product}
    )
    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1  # only "Not sure / not listed"
