"""Event store contract: runs on SQLite and on PostgreSQL (the test id names the store)."""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Column, MetaData, String, Table, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import open_database
from shared.errors import ConcurrencyError, Conflict
from shared.events import EventEnvelope, EventMetadata, EventRegistry
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import MIGRATIONS, migrate
from shared.eventstore.schema import events, idempotency_keys
from shared.eventstore.store import IdempotentReplay
from tests.platform.counting import Counted, counted

META = EventMetadata(actor="tester", unit_path="hn.ntl.fecon")


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    db = open_database(store_url)
    await migrate(db)
    await migrate(db)  # migrating twice is a no-op
    store = EventStore(db)
    yield store
    await store.close()
    await db.dispose()


async def count_rows(store: EventStore) -> int:
    async with store.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


async def test_append_and_load_in_version_order(store: EventStore) -> None:
    await store.append(StreamAppend.of("s-1", 0, [(Counted(n=1), META), (Counted(n=2), META)]))
    await store.append(StreamAppend.of("s-1", 2, [(Counted(n=3), META)]))
    loaded = await store.load("s-1")
    assert [e.version for e in loaded] == [1, 2, 3]
    assert [e.to_event().n for e in loaded] == [1, 2, 3]
    assert loaded[0].metadata == META
    assert loaded[0].occurred_at.tzinfo is not None


async def test_concurrent_appends_to_one_stream_exactly_one_wins(store: EventStore) -> None:
    await store.append(counted("hn.ntl.fecon", 0, stream="s-race"))
    attempts = [store.append(counted("hn.ntl.fecon", n, stream="s-race", version=1)) for n in range(1, 21)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 19 and all(isinstance(e, ConcurrencyError) for e in losers)
    assert "someone else changed it first" in str(losers[0])
    assert [e.version for e in await store.load("s-race")] == [1, 2]


async def test_concurrent_appends_without_group_commit_also_have_one_winner(store_url: str) -> None:
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db, group_commit=False)
    await store.append(counted("hn", 0, stream="s-solo"))
    results = await asyncio.gather(
        *[store.append(counted("hn", n, stream="s-solo", version=1)) for n in range(5)], return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert len(await store.load("s-solo")) == 2
    await db.dispose()


async def test_a_command_touching_two_streams_is_all_or_nothing(store: EventStore) -> None:
    await store.append(counted("hn", 0, stream="s-b"))
    with pytest.raises(ConcurrencyError):
        await store.append(
            StreamAppend.of("s-a", 0, [(Counted(n=1), META)]),
            StreamAppend.of("s-b", 0, [(Counted(n=2), META)]),  # s-b is at 1: the whole command fails
        )
    assert await store.load("s-a") == []
    assert await count_rows(store) == 1


async def test_a_lost_race_in_a_batch_fails_only_its_own_command(store: EventStore) -> None:
    batch = [store.append(counted("hn", n, stream=f"s-{n}")) for n in range(50)]
    batch.append(store.append(counted("hn", 99, stream="s-7")))  # races s-7's first append
    results = await asyncio.gather(*batch, return_exceptions=True)
    assert sum(isinstance(r, ConcurrencyError) for r in results) == 1
    assert await count_rows(store) == 50


async def test_read_after_returns_everything_in_global_order(store: EventStore) -> None:
    await asyncio.gather(*[store.append(counted("hn", n, stream=f"g-{n}")) for n in range(120)])
    first = await store.read_after(0, limit=100)
    rest = await store.read_after(first[-1].position or 0, limit=100)
    positions = [e.position for e in first + rest]
    assert len(positions) == 120 and positions == sorted(positions)
    assert await store.last_position() == positions[-1]


async def test_idempotency_key_replays_the_stored_response_and_writes_nothing(store: EventStore) -> None:
    record = IdempotencyRecord("alice:POST:/x", "key-1", "hash", 201, {"id": "s-idem"})
    await store.append(counted("hn", 1, stream="s-idem"), idempotency=record)
    with pytest.raises(IdempotentReplay) as replay:
        await store.append(counted("hn", 1, stream="s-idem-2"), idempotency=record)
    assert replay.value.record.response == {"id": "s-idem"}
    assert replay.value.record.status_code == 201
    assert await count_rows(store) == 1
    assert await store.find_idempotent("alice:POST:/x", "key-1") is not None
    assert await store.find_idempotent("bob:POST:/x", "key-1") is None


async def test_the_same_idempotency_key_in_flight_twice_acts_once(store: EventStore) -> None:
    record = IdempotencyRecord("alice:POST:/x", "key-2", "hash", 200, {"ok": True})
    results = await asyncio.gather(
        store.append(counted("hn", 1, stream="s-k1"), idempotency=record),
        store.append(counted("hn", 2, stream="s-k2"), idempotency=record),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert await count_rows(store) == 1
    async with store.db.reader.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(idempotency_keys)) == 1


inline_md = MetaData()
names = Table("names", inline_md, Column("name", String(50), primary_key=True))


class UniqueNames:
    """An inline projection with a unique index, like the directory's sibling-code rule."""

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        for env in envelopes:
            await conn.execute(names.insert().values(name=f"n{env.data['n']}"))


async def test_an_inline_projection_conflict_fails_only_the_offending_command(store_url: str) -> None:
    db = open_database(store_url)
    await migrate(db)
    async with db.writer.begin() as conn:
        await conn.run_sync(inline_md.create_all)
    store = EventStore(db, inline=[UniqueNames()])
    results = await asyncio.gather(
        *[store.append(counted("hn", n % 10, stream=f"u-{n}")) for n in range(11)], return_exceptions=True
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1  # n=0 and n=10 both want name n0
    assert await count_rows(store) == 10
    async with db.reader.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(names)) == 10
    await store.close()
    await db.dispose()


def test_old_schema_versions_are_upcast_on_read() -> None:
    registry = EventRegistry()

    class Renamed(Counted):
        event_type = "Renamed"
        schema_version = 2
        note: str

    registry.register(Renamed)

    @registry.upcaster("Renamed", 1)
    def _v1_to_v2(data: dict) -> dict:
        return {**data, "note": "(none)"}

    decoded = registry.decode("Renamed", 1, {"n": 4})
    assert decoded == Renamed(n=4, note="(none)")
    with pytest.raises(KeyError):
        registry.decode("Unknown", 1, {})


async def test_a_store_made_before_the_namespace_rename_keeps_its_keys(store_url: str) -> None:
    """A data folder from before migration 0002 upgrades in place: a key stored then still replays."""

    def to_0001(connection: object) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    db = open_database(store_url)
    async with db.writer.begin() as conn:
        await conn.run_sync(to_0001)
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response, created_at) "
                "VALUES ('alice:POST:/x', 'old-key', 'hash', 201, '{\"id\": \"s-old\"}', CURRENT_TIMESTAMP)"
            )
        )
    await migrate(db)
    store = EventStore(db)
    try:
        kept = await store.find_idempotent("alice:POST:/x", "old-key")
        assert kept is not None and (kept.namespace, kept.status_code, kept.response) == (
            "alice:POST:/x",
            201,
            {"id": "s-old"},
        )
    finally:
        await store.close()
        await db.dispose()


