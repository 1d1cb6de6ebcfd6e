"""Idempotency keys expire after the retention window (issue 12), on SQLite and on PostgreSQL: a key replayed
inside the window answers with its stored response, after it the command is new; the writer prunes expired
keys in small batches by the ``created_at`` index, and only expired ones."""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from shared.db import open_database
from shared.events import EventMetadata
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import events, idempotency_keys
from shared.eventstore.store import IdempotentReplay
from shared.settings import Settings
from tests.platform.counting import Counted

META = EventMetadata(actor="tester", unit_path="hn.ntl.fecon")
WEEK = timedelta(days=7)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db, idempotency_retention=WEEK)
    yield store
    await store.close()
    await db.dispose()


def command(stream: str, key: str, n: int, version: int = 0) -> tuple[StreamAppend, IdempotencyRecord]:
    append = StreamAppend.of(stream, version, [(Counted(n=n), META)])
    return append, IdempotencyRecord("alice:POST:/x", key, f"hash-{key}", 201, {"stream": stream, "n": n})


async def stored_days_ago(store: EventStore, key: str, days: float) -> None:
    """Backdate a stored key, as if its command ran ``days`` ago."""
    async with store.db.writer.begin() as conn:
        await conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key == key)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


async def stored_keys(store: EventStore) -> list[str]:
    async with store.db.reader.connect() as conn:
        return sorted(await conn.scalars(select(idempotency_keys.c.key)))


async def event_count(store: EventStore) -> int:
    async with store.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


async def test_a_key_replayed_inside_the_window_answers_with_its_stored_response(store: EventStore) -> None:
    await store.append(*[command("s-1", "k-1", 1)[0]], idempotency=command("s-1", "k-1", 1)[1])
    await stored_days_ago(store, "k-1", 6.9)
    append, record = command("s-2", "k-1", 2)  # another body, the same key: the stored answer comes back
    with pytest.raises(IdempotentReplay) as replay:
        await store.append(append, idempotency=record)
    assert replay.value.record.response == {"stream": "s-1", "n": 1} and replay.value.record.status_code == 201
    found = await store.find_idempotent("alice:POST:/x", "k-1")
    assert found is not None and found.response == {"stream": "s-1", "n": 1}
    assert await event_count(store) == 1


async def test_after_the_window_the_same_key_is_a_new_command(store: EventStore) -> None:
    append, record = command("s-1", "k-1", 1)
    await store.append(append, idempotency=record)
    await stored_days_ago(store, "k-1", 7.1)  # expired, not pruned yet: the look-up ignores it
    assert await store.find_idempotent("alice:POST:/x", "k-1") is None
    append, record = command("s-2", "k-1", 2)
    stored = await store.append(append, idempotency=record)
    assert [e.stream_id for e in stored] == ["s-2"] and await event_count(store) == 2
    found = await store.find_idempotent("alice:POST:/x", "k-1")  # the key now answers for the new command
    assert found is not None and found.response == {"stream": "s-2", "n": 2}
    assert found.created_at is not None and not found.expired(store.retention_cutoff())
    with pytest.raises(IdempotentReplay) as replay:  # and is remembered for a new window
        await store.append(*[command("s-3", "k-1", 3)[0]], idempotency=record)
    assert replay.value.record.response == {"stream": "s-2", "n": 2}


async def test_an_expired_key_and_its_live_twin_in_one_group_commit(store: EventStore) -> None:
    """Two commands with one expired key in one batch: the first is new, the second in flight with it."""
    await store.append(*[command("s-0", "k-1", 0)[0]], idempotency=command("s-0", "k-1", 0)[1])
    await stored_days_ago(store, "k-1", 30)
    first, second = command("s-1", "k-1", 1), command("s-2", "k-1", 2)
    results = await asyncio.gather(
        store.append(first[0], idempotency=first[1]),
        store.append(second[0], idempotency=second[1]),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException)
    assert "already being processed" in str(results[1])
    assert await stored_keys(store) == ["k-1"] and await event_count(store) == 2


async def test_the_prune_removes_only_expired_keys_oldest_first_in_batches(store: EventStore) -> None:
    for n in range(8):
        append, record = command(f"s-{n}", f"k-{n}", n)
        await store.append(append, idempotency=record)
    for n, days in enumerate([400, 30, 9, 7.01, 6.99, 3, 0.5, 0]):
        await stored_days_ago(store, f"k-{n}", days)
    assert await store.prune_expired_keys(limit=3) == 3  # the three oldest
    assert await stored_keys(store) == ["k-3", "k-4", "k-5", "k-6", "k-7"]
    assert await store.prune_expired_keys(limit=3) == 1
    assert await store.prune_expired_keys() == 0
    assert await stored_keys(store) == ["k-4", "k-5", "k-6", "k-7"]
    assert await event_count(store) == 8  # events are never pruned
    with pytest.raises(IdempotentReplay):  # a key kept still replays
        await store.append(*[command("s-9", "k-4", 9)[0]], idempotency=command("s-9", "k-4", 9)[1])


async def test_the_writer_prunes_expired_keys_between_commits_and_while_idle(store_url: str) -> None:
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db, idempotency_retention=WEEK, prune_batch=2, prune_every=0.05, prune_backlog_every=0.01)
    try:
        for n in range(5):
            append, record = command(f"s-{n}", f"k-{n}", n)
            await store.append(append, idempotency=record)
        for n in range(4):
            await stored_days_ago(store, f"k-{n}", 8 + n)
        append, record = command("s-9", "k-9", 9)
        await store.append(append, idempotency=record)  # the writer runs: it prunes when due, busy or idle
        for _ in range(200):
            if await stored_keys(store) == ["k-4", "k-9"]:
                break
            await asyncio.sleep(0.02)
        assert await stored_keys(store) == ["k-4", "k-9"]
    finally:
        await store.close()
        await db.dispose()


async def test_a_failed_prune_is_logged_and_the_writer_goes_on(
    store: EventStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(limit: int | None = None) -> int:
        raise OSError("disk gone")

    monkeypatch.setattr(store, "prune_expired_keys", broken)
    store._prune_at = 0  # due now
    with caplog.at_level(logging.WARNING, logger="shared.eventstore.store"):
        append, record = command("s-1", "k-1", 1)
        await store.append(append, idempotency=record)
        for _ in range(100):
            if "pruning expired idempotency keys failed: OSError: disk gone" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "pruning expired idempotency keys failed: OSError: disk gone" in caplog.text
    append, record = command("s-2", "k-2", 2)
    assert [e.stream_id for e in await store.append(append, idempotency=record)] == ["s-2"]


def test_the_retention_setting_is_whole_days_from_1_to_365(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().idempotency_retention == 7
    monkeypatch.setenv("THIDUA_IDEMPOTENCY_RETENTION", "30")
    assert Settings().idempotency_retention == 30
    for wrong, reason in [("0", "greater than or equal to 1"), ("366", "less than or equal to 365")]:
        monkeypatch.setenv("THIDUA_IDEMPOTENCY_RETENTION", wrong)
        with pytest.raises(ValidationError) as refused:
            Settings()
        (error,) = refused.value.errors()
        assert error["loc"] == ("idempotency_retention",) and reason in error["msg"]


def test_a_service_s_store_keeps_keys_for_the_configured_days(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.service import service_app

    settings = Settings(service="t", database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db", idempotency_retention=2)
    app = service_app(settings, title="t", routers=[], directory_copy=False)
    assert app.state.store.idempotency_retention == timedelta(days=2)
