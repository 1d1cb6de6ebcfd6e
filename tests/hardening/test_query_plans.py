"""Every statement on a command's hot path uses an index (issue 8 defect 10): the statements are
captured while real commands run, then explained — SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN``
of the generic plan — and any full scan of a growing table fails the test, naming the statement."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update

from shared.db import open_database
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import idempotency_keys
from shared.eventstore.store import IdempotentReplay
from tests.hardening.plans import capture, postgres_full_scans, sqlite_full_scans
from tests.hardening.test_unloadable_events import META, HardeningMeasured

STREAMS, PER_STREAM = 400, 5


def appended(stream: str, version: int, namespace: str, key: str) -> tuple[StreamAppend, IdempotencyRecord]:
    append = StreamAppend.of(stream, version, [(HardeningMeasured(amount=version), META)])
    return append, IdempotencyRecord(namespace, key, "hash", 201, {"stream": stream})


@pytest.fixture
async def grown(store_url: str) -> AsyncIterator[EventStore]:
    """A store with history: 2,000 events in 400 streams, 2,000 idempotency keys in 40 namespaces."""
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db)
    for version in range(PER_STREAM):
        batch = [appended(f"s-{n}", version, f"user-{n % 40}:POST:/x", f"k-{n}-{version}") for n in range(STREAMS)]
        await asyncio.gather(*(store.append(a, idempotency=i) for a, i in batch))
    if db.is_postgres:
        async with db.writer.begin() as conn:
            await conn.execute(text("ANALYZE"))
    yield store
    await store.close()
    await db.dispose()


async def test_the_event_store_hot_path_uses_indexes(grown: EventStore) -> None:
    store = grown
    async with store.db.writer.begin() as conn:  # a tenth of the keys stored before the retention window
        old = datetime.now(UTC) - store.idempotency_retention - timedelta(hours=1)
        await conn.execute(update(idempotency_keys).where(idempotency_keys.c.key.like("k-%-0")).values(created_at=old))
    with capture(store.db) as captured:
        # A group commit: new streams and existing ones, fresh keys and one retried key.
        commands = [appended(f"s-{n}", PER_STREAM, f"user-{n % 40}:POST:/x", str(uuid.uuid4())) for n in range(20)]
        commands += [appended(f"new-{n}", 0, "user-1:POST:/y", str(uuid.uuid4())) for n in range(20)]
        retried = appended("s-399", PER_STREAM, "user-39:POST:/x", "k-399-1")
        expired = appended("s-398", PER_STREAM, "user-38:POST:/x", "k-398-0")  # a new command: its old row goes
        results = await asyncio.gather(
            *(store.append(a, idempotency=i) for a, i in [*commands, expired, retried]), return_exceptions=True
        )
        assert isinstance(results[-1], IdempotentReplay) and not any(isinstance(r, Exception) for r in results[:-1])
        assert await store.prune_expired_keys(limit=100) == 100  # the writer's prune: oldest expired first
        assert await store.find_idempotent("user-3:POST:/x", "k-3-2") is not None
        assert await store.find_idempotent("user-5:POST:/x", "k-5-0") is None  # expired
        assert len(await store.load("s-7")) == PER_STREAM + 1
        assert await store.read_after(1000, limit=10) and await store.read_rows_after(1000, limit=10)
        assert await store.last_position() > 2000
    assert len(captured.statements) >= 9
    # The statements the store sends to the driver itself are explained too: the versions look-up.
    assert any("max(version)" in s or "max(e.version)" in s for s in captured.statements)
    assert any(s.lstrip().upper().startswith("DELETE FROM IDEMPOTENCY_KEYS WHERE") for s in captured.statements)
    explain = postgres_full_scans if store.db.is_postgres else sqlite_full_scans
    assert await explain(store.db.writer, captured) == []


async def test_the_old_idempotency_lookup_would_have_been_caught(grown: EventStore) -> None:
    """The checker itself: the statement of the defect (``key IN (…)``) is reported as a full scan."""
    from tests.hardening.plans import Captured

    old = Captured()
    if grown.db.is_postgres:
        old.add("SELECT * FROM idempotency_keys WHERE key = ANY($1::VARCHAR[])", (["k-1-1", "k-2-2"],), False)
        assert await postgres_full_scans(grown.db.writer, old) != []
    else:
        old.add("SELECT * FROM idempotency_keys WHERE key IN (?, ?)", ("k-1-1", "k-2-2"), False)
        assert await sqlite_full_scans(grown.db.writer, old) != []
