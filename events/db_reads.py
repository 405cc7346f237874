"""Hot reads by SQL written once: one row of a model (and one related row) by equality.

Tortoise builds every query's SQL anew through pypika: for a registration with its event that is
~1 ms of CPU, several times the database's own work, on every door scan and token check. The SQL of
these reads depends only on the model, the related field and which filter values are NULL, so it is
made once per shape and dialect and kept; rows become model instances as the ORM makes them
(``Model._init_from_db``), with the related instance where ``select_related`` would put it.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from tortoise.fields.relational import ForeignKeyFieldInstance
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def _columns(model: type[Model], alias: str, prefix: str = "") -> list[str]:
    return [f'{alias}."{column}" AS "{prefix}{column}"' for column in sorted(model._meta.db_fields)]


@cache
def _statement(
    model: type[Model], related: str | None, keys: tuple[tuple[str, bool], ...], dialect: str, *, each: bool = False
) -> tuple[str, type[Model] | None, tuple[str, ...]]:
    """(SQL, the related model, the columns the parameters go to) of one shape of read; ``each``
    (PostgreSQL): every row whose value is in the parameter's array, not the first one equal to it."""
    meta = model._meta
    select = _columns(model, "a")
    join = ""
    related_model: type[Model] | None = None
    if related is not None:
        field = meta.fields_map[related]
        if not isinstance(field, ForeignKeyFieldInstance):
            raise TypeError(f"{model.__name__}.{related} is not a foreign key")
        related_model = field.related_model
        related_meta = related_model._meta
        select += _columns(related_model, "b", "b.")
        fk_column = meta.fields_db_projection[field.source_field or f"{related}_id"]
        join = f' LEFT JOIN "{related_meta.db_table}" b ON b."{related_meta.db_pk_column}" = a."{fk_column}"'

    where, params = [], []
    for name, is_null in keys:
        column = meta.fields_db_projection[name]
        if is_null:
            where.append(f'a."{column}" IS NULL')
        else:
            params.append(name)
            placeholder = f"${len(params)}" if dialect == "postgres" else "?"
            where.append(f'a."{column}" = ' + (f"ANY({placeholder})" if each else placeholder))
    sql = f'SELECT {", ".join(select)} FROM "{meta.db_table}" a{join} WHERE {" AND ".join(where)}'
    if not each:
        sql += " LIMIT 1"
    return sql, related_model, tuple(params)


async def get_one(model: type[M], *, related: str | None = None, **where: Any) -> M | None:
    """``model.get_or_none(**where).select_related(related)``, for equality filters on the model's own
    fields (None means IS NULL), without building the SQL again. In the current transaction, if any."""
    meta = model._meta
    db = meta.db
    keys = tuple((name, value is None) for name, value in where.items())
    sql, related_model, params = _statement(model, related, keys, db.capabilities.dialect)
    values = [meta.fields_map[name].to_db_value(where[name], model) for name in params]
    _, rows = await db.execute_query(sql, values)
    if not rows:
        return None
    return _instance(model, related, related_model, dict(rows[0]))


def row_columns(model: type[Model], related: str) -> str:
    """The select list of a row of ``model`` (aliased ``a``) with its ``related`` row (aliased ``b``),
    for a statement written elsewhere whose rows ``from_row`` makes instances of."""
    field = model._meta.fields_map[related]
    if not isinstance(field, ForeignKeyFieldInstance):
        raise TypeError(f"{model.__name__}.{related} is not a foreign key")
    return ", ".join(_columns(model, "a") + _columns(field.related_model, "b", "b."))


def from_row(model: type[M], related: str, row: dict[str, Any]) -> M:
    """An instance of a row of ``row_columns``'s shape, with its related instance."""
    field = model._meta.fields_map[related]
    assert isinstance(field, ForeignKeyFieldInstance)
    return _instance(model, related, field.related_model, row)


def _instance(model: type[M], related: str | None, related_model: type[Model] | None, row: dict[str, Any]) -> M:
    """A row of ``_statement``'s shape as the ORM makes it, the related instance where
    ``select_related`` would put it."""
    instance = model._init_from_db(**{column: row[column] for column in model._meta.db_fields})
    if related is not None and related_model is not None:
        pk = row[f"b.{related_model._meta.db_pk_column}"]
        other = (
            None
            if pk is None
            else related_model._init_from_db(**{c: row[f"b.{c}"] for c in related_model._meta.db_fields})
        )
        object.__setattr__(instance, f"_{related}", other)
    return instance


async def get_each(model: type[M], ids: list[int], *, related: str | None = None, using_db: Any) -> list[M | None]:
    """PostgreSQL: the row of each primary key in ``ids`` (None where there is none), as ``get_one``
    reads one, all in one query; a key asked twice gets two instances."""
    meta = model._meta
    sql, related_model, _ = _statement(model, related, ((meta.pk_attr, False),), "postgres", each=True)
    _, rows = await using_db.execute_query(sql, [list(set(ids))])
    found = {row[meta.db_pk_column]: dict(row) for row in rows}
    return [None if (row := found.get(pk)) is None else _instance(model, related, related_model, row) for pk in ids]
