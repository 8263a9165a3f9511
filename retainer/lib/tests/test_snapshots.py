"""Per-process copies of reference data: renewed by the database on every change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from retainer.cases.models import BusinessCalendar, Case, SlaTarget
from retainer.cases.selectors import sla_target_for
from retainer.catalog.models import Environment, Product, Release, ScopePolicy
from retainer.catalog.selectors import catalog
from retainer.lib.snapshots import Snapshot, current_token

pytestmark = pytest.mark.django_db


def _product(code: str = "widget") -> Product:
    return Product.objects.create(name=code.title(), code=code, currency="EUR")


def test_every_kind_of_change_to_a_catalog_table_renews_the_token() -> None:
    product = _product()
    changes = [
        lambda: Release.objects.create(
            product=product, version="1.0", order=1, ga_date=dt.date(2026, 1, 1)
        ),
        lambda: Product.objects.filter(pk=product.pk).update(name="Renamed"),
        lambda: Environment.objects.create(name="Linux", kind="os"),
        lambda: ScopePolicy.objects.create(product=product),
        lambda: ScopePolicy.objects.get().supported_environments.add(Environment.objects.get()),
        lambda: ScopePolicy.objects.get().supported_environments.clear(),
        lambda: Release.objects.all().delete(),
    ]
    seen = {current_token("catalog")}
    for n, change in enumerate(changes):
        change()
        token = current_token("catalog")
        assert token not in seen, f"change {n} kept the token"
        seen.add(token)
    assert None not in seen


def test_a_raw_sql_change_is_seen_by_the_next_read() -> None:
    product = _product()
    assert catalog().products[product.pk].name == "Widget"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET name = 'Gadget' WHERE id = %s", [product.pk])
    assert catalog().products[product.pk].name == "Gadget"


def test_an_unchanged_catalog_is_read_without_loading_it_again(
    django_assert_num_queries,
) -> None:
    product = _product()
    Release.objects.create(product=product, version="2.0", order=1, ga_date=dt.date(2026, 1, 1))
    catalog()
    with django_assert_num_queries(1):  # the token only
        copy = catalog()
    assert [r.version for r in copy.scope[product.pk][1]] == ["2.0"]


def test_a_rolled_back_change_never_hands_its_token_to_a_later_change() -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return Product.objects.count()

    counted = Snapshot("catalog", load)
    assert counted.get() == 0
    with transaction.atomic():
        _product("first")
        assert counted.get() == 1  # read inside the transaction that changed it
        transaction.set_rollback(True)
    assert counted.get() == 0
    _product("second")
    _product("third")
    assert counted.get() == 2
    assert len(loads) == 4


def test_without_a_token_row_nothing_is_kept() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM lib_generation WHERE name = 'catalog'")
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    snapshot = Snapshot("catalog", load)
    assert (snapshot.get(), snapshot.get()) == (1, 2)


def test_a_changed_sla_target_applies_to_the_next_case(cast) -> None:
    calendar = BusinessCalendar.objects.create(name="Always", always_open=True)
    target = SlaTarget.objects.create(
        severity=2, calendar=calendar, first_response_minutes=60, resolution_minutes=600
    )
    case = Case(severity=2)

    def target_now() -> SlaTarget:
        found = sla_target_for(case)
        assert found is not None
        return found

    assert target_now().first_response_minutes == 60
    SlaTarget.objects.filter(pk=target.pk).update(first_response_minutes=30)
    assert target_now().first_response_minutes == 30
    BusinessCalendar.objects.filter(pk=calendar.pk).update(always_open=False)
    assert target_now().calendar.always_open is False


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_truncating_a_catalog_table_renews_the_token() -> None:
    product = _product()
    ScopePolicy.objects.create(product=product)
    before = current_token("catalog")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_scopepolicy_supported_environments")
    assert current_token("catalog") != before


def test_inside_tokens_read_once_a_token_is_read_once_and_afterwards_again(
    django_assert_num_queries,
) -> None:
    from retainer.lib.snapshots import tokens_read_once

    before = current_token("catalog")
    with tokens_read_once():
        with django_assert_num_queries(1):
            assert current_token("catalog") == current_token("catalog") == before
        _product()  # renews the token; this block keeps the one it read
        assert current_token("catalog") == before
    assert current_token("catalog") != before


def test_an_action_with_many_events_reads_the_webhook_token_once() -> None:
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from retainer.lib import outbox

    now = timezone.now()
    events = [
        outbox.Publication("category.saved", "tests.probe", n, {"refs": {}}, now)
        for n in range(1, 6)
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        outbox.publish(events)
    reads = [q["sql"] for q in queries if "FROM lib_generation" in q["sql"]]
    assert len(reads) == 1  # five events, each asked about by the webhooks subscriber
