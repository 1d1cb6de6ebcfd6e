"""Database engines for SQLite (embedded default) and PostgreSQL (production), chosen by URL.

SQLite gets two engines: a single-connection writer whose transactions start with BEGIN IMMEDIATE
(so a writer never fails upgrading a read lock), and a pooled autocommit reader that WAL lets run
beside it (a read that needs one snapshot across statements uses the writer).
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.sqlite_inline import inline_creator


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
        inline = {} if os.environ.get("THIDUA_SQLITE_THREADS") else {"async_creator": inline_creator(parsed.database)}
        writer = create_async_engine(url, pool_size=1, max_overflow=0, **inline, **_JSON)
        # Readers run in the driver's autocommit mode: each SELECT sees the latest committed snapshot,
        # and no BEGIN/ROLLBACK round trips are paid per read.
        reader = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_reset_on_return=None, **inline, **_JSON
        )
        event.listen(writer.sync_engine, "connect", _sqlite_pragmas)
        event.listen(reader.sync_engine, "connect", _sqlite_pragmas)

        @event.listens_for(writer.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return Database(url, writer, reader)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **_JSON)
    return Database(url, engine, engine)
