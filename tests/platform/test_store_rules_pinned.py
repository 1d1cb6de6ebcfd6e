"""The event store's rules, pinned by mutation testing (issue 8): the field a refused event names (the
first value that would not load back), reading the log in position order and in pages, the empty log's
position, the replayed key. Each test fails if its step is removed. SQLite only (the contract on both
stores is in ``test_event_store.py``, the PostgreSQL lock in ``tests/hardening/test_store_rules.py``)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.db import open_database
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.guard import _first_difference
from shared.eventstore.migrate import migrate
from shared.eventstore.store import IdempotentReplay
from tests.hardening.test_unloadable_events import META, HardeningMeasured


@pytest.mark.parametrize(
    ("expected", "actual", "path"),
    [
        ({"a": 1, "b": {"c": 2.5}}, {"a": 1, "b": {"c": None}}, "b.c"),
        ({"a": 1, "extra": 2}, {"a": 1}, "extra"),  # a key the decoded event dropped
        ({"a": 1}, {"a": 1, "added": 2}, "added"),  # a key the decoded event added
        ({"a": {"b": 1}}, {"a": None}, "a"),  # a dict became something else
        ({"rows": [{"a": 1}, {"a": 2}]}, {"rows": [{"a": 1}, {"a": None}]}, "rows.1.a"),
        ({"rows": [1, 2]}, {"rows": [1, 2, 3]}, "rows"),  # lengths differ: the list itself
        ({"rows": [1, 2]}, {"rows": "12"}, "rows"),
        ([1, 2], [1, 3], "1"),
        ({"n": 1}, {"n": 1.0}, "n"),  # equal numbers of another type differ
        ({"n": 1}, {"n": 1}, ""),
    ],
)
def test_a_refused_event_names_the_first_value_that_would_not_load_back(expected: Any, actual: Any, path: str) -> None:
    assert _first_difference(expected, actual) == path


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    await migrate(db)
    store = EventStore(db)
    yield store
    await store.close()
    await db.dispose()


async def test_the_log_is_read_in_position_order_500_at_a_time_from_an_empty_start(store: EventStore) -> None:
    assert await store.last_position() == 0 and await store.read_after(0) == []
    appends = [StreamAppend.of(f"s-{n % 7}", n // 7, [(HardeningMeasured(amount=n), META)]) for n in range(503)]
    for start in range(0, 503, 7):  # stream by stream, so positions interleave the streams
        await asyncio.gather(*(store.append(a) for a in appends[start : start + 7]))
    assert await store.last_position() == 503
    page = await store.read_after(0)
    assert [e.position for e in page] == list(range(1, 501))
    assert [e.position for e in await store.read_after(500)] == [501, 502, 503]
    assert [e.position for e in await store.read_after(10, limit=3)] == [11, 12, 13]


async def test_a_replayed_key_says_which_key_and_carries_the_stored_response(store: EventStore) -> None:
    record = IdempotencyRecord("tester:POST:/x", "key-1", "hash", 201, {"id": "m-1"})
    await store.append(StreamAppend.of("r", 0, [(HardeningMeasured(amount=1), META)]), idempotency=record)
    with pytest.raises(IdempotentReplay) as replay:
        await store.append(StreamAppend.of("r", 1, [(HardeningMeasured(amount=2), META)]), idempotency=record)
    assert str(replay.value) == "key-1" and replay.value.record == record


async def test_the_relays_raw_rows_come_in_position_order_a_page_at_a_time(store: EventStore) -> None:
    for n in range(6):
        await store.append(StreamAppend.of(f"raw-{n % 2}", n // 2, [(HardeningMeasured(amount=n), META)]))
    rows = await store.read_rows_after(1, limit=3)
    assert [(r.position, r.stream_id, r.version) for r in rows] == [(2, "raw-1", 1), (3, "raw-0", 2), (4, "raw-1", 2)]
    assert [r.position for r in await store.read_rows_after(0)] == [1, 2, 3, 4, 5, 6]
    assert [r.position for r in await store.read_rows_after(6)] == []


async def test_a_stored_key_is_found_by_its_namespace_and_its_key(store: EventStore) -> None:
    first = IdempotencyRecord("tester:POST:/x", "key-1", "hash-1", 201, {"id": "m-1"})
    second = IdempotencyRecord("tester:POST:/x", "key-2", "hash-2", 200, {"id": "m-2"})
    for n, record in enumerate([first, second]):
        await store.append(StreamAppend.of(f"k-{n}", 0, [(HardeningMeasured(amount=n), META)]), idempotency=record)
    assert await store.find_idempotent("tester:POST:/x", "key-2") == second
    assert await store.find_idempotent("tester:POST:/x", "key-1") == first
    assert await store.find_idempotent("tester:POST:/x", "key-3") is None
    assert await store.find_idempotent("tester:POST:/y", "key-1") is None


async def test_a_store_that_does_not_verify_still_writes_what_it_was_given(tmp_path: Path) -> None:
    """A test's stand-in for another service's producer: the JSON written is the event's own."""
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/unverified.db")
    await migrate(db)
    store = EventStore(db, verify_events=False)
    try:
        await store.append(StreamAppend.of("u", 0, [(HardeningMeasured(amount=2.5, label="Sáng kiến"), META)]))
        (loaded,) = await store.load("u")
        assert loaded.to_event() == HardeningMeasured(amount=2.5, label="Sáng kiến") and loaded.metadata == META
    finally:
        await store.close()
        await db.dispose()
