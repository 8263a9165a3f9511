import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_a_reachable_and_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "pending_migrations": 0}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused to postgres://user:secret@db")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert b"secret" not in response.content


@pytest.mark.django_db
def test_readyz_reports_pending_migrations(client, monkeypatch):
    from django.db.migrations import executor

    monkeypatch.setattr(
        executor.MigrationExecutor, "migration_plan", lambda self, targets: [("x", False)]
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pending_migrations"] == 1


def test_probes_refuse_writes(client):
    assert client.post("/healthz").status_code == 405
