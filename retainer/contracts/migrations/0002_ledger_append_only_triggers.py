"""Database triggers that refuse UPDATE and DELETE on ledger entries and contract events.

The models refuse it too, but only a trigger stops a raw query, a queryset ``update()``
or a bulk ``delete()``. SQLite and PostgreSQL have different trigger syntax, so the
migration branches on the connection's vendor.
"""

from django.db import migrations

TABLES = ["contracts_ledgerentry", "contracts_contractevent"]


def _sqlite(table: str) -> tuple[list[str], list[str]]:
    create = [
        f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END;"""
        for op in ("UPDATE", "DELETE")
    ]
    drop = [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for op in ("update", "delete")]
    return create, drop


def _postgresql(table: str) -> tuple[list[str], list[str]]:
    create = [
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION contracts_append_only();"""
    ]
    drop = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    return create, drop


FUNCTION = """
CREATE OR REPLACE FUNCTION contracts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
"""

# Other apps' append-only triggers run the same function (automation's 0003). Their
# migrations depend on this one, so they are unapplied before it and the function goes;
# when this function runs while their triggers stand (lifting the ledger's triggers to
# empty the tables), it drops only the ledger's triggers and keeps the function in use.
# CASCADE would drop the other tables' triggers too, and create_triggers does not bring
# them back.
DROP_FUNCTION_WHEN_UNUSED = """
DO $$
DECLARE
    fn regprocedure := to_regprocedure('contracts_append_only()');
BEGIN
    IF fn IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgfoid = fn) THEN
        DROP FUNCTION contracts_append_only();
    END IF;
END
$$;
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        for table in TABLES:
            for sql in _postgresql(table)[0]:
                schema_editor.execute(sql)
    elif vendor == "sqlite":
        for table in TABLES:
            for sql in _sqlite(table)[0]:
                schema_editor.execute(sql)
    else:
        raise RuntimeError(f"No append-only triggers for the {vendor} database.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        statements = _postgresql(table)[1] if vendor == "postgresql" else _sqlite(table)[1]
        for sql in statements:
            schema_editor.execute(sql)
    if vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION_WHEN_UNUSED, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_plans_contracts_ledger"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
