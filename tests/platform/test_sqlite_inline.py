"""Inline SQLite (``shared.sqlite_inline``): statements run on the calling task, and its pool serves checkouts
in the order they came, returning each connection as its ``async with`` block ends.

The demo load once failed with its reader pool exhausted (20 connections, 30 s) while connections were being
returned all the time: a returned connection went to whichever task reached a checkout first, not to the one
that waited, and a connection was returned only a pass of the event loop after its block ended."""

import asyncio
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import open_database
from shared.sqlite_inline import InlineConnection, create_inline_engine


def one_connection(tmp_path: Path, **kwargs: Any) -> AsyncEngine:
    return create_inline_engine(f"sqlite+aiosqlite:///{tmp_path}/one.db", pool_size=1, max_overflow=0, **kwargs)


async def test_a_returned_connection_goes_to_the_checkout_that_waited_longest(tmp_path: Path) -> None:
    engine = one_connection(tmp_path)
    served: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def use(name: str) -> None:
        async with engine.connect() as conn:
            served.append(name)
            await conn.execute(text("SELECT 1"))

    def newcomer(name: str, later: int) -> None:  # reaches the pool ``later`` passes of the loop from now
        loop = asyncio.get_running_loop()
        if later:
            loop.call_soon(newcomer, name, later - 1)
        else:
            tasks.append(asyncio.create_task(use(name)))

    async with engine.connect():
        tasks += [asyncio.create_task(use(f"waiter {n}")) for n in range(3)]
        await asyncio.sleep(0)  # the three wait at the pool, in this order
        # Newcomers arriving about when the connection comes back, before the first waiter runs again.
        for later in range(4):
            newcomer(f"newcomer {later}", later)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert served[:3] == ["waiter 0", "waiter 1", "waiter 2"]
    assert sorted(served[3:]) == [f"newcomer {n}" for n in range(4)]
    await engine.dispose()


async def test_no_checkout_is_overtaken_more_than_once_by_each_other_task(tmp_path: Path) -> None:
    """Many tasks taking turns at one connection, each pausing inside its block: before the fair queue one
    waited while hundreds of later checkouts were served, long enough under load to time out."""
    engine = one_connection(tmp_path)
    tasks, rounds = 20, 30
    served = 0
    overtaken: list[int] = []

    async def take_turns() -> None:
        nonlocal served
        for _ in range(rounds):
            before = served
            async with engine.connect() as conn:
                overtaken.append(served - before)
                served += 1
                await conn.execute(text("SELECT 1"))
                await asyncio.sleep(0)  # a block that awaits something else while it holds the connection

    await asyncio.gather(*(take_turns() for _ in range(tasks)))
    assert served == tasks * rounds
    assert max(overtaken) < tasks
    await engine.dispose()


async def test_a_connection_is_back_in_the_pool_as_its_block_ends(tmp_path: Path, monkeypatch: Any) -> None:
    """Fifty concurrent reads that never pause share one reader connection (each new one costs six PRAGMAs)."""
    monkeypatch.delenv("THIDUA_SQLITE_THREADS", raising=False)
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/reads.db", pool_size=10)
    opened = []
    event.listen(db.reader.sync_engine, "connect", lambda *_: opened.append(1))

    async def read() -> int:
        async with db.reader.connect() as conn:
            return int(await conn.scalar(text("SELECT 1")))

    assert await asyncio.gather(*(read() for _ in range(50))) == [1] * 50
    assert len(opened) == 1
    assert db.reader.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await db.dispose()


async def test_a_waiter_cancelled_as_it_is_served_passes_the_connection_on(tmp_path: Path) -> None:
    engine = one_connection(tmp_path)
    got: list[str] = []

    async def use(name: str) -> None:
        async with engine.connect() as conn:
            got.append(name)
            await conn.execute(text("SELECT 1"))

    async with engine.connect():
        first, second = asyncio.create_task(use("first")), asyncio.create_task(use("second"))
        await asyncio.sleep(0)
    first.cancel()  # the connection was just handed to it; it has not run since
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 5)
    assert got == ["second"]
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await engine.dispose()


async def test_a_checkout_that_times_out_leaves_the_connection_to_the_next(tmp_path: Path) -> None:
    engine = one_connection(tmp_path, pool_timeout=0.05)
    async with engine.connect():
        with pytest.raises(PoolTimeout, match="QueuePool limit of size 1 overflow 0 reached"):
            await engine.connect()
    async with engine.connect() as conn:  # returned to the pool, not to the waiter that gave up
        assert await conn.scalar(text("SELECT 2")) == 2
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await engine.dispose()


async def test_statements_run_and_a_failed_one_returns_its_connection(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("THIDUA_SQLITE_THREADS", raising=False)
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/rows.db")
    async with db.writer.begin() as conn:
        await conn.execute(text("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
        await conn.execute(text("INSERT INTO t VALUES (:k, :v)"), [{"k": "a", "v": 1}, {"k": "b", "v": 2}])
    with pytest.raises(IntegrityError):
        async with db.writer.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES ('c', 3)"))
            await conn.execute(text("INSERT INTO t VALUES ('a', 9)"))
    async with db.reader.connect() as conn:
        assert (await conn.execute(text("SELECT k, v FROM t ORDER BY k"))).all() == [("a", 1), ("b", 2)]
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
    assert db.writer.sync_engine.pool.checkedout() == db.reader.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await db.dispose()


async def test_threads_on_request_give_aiosqlite_its_worker_thread(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("THIDUA_SQLITE_THREADS", "1")
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/threads.db")
    async with db.reader.connect() as conn:
        assert await conn.scalar(text("SELECT 3")) == 3
        driver = (await conn.get_raw_connection()).driver_connection
        assert type(driver) is aiosqlite.Connection and driver._thread is not None and driver._thread.is_alive()
    await db.dispose()
