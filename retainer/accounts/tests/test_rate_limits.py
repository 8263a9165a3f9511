"""API rate limits: per token, user or address, reads and writes apart, shared by every
client of one token, reset with the window, and a refused request writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from retainer.accounts import actions
from retainer.accounts.choices import API_AREAS
from retainer.accounts.models import ApiRateCounter, ApiToken, Organization
from retainer.accounts.ratelimit import WINDOW_SECONDS, do_prune_api_rate_counters

ALL_WRITE = [f"{area}:write" for area in API_AREAS]
READS, WRITES = 3, 2


@pytest.fixture
def limits(settings):
    settings.RETAINER_API_READS_PER_MINUTE = READS
    settings.RETAINER_API_WRITES_PER_MINUTE = WRITES


@pytest.fixture
def window_start():
    """Five seconds into a window, with the clock stopped there."""
    now = timezone.now()
    start = dt.datetime.fromtimestamp(
        (int(now.timestamp()) // WINDOW_SECONDS + 1) * WINDOW_SECONDS + 5, tz=dt.UTC
    )
    with time_machine.travel(start, tick=False):
        yield start


def token_text(user) -> str:
    return actions.do_create_api_token(
        user=user, name="limits", scopes=ALL_WRITE, expires_in_days=5, actor=user
    ).text


def bearer(text: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {text}"})


def assert_limited(response, limit: int, retry_after: int):
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["retry_after"] == retry_after
    assert str(limit) in body["detail"]
    assert response["Retry-After"] == str(retry_after)
    assert response["X-RateLimit-Limit"] == str(limit)
    assert response["X-RateLimit-Remaining"] == "0"


def test_the_limit_holds_across_two_clients_of_one_token(cast, limits, window_start):
    text = token_text(cast.manager)
    first, second = bearer(text), bearer(text)
    answers = [client.get("/api/v1/cases/") for client in (first, second, first)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a["X-RateLimit-Limit"] == str(READS) for a in answers)
    assert_limited(second.get("/api/v1/contracts/"), READS, WINDOW_SECONDS - 5)


def test_the_budget_comes_back_with_the_next_window(cast, limits, window_start):
    client = bearer(token_text(cast.manager))
    for _ in range(READS):
        client.get("/api/v1/cases/")
    assert client.get("/api/v1/cases/").status_code == 429
    with time_machine.travel(window_start + dt.timedelta(seconds=WINDOW_SECONDS), tick=False):
        response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == str(READS - 1)


def test_reads_and_writes_have_budgets_of_their_own(cast, limits, window_start):
    client = bearer(token_text(cast.admin))
    for _ in range(READS):
        client.get("/api/v1/organizations/")
    assert client.get("/api/v1/organizations/").status_code == 429
    body = {"name": "Initech", "domains": ["initech.test"]}
    created = client.post("/api/v1/organizations/", body, content_type="application/json")
    assert created.status_code == 201
    assert created["X-RateLimit-Limit"] == str(WRITES)
    assert created["X-RateLimit-Remaining"] == str(WRITES - 1)


def test_a_refused_write_writes_nothing(cast, limits, window_start):
    client = bearer(token_text(cast.admin))
    for n in range(WRITES):
        body = {"name": f"Org {n}", "domains": [f"org{n}.test"]}
        assert (
            client.post("/api/v1/organizations/", body, content_type="application/json").status_code
            == 201
        )
    organizations = Organization.objects.count()
    counters = list(ApiRateCounter.objects.values_list("bucket", "window_index", "hits"))
    last_used = ApiToken.objects.get().last_used_at
    body = {"name": "Refused", "domains": ["refused.test"]}
    with time_machine.travel(window_start + dt.timedelta(seconds=50), tick=False):
        response = client.post("/api/v1/organizations/", body, content_type="application/json")
    assert_limited(response, WRITES, WINDOW_SECONDS - 55)
    assert Organization.objects.count() == organizations
    assert list(ApiRateCounter.objects.values_list("bucket", "window_index", "hits")) == counters
    assert ApiToken.objects.get().last_used_at == last_used


def test_a_token_and_its_owners_session_count_apart(cast, limits, window_start):
    token = bearer(token_text(cast.manager))
    for _ in range(READS):
        token.get("/api/v1/cases/")
    assert token.get("/api/v1/cases/").status_code == 429
    session = Client()
    session.force_login(cast.manager)
    assert session.get("/api/v1/cases/").status_code == 200
    other = Client()
    other.force_login(cast.agent)
    assert other.get("/api/v1/cases/")["X-RateLimit-Remaining"] == str(READS - 1)


def test_anonymous_clients_count_by_address(cast, limits, window_start):
    # The survey link's endpoint is the one API door open without signing in.
    url = "/api/v1/csat/not-a-token/"
    here, there = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="198.51.100.8")
    for _ in range(WRITES):
        assert here.post(url, {}, content_type="application/json").status_code != 429
    assert_limited(here.post(url, {}, content_type="application/json"), WRITES, WINDOW_SECONDS - 5)
    assert there.post(url, {}, content_type="application/json").status_code != 429


def test_a_limit_of_zero_counts_nothing(cast, settings):
    settings.RETAINER_API_READS_PER_MINUTE = 0
    client = bearer(token_text(cast.manager))
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response
    assert not ApiRateCounter.objects.exists()


def test_pruning_keeps_only_the_current_window(cast, limits, window_start):
    client = bearer(token_text(cast.manager))
    client.get("/api/v1/cases/")
    with time_machine.travel(window_start + dt.timedelta(seconds=WINDOW_SECONDS), tick=False):
        client.get("/api/v1/cases/")
        assert ApiRateCounter.objects.count() == 2
        assert do_prune_api_rate_counters() == 1
        assert ApiRateCounter.objects.get().hits == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_exceed_the_budget():
    """Eight connections hitting one bucket at once: exactly the limit get through (one
    upsert each, no read-then-write race). Needs a database that threads share."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    from retainer.accounts.ratelimit import hit

    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory, one per connection")

    def spend(_: int) -> int:
        try:
            return sum(hit("token:1:write", 42, 25) is not None for _ in range(10))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(spend, range(8)))
    assert admitted == 25
    assert ApiRateCounter.objects.get().hits == 25
