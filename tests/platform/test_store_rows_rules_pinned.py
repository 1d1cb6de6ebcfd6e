"""The event store's rows and statements, pinned by mutation testing (issue 8): what a stored event's and a
stored key's row hold (UTC timestamps whatever the server's zone), the statements built once at import (the
events' INSERT, the relay's read) checked by building them again, an inline projection's conflict as the
caller reads it, and PostgreSQL's one-round-trip statements reporting a failure as SQLAlchemy would."""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import open_database
from shared.errors import Conflict, UnstorableEvent
from shared.events import EventEnvelope, new_envelope
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.guard import check_storable
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import events, idempotency_keys
from shared.eventstore.statements import event_row, insert_events
from shared.eventstore.store import ROW_COLUMNS, _rows_after, _simple_query
from tests.hardening.test_unloadable_events import META, HardeningMeasured
from tests.platform.helpers import opened_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    async with opened_store(f"sqlite+aiosqlite:///{tmp_path}/store.db") as store:
        yield store


def measured(stream: str, expected: int, amount: float = 1) -> StreamAppend:
    return StreamAppend.of(stream, expected, [(HardeningMeasured(amount=amount), META)])


# -- refusals carry what a client renders them from ----------------------------------------------------


def test_a_refused_event_carries_its_type_field_and_reason_as_parameters() -> None:
    poisoned = new_envelope("p", 1, HardeningMeasured.model_construct(amount=float("inf")), META)
    with pytest.raises(UnstorableEvent) as refused:
        check_storable(poisoned)
    assert refused.value.params == {
        "event_type": "HardeningMeasured",
        "field": "amount",
        "reason": "it does not survive JSON (e.g. NaN or Infinity)",
    }
    assert (refused.value.field, refused.value.code, refused.value.status_code) == ("amount", "event.unstorable", 422)


names_md = MetaData()
names = Table("pinned_names", names_md, Column("name", String(50), primary_key=True))


class UniqueAmounts:
    """An inline projection with a unique index (the directory's sibling-code rule, say)."""

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        for env in envelopes:
            await conn.execute(names.insert().values(name=str(env.data["amount"])))


@pytest.mark.parametrize("group_commit", [True, False])
async def test_an_inline_projections_conflict_is_a_conflict_that_says_reload_and_names_the_constraint(
    tmp_path: Path, group_commit: bool
) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/inline.db")
    await migrate(db)
    async with db.writer.begin() as conn:
        await conn.run_sync(names_md.create_all)
    store = EventStore(db, inline=[UniqueAmounts()], group_commit=group_commit)
    try:
        await store.append(measured("a", 0, amount=7))
        with pytest.raises(Conflict) as conflict:
            await store.append(measured("b", 0, amount=7))
        assert str(conflict.value) == (
            "another command changed the same records at the same time; reload and try again (IntegrityError)"
        )
        assert conflict.value.status_code == 409
        assert [e.stream_id for e in await store.read_after(0)] == ["a"]
    finally:
        await store.close()
        await db.dispose()


# -- what a stored row holds -------------------------------------------------------------------------------


