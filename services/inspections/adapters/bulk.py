"""Statements of the level projection over many rows or many units at once.

``executemany``: the hot writes, run through the SQLite driver itself. SQLAlchemy prepares every row of
an ``executemany`` on its own: the parameters looked up by name, checked and copied into a new dict, each
value through its type's bind processor (``construct_params`` and ``_init_compiled``: 19% of a city's
replay, more than the statements took in SQLite). Here a statement is compiled once per dialect and set
of columns, each row becomes a tuple through the same bind processors SQLAlchemy would apply (dates as
ISO text, booleans as integers, JSON through the engine's serializer), and the driver's ``executemany``
runs it on the same connection, inside the transaction SQLAlchemy began (``BEGIN IMMEDIATE``,
``shared/db.py``): committed or rolled back with the rest of the batch. PostgreSQL goes through
SQLAlchemy as before (asyncpg's adapter starts and owns its transaction), as does a statement whose
compiled form needs a value the rows do not carry (a default computed by SQLAlchemy).

``rows_of``: a query's rows for a set of units. A few units are read by IN lists; every unit of a level
(its settling after a replay: the final rescore and judgements) by one read of the query, kept here by
unit: SQLAlchemy builds and renders an IN list's parameters one by one, a fifth of that settling.
"""

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

CHUNK = 500  # ids per IN list
WHOLE = 2_000  # more units than this: one read of the query


@dataclass(frozen=True)
class _Plan:
    sql: str
    values: Any  # row -> the tuple of its parameters, in the statement's order
    processors: tuple[tuple[int, Any], ...]  # (position, bind processor) for the types that convert


async def executemany(conn: AsyncConnection, statement: Any, rows: list[dict[str, Any]]) -> None:
    """``await conn.execute(statement, rows)``, all rows having the same keys; nothing is returned."""
    if not rows:
        return
    plan = _plan(conn.dialect, statement, tuple(rows[0])) if conn.dialect.name == "sqlite" else None
    if plan is None:
        await conn.execute(statement, rows)
        return
    values, processors = plan.values, plan.processors
    if processors:
        params = []
        for row in rows:
            converted = list(values(row))
            for at, process in processors:
                converted[at] = process(converted[at])
            params.append(converted)
    else:
        params = [values(row) for row in rows]
    raw = await conn.get_raw_connection()
    cursor = await raw.driver_connection.executemany(plan.sql, params)  # aiosqlite's API, inline or threaded
    await cursor.close()


@functools.lru_cache(maxsize=256)
def _plan(dialect: Dialect, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = compiled.positiontup
    if not names or compiled.escaped_bind_names or any(name not in keys for name in names):
        return None  # SQLAlchemy computes a value the rows do not give (a default), or no parameters at all
    getter = itemgetter(*names)
    values = getter if len(names) > 1 else (lambda row: (getter(row),))
    processors = compiled._bind_processors  # name -> processor, only for the types that convert
    return _Plan(
        compiled.string,
        values,
        tuple(
            (at, _quicker(processors[name], compiled.binds[name].type, dialect))
            for at, name in enumerate(names)
            if processors.get(name) is not None
        ),
    )


def _quicker(process: Any, type_: Any, dialect: Dialect) -> Any:
    """SQLite's date processor formats a date's parts through a dict; ``isoformat`` writes the same text
    (its default storage format) at a fraction of the cost, for every date of a replay's rows."""
    impl = type_.dialect_impl(dialect)
    if isinstance(impl, sqlite.DATE) and impl._storage_format == sqlite.DATE._storage_format:
        return lambda value: value.isoformat() if type(value) is date else process(value)
    return process


async def rows_of(
    conn: AsyncConnection, query: Select[Any], column: ColumnElement[Any], ids: Collection[str]
) -> list[Any]:
    """The rows of ``query`` whose ``column`` (one of the columns it selects) is one of ``ids``."""
    if len(ids) > WHOLE:
        at = next(i for i, selected in enumerate(query.selected_columns) if selected is column)
        wanted = set(ids)
        return [row for row in (await conn.execute(query)).all() if row[at] in wanted]
    listed, found = list(ids), []
    for start in range(0, len(listed), CHUNK):
        found += (await conn.execute(query.where(column.in_(listed[start : start + CHUNK])))).all()
    return found