async def test_an_outage_logs_one_line_per_failed_batch_and_its_traceback_once(
    tmp_path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/outage.db")
    await migrate(db)
    store = EventStore(db)
    working = store._commit_batch

    async def broken(batch: object) -> None:
        raise OperationalError("INSERT INTO events", {}, Exception("disk I/O error"))

    def logged() -> list[tuple[str, bool]]:
        return [(r.getMessage(), bool(r.exc_info)) for r in caplog.records if r.name == "shared.eventstore.store"]

    try:
        with caplog.at_level(logging.WARNING, logger="shared.eventstore.store"):
            monkeypatch.setattr(store, "_commit_batch", broken)
            for n in range(3):
                with pytest.raises(OperationalError):
                    await store.append(counted("hn.ntl.fecon", n))
            line = "event store batch of 1 commands failed: OperationalError: (builtins.Exception) disk I/O error"
            assert [(message.split("\n")[0], trace) for message, trace in logged()] == [
                (line, True), (line, False), (line, False)
            ]  # fmt: skip
            monkeypatch.setattr(store, "_commit_batch", working)
            await store.append(counted("hn.ntl.fecon", 3))
            monkeypatch.setattr(store, "_commit_batch", broken)
            with pytest.raises(OperationalError):
                await store.append(counted("hn.ntl.fecon", 4))
            assert [trace for _, trace in logged()] == [True, False, False, True]  # a new outage: its traceback
        assert await count_rows(store) == 1
    finally:
        await store.close()
        await db.dispose()
