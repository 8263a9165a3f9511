"""Fixtures for the shared helpers' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huey.contrib.djhuey import HUEY


@pytest.fixture(autouse=True)
def _jobs_run_immediately() -> Iterator[None]:
    """Run enqueued jobs inline, against a fresh in-memory queue for every test.

    The huey instance is built once at start-up from settings, so overriding
    ``settings.HUEY`` would not reach it; switching ``immediate`` also swaps its storage
    for an empty in-memory one, and back afterwards.
    """
    previous = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = previous
