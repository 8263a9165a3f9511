"""Fixtures of the sales and customer-success tests (``world.build_sales``)."""

from __future__ import annotations

from typing import Any

import pytest

from retainer.success.tests.world import Sales, build_sales


@pytest.fixture
def sales(cast: Any) -> Sales:
    return build_sales(cast)
