"""Statements of the hottest paths, compiled to SQL once per process.

Turning a queryset into SQL costs Django far more than the database takes to run it:
fetching a contract by primary key takes 267 µs through the ORM and 23 µs as the same
``SELECT`` run directly (``bench/profile_intake.py``, docs/performance.md). Case intake
runs about twenty statements per request, so their compilation was most of its cost.

This module keeps the ORM as the one description of each statement — the queryset, the
model and its fields — and only keeps the SQL it compiles to:

- :class:`Select` wraps a function that builds a queryset from a few values. It is
  compiled the first time with stand-in values, and later calls run the same SQL with
  their own values; rows become model instances (with ``select_related`` objects) or
  tuples exactly as the queryset would have returned them.
- :func:`insert` and :func:`insert_many` write new instances with one ``INSERT``,
  returning primary keys; :func:`update` writes some fields of a saved instance.

Like ``bulk_create`` and ``QuerySet.update``, none of them calls ``save()`` or sends model
signals: use them for models whose ``save()`` adds nothing (a test checks that the
project declares no model signals) and validate with ``full_clean()`` where the input
comes from a person. Everywhere else, the ORM as usual.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connections, router
from django.db.models import Field, Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

M = TypeVar("M", bound=Model)
T = TypeVar("T")

_INT_STAND_IN = -7_340_031_000_000_000


def _stand_in(position: int, value: Any) -> Any:
    """A value no caller passes, of the type of ``value``, to find each parameter's place."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(
            f"Select takes int and str values only (parameter {position} is {value!r})."
        )
    if isinstance(value, int):
        return _INT_STAND_IN - position
    return f"\x1fstand-in {position}\x1f"


@dataclasses.dataclass
class _Compiled:
    alias: str
    sql: str
    params: tuple[Any, ...]
    positions: tuple[int, ...]
    compiler: Any
    converters: Any
    kind: type
    model: type[Model] | None = None
    slice: tuple[int, int] = (0, 0)
    init_list: list[str] = dataclasses.field(default_factory=list)
    populators: list[Any] = dataclasses.field(default_factory=list)
    annotations: dict[str, int] = dataclasses.field(default_factory=dict)

    def instance(self, row: Sequence[Any]) -> Any:
        if self.model is None:
            raise TypeError("This query returns values, not model instances.")
        obj = self.model.from_db(self.alias, self.init_list, row[self.slice[0] : self.slice[1]])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, position in self.annotations.items():
            setattr(obj, name, row[position])
        return obj


