"""SQLite for the event loop's own thread: SQLAlchemy's aiosqlite dialect, without the worker thread and
without the awaits.

aiosqlite sends every call to a worker thread and back; on a busy 2-core machine that hand-off costs
far more CPU (~0.4 ms) than the SQLite call itself (~20 µs for an indexed read or a WAL commit, since
synchronous=NORMAL does not fsync on commit). The embedded default runs every call inline instead:
a call blocks the loop only for as long as SQLite works. (PostgreSQL is unaffected: asyncpg is
natively async.) ``THIDUA_SQLITE_THREADS=1`` restores aiosqlite's worker thread.

Inline calls never wait, so SQLAlchemy's adapter needs no awaits either: each ``await_`` it makes
(cursor, execute, close: three per statement) is a greenlet switch out to the event loop and back for
a coroutine that is already done, a third of a small statement's cost (74 µs per statement against
48 µs for the same statement on a synchronous engine). ``InlineDBAPI`` hands SQLAlchemy a connection
whose cursor calls sqlite3 directly; the driver connection (``get_raw_connection().driver_connection``)
is still an aiosqlite ``Connection`` for code that speaks its API.

With statements that never wait, a task holding a connection rarely lets another run, and two things in
SQLAlchemy's asyncio pool starved a waiting checkout until it timed out (30 s) while connections came back
all the time: a returned connection was put back in the queue and the waiter woken, but whichever task
reached a checkout before the waiter ran took it, and the waiter queued again at the back; and
``async with engine.connect()`` returned the connection from a task of its own, a whole pass of the loop
later (the demo load filled the 20 reader connections and failed 2 runs in 4). ``FairPool`` hands a
returned connection straight to the longest waiter, and ``InlineAsyncConnection`` closes on exit.
"""

import asyncio
import collections
import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction, create_async_engine
from sqlalchemy.ext.asyncio.result import _ensure_sync_result
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_, in_greenlet
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty


class _Done:
    """An awaitable that is already done: awaiting it never reaches the event loop."""

    def __await__(self):  # type: ignore[no-untyped-def]
        return iter(())


_DONE = _Done()


