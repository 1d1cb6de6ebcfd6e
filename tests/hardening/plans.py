"""Query plans of the statements a piece of code runs: capture them, EXPLAIN each, find full scans.

SQLite: ``EXPLAIN QUERY PLAN`` with the captured parameters; a ``SCAN <table>`` of a growing table is a
full scan (``SEARCH`` is an index lookup; scans of VALUES lists, subqueries and CTEs are not tables).
PostgreSQL: the statement is prepared and explained as a **generic plan** (``plan_cache_mode =
force_generic_plan``, what a prepared statement reused by the pool runs after five executions); a
``Seq Scan`` of a growing table is a full scan.
"""

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import Database

# Tables that stay small whatever the history: one row per relay, per projection, per migration.
SMALL_TABLES = {"outbox", "alembic_version", "checkpoints", "projection_checkpoints", "sqlite_master", "sqlite_schema"}
_SKIP = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA|CREATE|DROP|ALTER|ANALYZE|SET|SHOW)\b", re.I)


@dataclass
class Captured:
    statements: dict[str, Any] = field(default_factory=dict)  # statement → first parameters seen

    def add(self, statement: str, parameters: Any, executemany: bool) -> None:
        if _SKIP.match(statement) or statement in self.statements:
            return
        if executemany:
            parameters = parameters[0] if parameters else ()
        self.statements[statement] = parameters


@contextlib.contextmanager
def capture(db: Database) -> Iterator[Captured]:
    """Record every statement ``db`` runs inside the block (writer and reader engines), those the store
    sends past SQLAlchemy to the driver included: each connection checked out in the block also reports
    what its driver runs (SQLite's trace, with the values written in; asyncpg's query logger)."""
    captured = Captured()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        captured.add(statement, parameters, executemany)

    def traced(statement: str) -> None:  # a row of an INSERT … VALUES searches nothing: one is enough
        if not _VALUES.match(statement):
            captured.add(statement, (), False)

    def logged(query: Any) -> None:
        captured.add(query.query, query.args, False)

    hooked: list[Any] = []

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection._connection
        if hasattr(driver, "add_query_logger"):  # asyncpg
            if logged not in getattr(driver, "_query_loggers", ()):
                driver.add_query_logger(logged)
                hooked.append(driver)
        else:  # aiosqlite (inline or threaded): its sqlite3 connection
            driver._conn.set_trace_callback(traced)
            hooked.append(driver)

    engines = {id(e.sync_engine): e.sync_engine for e in (db.writer, db.reader)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
        event.listen(engine.pool, "checkout", checkout)
    try:
        yield captured
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
            event.remove(engine.pool, "checkout", checkout)
        for driver in hooked:
            if hasattr(driver, "remove_query_logger"):
                driver.remove_query_logger(logged)
            else:
                driver._conn.set_trace_callback(None)


_VALUES = re.compile(r"^\s*INSERT INTO \w+ \([^)]*\) VALUES ", re.I)
_sqlite_scan = re.compile(r"^SCAN (\w+)")


async def sqlite_full_scans(engine: AsyncEngine, captured: Captured, small: set[str] = SMALL_TABLES) -> list[str]:
    """``statement → plan line`` for every full scan of a growing table."""
    found = []
    async with engine.connect() as conn:
        tables = {row[0] for row in await conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
        for statement, parameters in captured.statements.items():
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters or ()))
            for row in rows:
                match = _sqlite_scan.match(row[3])
                if match and match.group(1) in tables and match.group(1) not in small:
                    found.append(f"{row[3]}  ←  {_short(statement)}")
    return found


async def postgres_full_scans(engine: AsyncEngine, captured: Captured, small: set[str] = SMALL_TABLES) -> list[str]:
    """Generic plans of every captured statement; ``Seq Scan`` of a growing table is reported."""
    found = []
    async with engine.connect() as conn:
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        for index, (statement, parameters) in enumerate(captured.statements.items()):
            params = tuple(parameters or ())
            name = f"hardening_plan_{index}"
            await conn.exec_driver_sql(f"PREPARE {name} AS {statement}")
            # EXECUTE takes no bind parameters: the values go in as literals of the prepared types.
            call = f"EXECUTE {name}({', '.join(map(_literal, params))})" if params else f"EXECUTE {name}"
            raw = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {call}")
            plan = raw.scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            await conn.exec_driver_sql(f"DEALLOCATE {name}")
            for node in _nodes(plan[0]["Plan"]):
                relation = node.get("Relation Name")
                if node["Node Type"] == "Seq Scan" and relation not in small:
                    found.append(f"Seq Scan on {relation}  ←  {_short(statement)}")
        await conn.rollback()
    return found


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        items = ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        value = "{" + items + "}"
    elif isinstance(value, dict):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _short(statement: str) -> str:
    return " ".join(statement.split())[:240]