class Select(Generic[T]):
    """A query built by ``build(*values)``, compiled to SQL on first use.

    ``build`` must put each value into the query once, as a parameter, unchanged: an int
    or a str compared with ``=``, ``<`` … (the compilation checks it and refuses anything
    else, such as a list for ``IN``). Constants written in ``build`` stay as compiled.
    Results are model instances for a model queryset, tuples for ``values_list()``,
    single values for ``values_list(flat=True)``.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._compiled: _Compiled | None = None

    def all(self, *values: Any) -> list[T]:
        compiled = self._compiled or self._compile(values)
        params = list(compiled.params)
        for position, value in zip(compiled.positions, values, strict=True):
            params[position] = value
        with connections[compiled.alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        if compiled.kind is FlatValuesListIterable:
            return [row[0] for row in rows]
        if compiled.kind is ValuesListIterable:
            return [tuple(row) for row in rows]  # type: ignore[misc]
        return [compiled.instance(row) for row in rows]

    def first(self, *values: Any) -> T | None:
        found = self.all(*values)
        return found[0] if found else None

    def _compile(self, values: tuple[Any, ...]) -> _Compiled:
        stand_ins = tuple(_stand_in(n, v) for n, v in enumerate(values))
        queryset = self.build(*stand_ins)
        kind = queryset._iterable_class
        if kind not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise TypeError("Select compiles model, values_list() and flat querysets only.")
        if queryset._prefetch_related_lookups or queryset._known_related_objects:  # type: ignore[attr-defined]
            raise TypeError("Select does not prefetch; use select_related().")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        params = tuple(params)
        if any(params.count(stand_in) != 1 for stand_in in stand_ins):
            raise TypeError(
                "Select needs each value passed to the query once and unchanged "
                f"(compiled parameters {params!r} for values {stand_ins!r})."
            )
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        compiled = _Compiled(
            alias=queryset.db,
            sql=sql,
            params=params,
            positions=tuple(params.index(stand_in) for stand_in in stand_ins),
            compiler=compiler,
            converters=compiler.get_converters(fields),
            kind=kind,
        )
        if kind is ModelIterable:
            info = compiler.klass_info
            select_fields = info["select_fields"]
            compiled.model = info["model"]
            compiled.slice = (select_fields[0], select_fields[-1] + 1)
            compiled.init_list = [
                f[0].target.attname for f in compiler.select[slice(*compiled.slice)]
            ]
            compiled.populators = get_related_populators(info, compiler.select, queryset.db)
            compiled.annotations = dict(compiler.annotation_col_map or {})
        self._compiled = compiled
        return compiled


# --- Writes -----------------------------------------------------------------------------------

_statements: dict[tuple[Any, ...], tuple[str, list[Field[Any, Any]]]] = {}


def _concrete(model: type[Model], names: Sequence[str]) -> list[Field[Any, Any]]:
    fields = [model._meta.get_field(name) for name in names]
    if not all(isinstance(f, Field) and f.concrete for f in fields):
        raise TypeError(f"{model.__name__}: only concrete fields can be written ({names}).")
    return fields  # type: ignore[return-value]


def _insert_statement(model: type[Model], alias: str, with_pk: bool) -> tuple[str, list[Any]]:
    """``INSERT INTO t (…) VALUES`` and ``RETURNING pk`` (or nothing), and the fields."""
    key = ("insert", model, alias, with_pk)
    if key not in _statements:
        connection = connections[alias]
        meta = model._meta
        fields = [
            f
            for f in meta.local_concrete_fields
            if not f.generated and (with_pk or f is not meta.auto_field)
        ]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        returning, _params = connection.ops.return_insert_columns([meta.pk]) or ("", ())
        _statements[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES\n{returning}",
            fields,
        )
    return _statements[key]


def insert(obj: M) -> M:
    """Insert a new instance with one statement and set its primary key."""
    return insert_many([obj])[0]


def insert_many(objs: list[M]) -> list[M]:
    """Insert new instances of one model with one statement, setting their primary keys
    in the order given, as ``bulk_create`` does."""
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    with_pk = objs[0].pk is not None
    statement, fields = _insert_statement(model, alias, with_pk)
    params: list[Any] = []
    for obj in objs:
        if type(obj) is not model or (obj.pk is not None) != with_pk:
            raise TypeError("insert_many takes new rows of one model, all with or without keys.")
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    head, returning = statement.split("\n")
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(f"{head} {', '.join([row] * len(objs))} {returning}", params)
        keys = [found[0] for found in cursor.fetchall()] if returning else []
    if returning and len(keys) != len(objs):
        raise DatabaseError(f"{model.__name__}: {len(keys)} keys returned for {len(objs)} rows.")
    for obj, pk in zip(objs, keys or [obj.pk for obj in objs], strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return objs


def update(obj: Model, fields: Sequence[str]) -> None:
    """Write ``fields`` of a saved instance (``save(update_fields=…)`` without ``save()``);
    a row that is gone raises ``DatabaseError``, as ``save`` does."""
    model = type(obj)
    alias = router.db_for_write(model)
    connection = connections[alias]
    key = ("update", model, alias, tuple(fields))
    if key not in _statements:
        meta = model._meta
        targets = _concrete(model, fields)
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)
        where = f"{quote(meta.pk.column)} = %s"
        _statements[key] = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {where}",  # noqa: S608
            targets,
        )
    sql, targets = _statements[key]
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in targets]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, obj.pk])
        if cursor.rowcount != 1:
            raise DatabaseError(f"{model.__name__} {obj.pk}: the update matched no row.")