class _RunNow:
    """Stands in for aiosqlite's queue to the worker thread (SQLAlchemy also puts work on it)."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's API, without its worker thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._connect().__await__()  # the worker thread is never started

    async def _connect(self) -> "InlineConnection":
        self.open()
        return self

    def open(self) -> "InlineConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def stop(self) -> None:  # type: ignore[override]
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


class _InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor, calling sqlite3's cursor directly (rows buffered, as it expects)."""

    __slots__ = ()

    def __init__(self, adapt_connection: "_InlineAdaptedConnection") -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        try:
            self._cursor = self._connection._conn.cursor()
        except Exception as error:
            adapt_connection._handle_exception(error)
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        if in_greenlet():  # called through greenlet_spawn, which insists on one await per statement
            await_(_DONE)
        try:
            cursor = self._cursor
            result = cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
            if cursor.description:
                self._rows = collections.deque(cursor.fetchall())
            return result
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        if in_greenlet():
            await_(_DONE)
        try:
            return self._cursor.executemany(operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _async_soft_close(self) -> None:
        self._soft_closed_memoized = self._soft_closed_memoized.union({"description": self._cursor.description})
        self._cursor.close()

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    def nextset(self) -> None:
        raise sqlite3.NotSupportedError("sqlite3 cursors have no next result set")

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class _InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection whose calls run sqlite3 at once, never awaiting."""

    __slots__ = ()
    _cursor_cls = _InlineCursor

    @property
    def isolation_level(self) -> str | None:
        return self._connection._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        try:
            self._connection._conn.isolation_level = value
        except Exception as error:
            self._handle_exception(error)

    def create_function(self, *args: Any, **kw: Any) -> None:
        try:
            self._connection._conn.create_function(*args, **kw)
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        if self._connection._connection:
            try:
                self._connection._conn.rollback()
            except Exception as error:
                self._handle_exception(error)

    def commit(self) -> None:
        if self._connection._connection:
            try:
                self._connection._conn.commit()
            except Exception as error:
                self._handle_exception(error)

    def close(self) -> None:
        self._connection.stop()

    def terminate(self) -> None:
        self._connection.stop()


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect uses (``create_async_engine(module=...)``)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> _InlineAdaptedConnection:
        kw.pop("async_creator_fn", None)
        database, *_ = arg
        kw.setdefault("check_same_thread", False)
        connection = InlineConnection(lambda: sqlite3.connect(database, **kw), 64).open()
        return _InlineAdaptedConnection(self, connection)


class InlineAsyncConnection(AsyncConnection):
    """An ``AsyncConnection`` whose statements, transactions and close run at once on the calling task,
    not in a greenlet.

    ``greenlet_spawn`` exists so that a synchronous SQLAlchemy can await a driver; an inline SQLite
    driver never needs to, and the greenlet (created, switched into and out of, its stack copied, per
    call) cost more than the call: an empty BEGIN IMMEDIATE and COMMIT took ~200 µs through SQLAlchemy
    against 7 µs in sqlite3, a group commit's fixed cost. Only the checkout (``start``, which may wait for
    the pool's one writer connection) and ``run_sync`` still go through the greenlet.
    """

    def begin(self) -> AsyncTransaction:
        assert self._proxied
        return _InlineTransaction(self)

    def begin_nested(self) -> AsyncTransaction:
        assert self._proxied
        return _InlineTransaction(self, nested=True)

    async def commit(self) -> None:
        self._proxied.commit()

    async def rollback(self) -> None:
        self._proxied.rollback()

    async def close(self) -> None:
        self._proxied.close()  # a pool checkin: handed to a waiter or queued, never awaited

    async def execute(  # type: ignore[override]
        self, statement: Any, parameters: Any = None, *, execution_options: Any = None
    ) -> CursorResult[Any]:
        result = self._proxied.execute(statement, parameters, execution_options=execution_options)
        return await _ensure_sync_result(result, self.execute)

    async def exec_driver_sql(  # type: ignore[override]
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> CursorResult[Any]:
        result = self._proxied.exec_driver_sql(statement, parameters, execution_options)
        return await _ensure_sync_result(result, self.exec_driver_sql)

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        # SQLAlchemy closes from a task of its own so that a cancellation cannot cut short a close that
        # waits on its driver; an inline close never waits (rollback and pool checkin run at once), so
        # it is done here and the connection is back in the pool as the block ends, not a pass later.
        await self.close()


class _InlineTransaction(AsyncTransaction):
    """SQLAlchemy's ``AsyncTransaction`` with its begin, commit, rollback and end run at once (the
    ``begin`` event's ``BEGIN IMMEDIATE`` included): on the inline driver none of them awaits."""

    async def start(self, is_ctxmanager: bool = False) -> AsyncTransaction:
        connection = self.connection._proxied
        self.sync_transaction = self._assign_proxied(connection.begin_nested() if self.nested else connection.begin())
        if is_ctxmanager:
            self.sync_transaction.__enter__()
        return self

    async def commit(self) -> None:
        self._proxied.commit()

    async def rollback(self) -> None:
        self._proxied.rollback()

    async def close(self) -> None:
        self._proxied.close()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        self._proxied.__exit__(type_, value, traceback)


class _FairQueue(AsyncAdaptedQueue[Any]):
    """The pool's queue, first come first served: a returned connection goes to the longest waiter.

    A connection waits in the queue only while no checkout does, so a checkout never takes one from
    under a waiter, however many tasks reach the pool before the waiter runs again.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()

    def _hand_over(self, item: Any) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up is skipped
                waiter.set_result(item)
                return True
        return False

    def put_nowait(self, item: Any) -> None:
        if not self._hand_over(item):
            super().put_nowait(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if not self._hand_over(item):
            super().put(item, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if not block:
                raise Empty() from None
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await_(self._wait(waiter, timeout))
        except TimeoutError as error:
            raise Empty() from error

    async def _wait(self, waiter: "asyncio.Future[Any]", seconds: float | None) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over as this checkout gave up: pass it on
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise


class FairPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with a first-come-first-served queue (``_FairQueue``)."""

    _queue_class = _FairQueue


class InlineAsyncEngine(AsyncEngine):
    _connection_cls = InlineAsyncConnection


def create_inline_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """``create_async_engine`` for a SQLite file run inline: sqlite3 called directly, with no await and no
    greenlet per statement, and a fair pool."""
    kwargs.setdefault("poolclass", FairPool)
    return InlineAsyncEngine(create_async_engine(url, module=InlineDBAPI(), **kwargs).sync_engine)
