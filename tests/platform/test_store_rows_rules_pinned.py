"""The event store's rows and statements, pinned by mutation testing (issue 8): what a stored event's and a
stored key's row hold (UTC timestamps whatever the server's zone), the statements built once at import (the
events' INSERT, the relay's read) checked by building them again, an inline projection's conflict as the
caller reads it, and PostgreSQL's one-round-trip statements reporting a failure as SQLAlchemy would."""

import json
import os
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, Text, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import open_database
from shared.errors import Conflict, UnstorableEvent
from shared.events import EventEnvelope, new_envelope
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.guard import check_storable
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import events, idempotency_keys
from shared.eventstore.store import ROW_COLUMNS, _event_row, _insert_events, _rows_after, _simple_query
from tests.hardening.test_unloadable_events import META, HardeningMeasured


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    await migrate(db)
    store = EventStore(db)
    yield store
    await store.close()
    await db.dispose()


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
    """``_INSERT_EVENTS`` is built at import: built again here, so a change to how it is built fails."""
    envelope = StreamAppend.of("ins", 0, [(HardeningMeasured(amount=2.5, label="Sáng kiến"), META)]).envelopes[0]
    envelope = envelope.model_copy(update={"schema_version": 1})
    insert_events = _insert_events(lambda name: bindparam(name, type_=Text))
    async with store.db.writer.begin() as conn:
        await conn.execute(insert_events, [_event_row(envelope, check_storable(envelope))])
    (loaded,) = await store.load("ins")
    assert loaded.model_copy(update={"position": None}) == envelope
    (raw,) = await store.read_rows_after(0)
    assert tuple(raw._mapping) == ROW_COLUMNS
    assert datetime.fromisoformat(raw.occurred_at) == envelope.occurred_at
    assert (raw.stream_id, raw.version, raw.event_id, raw.event_type, raw.schema_version) == (
        "ins",
        1,
        envelope.event_id,
        "HardeningMeasured",
        1,
    )
    assert json.loads(raw.data) == envelope.data and json.loads(raw.metadata) == META.model_dump(mode="json")


async def test_the_relays_read_selects_row_columns_in_order_as_text_past_a_position_a_page_at_a_time(
    store: EventStore,
) -> None:
    """``_ROWS_AFTER_*`` are built at import: built again here over the stored timestamp column."""
    for n in range(4):
        await store.append(measured(f"r-{n % 2}", n // 2, amount=n))
    statement = _rows_after(events.c.occurred_at)
    assert tuple(statement.selected_columns.keys()) == ROW_COLUMNS
    async with store.db.reader.connect() as conn:
        rows = list(await conn.execute(statement, {"position": 1, "limit": 2}))
    assert [(r.position, r.stream_id, r.version) for r in rows] == [(2, "r-1", 1), (3, "r-0", 2)]
    assert [json.loads(r.data)["amount"] for r in rows] == [1.0, 2.0]
    assert all(json.loads(r.metadata) == META.model_dump(mode="json") for r in rows)
    loaded = await store.read_after(1, limit=2)
    assert [r.occurred_at.replace(tzinfo=UTC) for r in rows] == [e.occurred_at for e in loaded]
    assert [r.event_id for r in rows] == [e.event_id for e in loaded]


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