@pytest.fixture
def far_east_clock() -> Iterator[None]:
    """The server's local zone seven hours ahead of UTC (Hà Nội's): stored times must not follow it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Ho_Chi_Minh"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


async def test_an_event_and_a_key_are_stamped_in_utc_whatever_the_servers_zone(
    store: EventStore, far_east_clock: None
) -> None:
    record = IdempotencyRecord("tester:POST:/x", "key-tz", "hash-tz", 201, {"id": "tz"})
    before = datetime.now(UTC)
    (stored,) = await store.append(measured("tz", 0), idempotency=record)
    after = datetime.now(UTC)
    assert stored.occurred_at.utcoffset() == timedelta(0) and before <= stored.occurred_at <= after
    (loaded,) = await store.load("tz")
    assert loaded.occurred_at == stored.occurred_at
    async with store.db.reader.connect() as conn:
        row = (await conn.execute(select(idempotency_keys))).one()
    created = row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    assert (row.namespace, row.key, row.request_hash, row.status_code, row.response) == (
        "tester:POST:/x",
        "key-tz",
        "hash-tz",
        201,
        {"id": "tz"},
    )


async def test_the_events_insert_writes_every_column_as_given_and_the_relay_reads_it_back(store: EventStore) -> None:
    """``INSERT_EVENTS`` is built at import: built again here, so a change to how it is built fails."""
    envelope = StreamAppend.of("ins", 0, [(HardeningMeasured(amount=2.5, label="Sáng kiến"), META)]).envelopes[0]
    envelope = envelope.model_copy(update={"schema_version": 1})
    statement = insert_events()
    async with store.db.writer.begin() as conn:
        await conn.execute(statement, [event_row(envelope, check_storable(envelope))])
    (loaded,) = await store.load("ins")
    assert loaded.model_copy(update={"position": None}) == envelope
    (raw,) = await store.read_rows_after(0)
    assert tuple(raw._fields) == ROW_COLUMNS
    assert datetime.fromisoformat(raw.occurred_at) == envelope.occurred_at
    assert (raw.stream_id, raw.version, raw.event_id, raw.event_type, raw.schema_version) == (
        "ins",
        1,
        envelope.event_id,
        "HardeningMeasured",
        1,
    )
    assert json.loads(raw.data) == envelope.data and json.loads(raw.metadata) == META.model_dump(mode="json")


# -- PostgreSQL: a statement sent in one round trip fails as SQLAlchemy reports a failure ------------------


@pytest.mark.postgres
async def test_on_postgresql_a_failed_round_trip_is_a_dbapi_error_with_its_statement_and_cause(
    postgres_url: str,
) -> None:
    db = open_database(postgres_url)
    try:
        async with db.writer.connect() as conn:
            with pytest.raises(DBAPIError) as failed:
                await _simple_query(conn, "SELECT 1/0")
            assert failed.value.statement == "SELECT 1/0"
            assert type(failed.value.orig).__name__ == "DivisionByZeroError"
            assert failed.value.connection_invalidated is False
            await conn.invalidate()
        async with db.writer.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.close()
            with pytest.raises(DBAPIError) as broken:
                await _simple_query(conn, "COMMIT")
            assert broken.value.connection_invalidated is True  # so it is not handed out again
            await conn.invalidate()
    finally:
        await db.dispose()


# -- on both stores: the group commit's look-up, and a failed transaction leaves nothing ----------------------


@pytest.fixture
async def either(store_url: str) -> AsyncIterator[EventStore]:
    db = open_database(store_url)
    await migrate(db)
    FailingOnce.fail = False
    store = EventStore(db, inline=[FailingOnce()])
    yield store
    await store.close()
    await db.dispose()


class FailingOnce:
    """An inline projection that fails the transaction it is told to, after the events were inserted."""

    fail = False

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        if FailingOnce.fail:
            FailingOnce.fail = False
            raise RuntimeError("the projection broke")


async def test_a_group_commit_finds_each_streams_version_and_each_stored_key_by_its_namespace_and_key(
    either: EventStore,
) -> None:
    alice, bob = "alice:POST:/x", "bob:POST:/x"
    first = IdempotencyRecord(alice, "k-1", "hash-1", 201, {"id": 1})
    second = IdempotencyRecord(bob, "k-2", "hash-2", 200, {"id": 2})
    await either.append(measured("old", 0, 1), idempotency=first)
    await either.append(StreamAppend.of("old", 1, [(HardeningMeasured(amount=2), META)]))
    await either.append(measured("old-2", 0), idempotency=second)
    results = await asyncio.gather(
        either.append(measured("old", 2), idempotency=IdempotencyRecord(alice, "k-2", "h", 201, {})),  # bob's key
        either.append(measured("new", 0), idempotency=IdempotencyRecord(alice, "k-1", "other", 201, {})),
        either.append(measured("old-2", 1), idempotency=IdempotencyRecord(bob, "k-1", "h", 201, {})),  # alice's key
        either.append(measured("new-2", 0), idempotency=second),
        either.append(measured("old", 2)),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == [
        "list",
        "IdempotentReplay",
        "list",
        "IdempotentReplay",
        "ConcurrencyError",
    ]
    assert results[1].record == first and results[3].record == second  # type: ignore[union-attr]
    assert str(results[4]) == "old is at version 3, not 2: someone else changed it first; reload and try again"
    assert [e.version for e in await either.load("old")] == [1, 2, 3]
    assert await either.load("new") == [] and await either.load("new-2") == []


async def test_a_failed_transaction_leaves_nothing_behind_even_once_the_next_one_commits(either: EventStore) -> None:
    FailingOnce.fail = True
    with pytest.raises(RuntimeError, match="the projection broke"):
        await either.append(measured("lost", 0), idempotency=IdempotencyRecord("a:POST:/x", "k", "h", 201, {}))
    await asyncio.gather(*(either.append(measured(f"kept-{n}", 0)) for n in range(3)))
    assert sorted(e.stream_id for e in await either.read_after(0)) == ["kept-0", "kept-1", "kept-2"]
    assert await either.find_idempotent("a:POST:/x", "k") is None


async def test_the_relays_read_selects_row_columns_in_order_as_text_past_a_position_a_page_at_a_time(
    either: EventStore,
) -> None:
    """``_ROWS_AFTER_*`` are built at import: built again here over the stored timestamp column. The first
    event's row is rewritten in place first (PostgreSQL then keeps it after the others, as VACUUM FULL or a
    restore may): the read is in position order, not in the order rows lie on disk."""
    for n in range(4):
        await either.append(measured(f"r-{n % 2}", n // 2, amount=n))
    async with either.db.writer.begin() as conn:
        await conn.execute(text("UPDATE events SET version = version WHERE position <= 2"))
    statement = _rows_after(events.c.occurred_at)
    assert tuple(statement.selected_columns.keys()) == ROW_COLUMNS
    async with either.db.reader.connect() as conn:
        rows = list(await conn.execute(statement, {"position": 0, "limit": 3}))
    assert [(r.position, r.stream_id, r.version) for r in rows] == [(1, "r-0", 1), (2, "r-1", 1), (3, "r-0", 2)]
    assert [json.loads(r.data)["amount"] for r in rows] == [0.0, 1.0, 2.0]
    assert all(json.loads(r.metadata) == META.model_dump(mode="json") for r in rows)
    loaded = await either.read_after(0, limit=3)
    assert [r.occurred_at if r.occurred_at.tzinfo else r.occurred_at.replace(tzinfo=UTC) for r in rows] == [
        e.occurred_at for e in loaded
    ]
    assert [r.event_id for r in rows] == [e.event_id for e in loaded]
    async with either.db.reader.connect() as conn:
        rest = list(await conn.execute(statement, {"position": 2, "limit": 500}))
    assert [r.position for r in rest] == [3, 4]
    # The store's own reads, over the same rows: in position order, and each stream in version order.
    assert [e.position for e in await either.read_after(0)] == [1, 2, 3, 4]
    assert [e.version for e in await either.load("r-0")] == [1, 2]
    relayed = await either.read_rows_after(0)
    assert [r.position for r in relayed] == [1, 2, 3, 4]
    assert [instant(r.occurred_at) for r in relayed] == [e.occurred_at for e in await either.read_after(0)]


def instant(value: datetime | str) -> datetime:
    """The relay's timestamp: ISO text from SQLite, a timestamp from PostgreSQL."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def test_a_stream_loads_in_version_order_when_its_rows_lie_in_another(postgres_url: str) -> None:
    """PostgreSQL reading the table in the order its rows lie (a sequential scan, as a planner may choose),
    with the first event's row rewritten after the second: an aggregate still folds 1, then 2."""
    async with opened_store(postgres_url) as store:
        await store.append(measured("s", 0, amount=1))
        await store.append(measured("s", 1, amount=2))
        async with store.db.writer.begin() as conn:
            await conn.execute(text("UPDATE events SET version = version WHERE stream_id = 's' AND version = 1"))
            for setting in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):  # a sequential scan
                await conn.execute(text(f"ALTER DATABASE {postgres_url.rsplit('/', 1)[1]} SET {setting} = off"))
        await store.db.dispose()  # the next connections take the settings
        async with store.db.reader.connect() as conn:
            on_disk = list(await conn.execute(text("SELECT version FROM events WHERE stream_id = 's'")))
        assert [v for (v,) in on_disk] == [2, 1]  # what a read without ORDER BY would fold
        assert [(e.version, e.data["amount"]) for e in await store.load("s")] == [(1, 1.0), (2, 2.0)]
