"""``executemany`` through the SQLite driver itself, for the hot bulk writes (the event store's group
commit, a level projection's batch).

SQLAlchemy prepares every row of an ``executemany`` on its own: the parameters looked up by name, checked
and copied into a new dict, each value through its type's bind processor (``construct_params`` and
``_init_compiled``: 19% of a city's inspections replay, 12% of the event store's appends, more than SQLite
took for the statements). Here a statement is compiled once per dialect and set of columns, each row
becomes a tuple through the same bind processors SQLAlchemy would apply (dates and times as text,
booleans as integers, JSON through the engine's serializer), and the driver's ``executemany`` runs it on
the same connection, inside the transaction SQLAlchemy began (``BEGIN IMMEDIATE``, ``shared/db.py``):
committed or rolled back with the rest. PostgreSQL goes through SQLAlchemy as before (asyncpg's adapter
starts and owns its transaction), as does a statement whose compiled form needs a value the rows do not
carry (a default computed by SQLAlchemy).
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import driver_errors


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
    # aiosqlite's API, inline or threaded; a failure as SQLAlchemy's (a broken unique index: IntegrityError)
    async with driver_errors(conn, plan.sql) as driver:
        cursor = await driver.executemany(plan.sql, params)
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
    """SQLite's date and datetime processors format a value's parts through a dict; ``isoformat`` writes the
    same text (their default storage formats: the wall-clock parts, any time zone dropped) at a fraction of
    the cost, for every date of a replay's rows and every event's ``occurred_at``."""
    impl = type_.dialect_impl(dialect)
    if isinstance(impl, sqlite.DATETIME) and impl._storage_format == sqlite.DATETIME._storage_format:
        # The first 26 characters: "YYYY-MM-DD HH:MM:SS.ffffff", without the zone an aware time appends.
        return lambda value: value.isoformat(" ", "microseconds")[:26] if type(value) is datetime else process(value)
    if isinstance(impl, sqlite.DATE) and impl._storage_format == sqlite.DATE._storage_format:
        return lambda value: value.isoformat() if type(value) is date else process(value)
    return process
