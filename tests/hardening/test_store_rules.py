"""The event store's concurrency steps, each pinned by a test that fails if the step is removed
(mutation testing found them unpinned): the version carried between two appends to one stream in the
same group commit, and PostgreSQL's append lock."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from shared.db import open_database
from shared.errors import ConcurrencyError
from shared.eventstore import EventStore, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.store import _PG_APPEND_LOCK
from tests.hardening.test_unloadable_events import META, HardeningMeasured


def one(stream: str, expected: int, amount: float = 1) -> StreamAppend:
    return StreamAppend.of(stream, expected, [(HardeningMeasured(amount=amount), META)])


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db)
    yield store
    await store.close()
    await db.dispose()


async def test_two_appends_to_one_stream_in_one_group_commit_chain_their_versions(store: EventStore) -> None:
    """Queued together, the second append sees the version the first one leaves, not the stored one."""
    first, second, third = one("s", 0, 1), one("s", 1, 2), one("s", 2, 3)
    results = await asyncio.gather(store.append(first), store.append(second), store.append(third))
    assert [[e.version for e in r] for r in results] == [[1], [2], [3]]
    assert [e.to_event().amount for e in await store.load("s")] == [1, 2, 3]


async def test_two_appends_expecting_the_same_version_in_one_group_commit_one_loses_cleanly(
    store: EventStore,
) -> None:
    """The loser learns it lost the race (ConcurrencyError), and the winner's event is the only one."""
    results = await asyncio.gather(store.append(one("t", 0, 1)), store.append(one("t", 0, 2)), return_exceptions=True)
    assert isinstance(results[0], list) and isinstance(results[1], ConcurrencyError)
    assert "is at version 1, not 0" in str(results[1])
    assert [e.to_event().amount for e in await store.load("t")] == [1]


@pytest.mark.postgres
async def test_on_postgresql_an_append_waits_for_the_stores_write_lock(postgres_url: str) -> None:
    """Two replicas append to one database: the advisory lock serialises their transactions (so
    versions are checked under the lock and positions commit in order). Held elsewhere, it makes an
    append wait; released, the append goes through."""
    db = open_database(postgres_url)
    await migrate(db)
    store = EventStore(db)
    holder = open_database(postgres_url)
    try:
        async with holder.writer.connect() as conn:
            await conn.execute(text("BEGIN"))
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_APPEND_LOCK})
            pending = asyncio.create_task(store.append(one("u", 0)))
            waiting = 0
            for _ in range(200):  # until the append is seen waiting for the lock (it never gives up)
                waiting = await conn.scalar(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                )
                if waiting or pending.done():
                    break
                await asyncio.sleep(0.05)
            assert waiting == 1 and not pending.done()
            await conn.execute(text("COMMIT"))
        assert [e.version for e in await pending] == [1]
    finally:
        await store.close()
        await db.dispose()
        await holder.dispose()
