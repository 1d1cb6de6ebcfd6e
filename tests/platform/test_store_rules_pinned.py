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
