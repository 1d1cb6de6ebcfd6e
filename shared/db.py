"""Database engines for SQLite (embedded default) and PostgreSQL (production), chosen by URL.

SQLite gets two engines: a single-connection writer whose transactions start with BEGIN IMMEDIATE
(so a writer never fails upgrading a read lock), and a pooled autocommit reader that WAL lets run
beside it (a read that needs one snapshot across statements uses the writer).
"""

import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.sqlite_inline import create_inline_engine


@dataclass
class Database:
    url: str
    writer: AsyncEngine
    reader: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.writer.dialect.name == "postgresql"

    @asynccontextmanager
    async def startup_lock(self) -> AsyncIterator[None]:
        """Serialise start-up work (migrations, ``create_all``) across replicas starting together.

        PostgreSQL: a session advisory lock, so the second replica waits and then finds the schema done.
        SQLite is one process's file (its writes serialise on BEGIN IMMEDIATE anyway).
        """
        if not self.is_postgres:
            yield
            return
        async with self.writer.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _STARTUP_LOCK})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _STARTUP_LOCK})

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's begin event below issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # History must not slow commands down (issue 12): indexes of random keys (idempotency keys, stream ids)
    # outgrow SQLite's default 2 MB page cache and every insert reads and dirties a page of its own. Pages
    # are mapped (no read call per page), up to 64 MB cached, and the WAL is checkpointed every 10,000
    # pages (≈ 40 MB) instead of 1,000, so a page dirtied by many group commits is copied back once.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson for JSON columns: the relay and projections decode a lot of event data.
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def open_database(url: str, *, pool_size: int = 10) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine if os.environ.get("THIDUA_SQLITE_THREADS") else create_inline_engine
        writer = engine(url, pool_size=1, max_overflow=0, **_JSON)
        # Readers run in the driver's autocommit mode: each SELECT sees the latest committed snapshot,
        # and no BEGIN/ROLLBACK round trips are paid per read.
        reader = engine(url, pool_size=pool_size, max_overflow=pool_size, pool_reset_on_return=None, **_JSON)
        event.listen(writer.sync_engine, "connect", _sqlite_pragmas)
        event.listen(reader.sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(writer.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return Database(url, writer, reader)
    # A pooled connection whose backend was terminated (a restart, a failover) is replaced before a command
    # uses it: the server's goodbye has closed it on our side, which costs nothing to look at. (SQLAlchemy's
    # pre-ping would ask the server instead: BEGIN, a query and ROLLBACK, three round trips per checkout,
    # most of a group commit's time.) A server that does not answer fails a connect in seconds, not asyncpg's
    # minute.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
        **_JSON,
    )
    event.listen(engine.sync_engine, "checkout", _closed_by_server)
    return Database(url, engine, engine)


CONNECT_TIMEOUT_SECONDS = 5


def _closed_by_server(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection the server closed is discarded, and the pool opens a new one."""
    if record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


_STARTUP_LOCK = 7_411_202_612  # beside the event store's append lock (7_411_202_611)

# PostgreSQL states that mean "the server cannot serve you now", not "your request is wrong": connection
# exceptions (class 08), operator intervention (admin/crash shutdown, cannot connect now), too many
# connections, and out of disk/memory.
_PG_UNAVAILABLE_CLASSES = ("08",)
_PG_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53000", "53100", "53200", "53300", "53400"}
# SQLite: another process holds the lock past busy_timeout, the file cannot be opened, or the disk failed.
_SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL")


def unavailable_reason(error: BaseException) -> str | None:
    """Why ``error`` means the database is out of reach for now (a 503 to retry), or None if it does not.

    Only the database's own words count: a constraint, a bad statement or a bug stays an error.
    """
    if isinstance(error, ConnectionError | TimeoutError):  # refused, reset, or no answer in time
        return f"{type(error).__name__}: {error}"
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:  # the connection died under the statement (SQLAlchemy's own verdict)
        return "the database connection was lost"
    orig = error.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str):
        # 55000 is broad; only its "not currently accepting connections" form (ALLOW_CONNECTIONS false,
        # a database being dropped or restored) is an outage.
        if state.startswith(_PG_UNAVAILABLE_CLASSES) or state in _PG_UNAVAILABLE_STATES:
            return f"PostgreSQL {state}: {orig}"
        if state == "55000" and "accepting connections" in str(orig):
            return f"PostgreSQL {state}: {orig}"
        return None
    if isinstance(orig, sqlite3.Error) or type(orig).__module__.startswith("sqlalchemy.dialects.sqlite"):
        name = getattr(orig, "sqlite_errorname", "") or ""
        text = str(orig).lower()
        words = ("database is locked", "unable to open", "disk i/o error", "disk is full")
        if name.startswith(_SQLITE_UNAVAILABLE) or any(word in text for word in words):
            return f"SQLite: {orig}"
    return None


@asynccontextmanager
async def driver_errors(conn: AsyncConnection, sql: str) -> AsyncIterator[Any]:
    """The driver's connection under ``conn``, for a statement sent past SQLAlchemy; a failure is raised as
    SQLAlchemy would raise it (a ``DBAPIError``, invalidated if the connection is gone), so a lost database
    is still a 503 to retry, not a 500."""
    driver = (await conn.get_raw_connection()).driver_connection
    try:
        yield driver
    except Exception as error:
        closed = driver.is_closed() if hasattr(driver, "is_closed") else False
        base = sqlite3.Error if isinstance(error, sqlite3.Error) else Exception
        raise DBAPIError.instance(sql, None, error, base, connection_invalidated=closed) from error
