"""Every index on the tables one intake writes costs each new case a page write
(docs/performance.md, "Write amplification"): the set is deliberate, and this test
names it, so adding one is a decision and not an accident."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# Columns of each index (primary keys left out), whatever the backend names them.
EXPECTED: dict[str, set[tuple[str, ...]]] = {
    "cases_case": {
        ("public_id",),
        ("decision_id",),
        ("created_at",),
        ("contact_id",),
        ("contract_id",),
        ("product_id",),
        ("queue_id",),
        ("release_id",),
        ("defect_id",),
        ("organization_id", "status"),
        ("assignee_id", "status"),
        ("status", "severity", "id"),
        ("severity", "id"),
        ("updated_at", "id"),
    },
    "cases_caseevent": {("case_id", "created_at")},
    "cases_slaclock": {("case_id",), ("target_id",), ("stopped_at", "due_at")},
    "contracts_ledgerentry": {
        ("contract_id", "key"),
        ("reverses_id",),
        ("created_at",),
        ("case_id",),
        ("time_entry_id",),
    },
    "contracts_entitlementdecision": {
        ("source_type", "source_id"),
        ("organization_id",),
        ("contract_id",),
    },
    "lib_idempotencykey": {("user_id", "key"), ("created_at",)},
}
# Case search (cases/migrations/0009_case_search_index.py): on PostgreSQL the generated
# tsvector's GIN index; on SQLite the index is a separate FTS5 table kept by a trigger.
POSTGRESQL_ONLY: dict[str, set[tuple[str, ...]]] = {"cases_case": {("search",)}}


@pytest.mark.parametrize("table", sorted(EXPECTED))
def test_the_intake_tables_carry_only_their_declared_indexes(table: str) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    found = {
        tuple(info["columns"])
        for name, info in constraints.items()
        if (info["index"] or info["unique"])
        and not info["primary_key"]
        and not name.endswith("_like")  # PostgreSQL's pattern-matching twin
    }
    expected = EXPECTED[table]
    if connection.vendor == "postgresql":
        expected = expected | POSTGRESQL_ONLY.get(table, set())
    assert found == expected
