"""Fixtures for the shared helpers' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
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


@pytest.fixture
def probe_table(db: None) -> Iterator[None]:
    """The table the outbox probe's subscriber writes its effects to."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE outbox_probe (message_id bigint, pid integer)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE outbox_probe")
