"""The event store's group commit, pinned by mutation testing (issue 8): how many commands one transaction
holds, what an inline projection is given, what a failure tells each waiting command, a batch of more than
one look-up chunk, the single writer and its end, the commit signal the relay waits on, the append's span,
and the time-ordered event ids. SQLite (the contract on both stores is in ``test_event_store.py``)."""

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import ids
from shared.db import Database, open_database
from shared.errors import ConcurrencyError
from shared.events import EventEnvelope, EventMetadata
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend, guard
from shared.eventstore.migrate import migrate
from shared.eventstore.store import IdempotentReplay
from shared.ids import time_ordered_id
from tests.hardening.test_unloadable_events import META, HardeningMeasured


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    await migrate(db)
    yield db
    await db.dispose()


def measured(stream: str, expected: int, *amounts: float) -> StreamAppend:
    return StreamAppend.of(stream, expected, [(HardeningMeasured(amount=a), META) for a in amounts or (1,)])


@contextlib.asynccontextmanager
async def traced(db: Database, seen: Callable[[str], None]) -> AsyncIterator[None]:
    """Every statement SQLite runs on the store's writer connection, as SQLite runs it (SQLAlchemy's or not)."""
    async with db.writer.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        driver._conn.set_trace_callback(seen)
    try:
        yield
    finally:
        driver._conn.set_trace_callback(None)


class Recorder:
    """An inline projection that records what each transaction gives it, and can be told to fail."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.failure: Exception | None = None

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        if self.failure is not None:
            raise self.failure
        self.batches.append([f"{e.stream_id}@{e.version}" for e in envelopes])


async def test_one_transaction_holds_at_most_max_batch_commands_and_projects_only_the_accepted(db: Database) -> None:
    recorder = Recorder()
    store = EventStore(db, inline=[recorder], max_batch=2)
    try:
        await store.append(measured("taken", 0))
        results = await asyncio.gather(
            *(store.append(measured(f"m-{n}", 0)) for n in range(3)),
            store.append(measured("taken", 0)),  # lost its race: not projected
            store.append(measured("m-4", 0)),
            return_exceptions=True,
        )
        assert isinstance(results[3], ConcurrencyError)
        assert recorder.batches == [["taken@1"], ["m-0@1", "m-1@1"], ["m-2@1"], ["m-4@1"]]
    finally:
        await store.close()


async def test_by_default_a_transaction_holds_500_commands(db: Database) -> None:
    recorder = Recorder()
    store = EventStore(db, inline=[recorder])
    try:
        await asyncio.gather(*(store.append(measured(f"d-{n}", 0)) for n in range(501)))
        assert [len(batch) for batch in recorder.batches] == [500, 1]
        assert len(await store.read_rows_after(0)) == 500  # the relay's page is 500 rows too
    finally:
        await store.close()


async def test_a_group_commit_of_more_than_one_look_up_chunk_finds_every_stream_and_every_key(db: Database) -> None:
    """SQLite looks streams up 500 at a time and keys 400 at a time: the first and the last chunk count."""
    recorder = Recorder()
    store = EventStore(db, max_batch=1000, inline=[recorder])
    try:
        key = {n: IdempotencyRecord("tester:POST:/x", f"k-{n:03}", "hash", 201, {"n": n}) for n in range(501)}
        await asyncio.gather(*(store.append(measured(f"b-{n:03}", 0)) for n in range(501)))  # streams to look up
        for n in (0, 500):  # a version further: the first of the first chunk, the first of the next
            await store.append(measured(f"b-{n:03}", 1))
        for n in (0, 400):  # keys already stored: the same for the keys' chunks
            await store.append(measured(f"pre-{n}", 0), idempotency=key[n])
        looked_up: list[str] = []  # the look-ups of the one transaction: a statement per chunk, no more

        def look_up(statement: str) -> None:  # SQLite's own trace: statements sent through the driver too
            if "GROUP BY stream_id" in statement or "FROM (VALUES" in statement:
                looked_up.append("streams" if "GROUP BY" in statement else "keys")

        # Command n appends to b-n with key k-(n+100): commands 300 and 401 carry the stored keys.
        async with traced(db, look_up):
            results = await asyncio.gather(
                *(
                    store.append(measured(f"b-{n:03}", 2 if n in (0, 500) else 1), idempotency=key[(n + 100) % 501])
                    for n in range(501)
                ),
                return_exceptions=True,
            )
        assert looked_up == ["streams", "streams", "keys", "keys"]  # 500 + 1 streams, 400 + 101 keys
        assert [n for n, r in enumerate(results) if not isinstance(r, list)] == [300, 401]
        assert all(isinstance(results[n], IdempotentReplay) for n in (300, 401))
        assert [r.record for r in (results[300], results[401])] == [key[400], key[0]]  # type: ignore[union-attr]
        assert [e.version for e in await store.load("b-000")] == [1, 2, 3]
        assert [e.version for e in await store.load("b-500")] == [1, 2, 3]
        assert [e.version for e in await store.load("b-001")] == [1, 2]
        assert len(recorder.batches[-1]) == 499  # one transaction: no key was missed and then retried alone
    finally:
        await store.close()


async def test_a_group_commit_of_new_streams_reads_no_version_and_a_stream_that_exists_fails_only_its_command(
    db: Database,
) -> None:
    """A stream expected to be new is proven new by the unique (stream, version) index, not by a read. If it
    exists after all, the batch is retried command by command, each stream read, and only that command
    fails, with the ConcurrencyError a read would have given."""
    recorder = Recorder()
    store = EventStore(db, inline=[recorder])
    statements: list[str] = []
    try:
        await store.append(measured("taken", 0))
        async with traced(db, statements.append):
            await asyncio.gather(*(store.append(measured(f"new-{n}", 0)) for n in range(5)))
        assert recorder.batches[-1] == [f"new-{n}@1" for n in range(5)]
        assert [s for s in statements if s.startswith("INSERT INTO events")]  # the trace saw the batch
        assert not [s for s in statements if "max(version)" in s]  # and no version read
        results = await asyncio.gather(
            store.append(measured("late-0", 0)),
            store.append(measured("taken", 0)),  # created by the first command above
            store.append(measured("late-1", 0)),
            return_exceptions=True,
        )
        assert isinstance(results[1], ConcurrencyError)
        assert str(results[1]) == ("taken is at version 1, not 0: someone else changed it first; reload and try again")
        assert [r[0].stream_id for r in (results[0], results[2])] == ["late-0", "late-1"]  # type: ignore[index]
        assert recorder.batches[-2:] == [["late-0@1"], ["late-1@1"]]  # the retry, a command at a time
        assert [e.version for e in await store.load("taken")] == [1]
    finally:
        await store.close()


async def test_a_command_of_two_events_leaves_its_stream_two_versions_on_for_the_next_in_the_same_commit(
    db: Database,
) -> None:
    store = EventStore(db)
    try:
        first, second, stale = await asyncio.gather(
            store.append(measured("two", 0, 1, 2)),
            store.append(measured("two", 2, 3)),
            store.append(measured("two", 1, 9)),
            return_exceptions=True,
        )
        assert [e.version for e in first] == [1, 2] and [e.version for e in second] == [3]  # type: ignore[union-attr]
        assert str(stale) == "two is at version 3, not 1: someone else changed it first; reload and try again"
    finally:
        await store.close()


async def test_a_command_on_two_streams_gets_back_every_event_in_the_order_given(db: Database) -> None:
    store = EventStore(db)
    try:
        stored = await store.append(measured("x", 0, 1, 2), measured("y", 0, 3))
        assert [(e.stream_id, e.version, e.data["amount"]) for e in stored] == [("x", 1, 1), ("x", 2, 2), ("y", 1, 3)]
        assert [e.event_id for e in stored] == [e.event_id for e in await store.read_after(0)]
    finally:
        await store.close()


async def test_each_event_of_a_command_keeps_its_own_metadata(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked once per metadata object the command's events share (META twice, ``other`` once)."""
    other = EventMetadata(actor="someone-else", unit_path="hn.dd")
    checked: list[str] = []
    check = guard.storable_metadata

    def counting(envelope: EventEnvelope) -> str:
        checked.append(envelope.metadata.actor)
        return check(envelope)

    monkeypatch.setattr(guard, "storable_metadata", counting)
    store = EventStore(db)
    try:
        append = StreamAppend.of("meta", 0, [(HardeningMeasured(amount=1), META), (HardeningMeasured(amount=2), other)])
        await store.append(append, measured("meta-2", 0))
        assert checked == [META.actor, "someone-else"]
        assert [e.metadata for e in await store.load("meta")] == [META, other]
        assert [e.metadata for e in await store.load("meta-2")] == [META]
    finally:
        await store.close()


# -- failures ------------------------------------------------------------------------------------------------


async def test_a_broken_transaction_tells_every_command_of_the_batch_why_and_the_writer_goes_on(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    store = EventStore(db, inline=[recorder])
    try:
        recorder.failure = RuntimeError("the disk is full")
        with caplog.at_level(logging.WARNING, logger="shared.eventstore.store"):
            appends = (store.append(measured(f"f-{n}", 0)) for n in range(3))
            results = await asyncio.gather(*appends, return_exceptions=True)
            again = await asyncio.gather(store.append(measured("f-0", 0)), return_exceptions=True)
        assert [str(r) for r in results] == ["the disk is full"] * 3 and all(r is recorder.failure for r in results)
        assert again == [recorder.failure]
        first, second = [r for r in caplog.records if r.name == "shared.eventstore.store"]
        assert first.getMessage() == "event store batch of 3 commands failed: RuntimeError: the disk is full"
        assert second.getMessage() == "event store batch of 1 commands failed: RuntimeError: the disk is full"
        assert first.exc_info and not second.exc_info  # during an outage the traceback is logged once
        assert await store.read_after(0) == []
        recorder.failure = None
        assert [e.version for e in await store.append(measured("f-0", 0))] == [1]
    finally:
        await store.close()


async def test_without_group_commit_a_failing_transaction_tells_its_command(db: Database) -> None:
    recorder = Recorder()
    store = EventStore(db, inline=[recorder], group_commit=False)
    try:
        recorder.failure = RuntimeError("the disk is full")
        with pytest.raises(RuntimeError, match="the disk is full"):
            await store.append(measured("g", 0))
        recorder.failure = None
        await store.append(measured("g", 0))
        assert recorder.batches == [["g@1"]] and store._writer is None  # committed by the caller itself
    finally:
        await store.close()


# -- pruning expired idempotency keys ----------------------------------------------------------------------


async def test_a_full_prune_batch_prunes_again_soon_a_partial_or_failed_one_waits_for_the_next_turn(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The prune's cadence: a batch that came back full (``>=`` the batch size) is a backlog, pruned again
    after ``prune_backlog_every``; a partial batch, or a prune that failed, waits ``prune_every``."""
    month_ago = datetime.now(UTC) - timedelta(days=30)
    stamping = EventStore(db, clock=lambda: month_ago)  # the keys' commands ran a month ago: all expired
    try:
        for n in range(3):
            record = IdempotencyRecord("a:POST:/x", f"k-{n}", "h", 201, {})
            await stamping.append(measured(f"p-{n}", 0), idempotency=record)
    finally:
        await stamping.close()
    store = EventStore(db, prune_batch=2, prune_every=3600.0, prune_backlog_every=0.5)
    assert store._prune_at - time.monotonic() > 3590  # a new store's first prune: prune_every after it starts

    async def step() -> float:
        before = time.monotonic()
        await store._prune_step()
        return store._prune_at - before

    assert 0.5 <= await step() < 10  # two of three pruned: exactly a full batch, a backlog
    assert 3600 <= await step() < 3610  # the last one: a partial batch
    assert 3600 <= await step() < 3610  # nothing left

    async def unreachable(limit: int | None = None) -> int:
        raise RuntimeError("the database is out of reach")

    store.prune_batch = 1  # a failure counts as nothing pruned, not as a full batch of one
    store.prune_expired_keys = unreachable  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="shared.eventstore.store"):
        assert 3600 <= await step() < 3610
    (logged,) = [r for r in caplog.records if r.name == "shared.eventstore.store"]
    assert logged.getMessage() == "pruning expired idempotency keys failed: RuntimeError: the database is out of reach"


# -- the writer and the commit signal ----------------------------------------------------------------------


def writers() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "event-store-writer" and not t.done()]


async def test_one_writer_commits_every_command_and_close_ends_it(db: Database) -> None:
    store = EventStore(db)
    await store.append(measured("w", 0))
    await store.append(measured("w", 1))
    await asyncio.gather(*(store.append(measured(f"w-{n}", 0)) for n in range(3)))
    assert len(writers()) == 1
    await store.close()
    assert writers() == [] and store._writer is None
    await store.close()  # closing twice is fine


async def test_the_commit_signal_is_raised_only_by_a_commit_that_stored_something(db: Database) -> None:
    store = EventStore(db)
    try:
        assert not store.committed.is_set()
        await store.append(measured("c", 0))
        assert store.committed.is_set()
        store.committed.clear()
        with pytest.raises(ConcurrencyError):
            await store.append(measured("c", 0))
        assert not store.committed.is_set()
    finally:
        await store.close()


# -- the append's span ----------------------------------------------------------------------------------------

_spans = InMemorySpanExporter()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """This process's spans, in memory (the provider is process-wide: installed once, as test_tracing does)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    if not getattr(provider, "_store_rules_exporter", False):
        provider.add_span_processor(SimpleSpanProcessor(_spans))
        provider._store_rules_exporter = True  # type: ignore[attr-defined]
    _spans.clear()
    return _spans


async def test_an_append_inside_a_recorded_trace_is_a_span_naming_its_streams_and_outside_none(
    db: Database, spans: InMemorySpanExporter
) -> None:
    store = EventStore(db)
    try:
        await store.append(measured("quiet", 0))
        assert [s.name for s in spans.get_finished_spans()] == []
        key = IdempotencyRecord("tester:POST:/x", "traced", "hash", 201, {"id": "p"})
        with trace.get_tracer("test").start_as_current_span("command") as command:
            await store.append(measured("p", 0), measured("q", 0), idempotency=key)
        with pytest.raises(IdempotentReplay):  # the key went with the traced append
            await store.append(measured("p", 1), idempotency=key)
        (append,) = [s for s in spans.get_finished_spans() if s.name == "event store append"]
        assert append.attributes == {"thidua.streams": ("p", "q")}
        assert append.parent is not None and append.parent.span_id == command.get_span_context().span_id
    finally:
        await store.close()


# -- event ids ---------------------------------------------------------------------------------------------------


def test_an_event_id_is_a_version_7_uuid_milliseconds_first_then_74_random_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    millis = 1_764_495_000_123
    bits = int.from_bytes(bytes(range(0xA1, 0xAB)), "big") >> 6  # 74 bits: 12 after the version, 62 after
    monkeypatch.setattr(time, "time_ns", lambda: millis * 1_000_000 + 999_999)
    monkeypatch.setattr(ids, "_random_74", lambda: bits)
    expected = f"{millis:012x}7{bits >> 62:03x}{(0b10 << 62) | (bits & ((1 << 62) - 1)):016x}"
    made = uuid.UUID(time_ordered_id())
    assert made.hex == expected and str(made) == time_ordered_id()  # the canonical text, lower case
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    monkeypatch.setattr(ids, "_random_74", lambda: (1 << 74) - 1)  # every random bit set: none spills over
    assert uuid.UUID(time_ordered_id()).hex == f"{millis:012x}7fffbfffffffffffffff"


def test_event_ids_sort_by_the_millisecond_they_were_made_in(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([5_000_000_000, 5_001_000_000])
    randoms = iter([(1 << 74) - 1, 0])  # the later id has the smaller random part
    monkeypatch.setattr(time, "time_ns", lambda: next(clock))
    monkeypatch.setattr(ids, "_random_74", lambda: next(randoms))
    earlier, later = time_ordered_id(), time_ordered_id()
    assert earlier < later and uuid.UUID(earlier).int >> 80 == 5_000 and uuid.UUID(later).int >> 80 == 5_001


def test_the_random_bits_are_read_from_the_os_for_256_ids_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = os.urandom

    def urandom(n: int) -> bytes:
        reads.append(n)
        return real(n)

    monkeypatch.setattr(os, "urandom", urandom)
    ids._spare.clear()
    made = [time_ordered_id() for _ in range(257)]
    assert reads == [2560, 2560]  # one system call per 256 ids, ten bytes each
    assert len(set(made)) == 257


def test_a_forked_worker_does_not_reuse_the_random_bits_its_parent_kept() -> None:
    time_ordered_id()  # the parent holds spare bits now
    assert ids._spare
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child says how many spare bits it inherited, then leaves at once
        os.write(write, str(len(ids._spare)).encode())
        os._exit(0)
    os.close(write)
    inherited = os.read(read, 16)
    os.close(read)
    os.waitpid(child, 0)
    assert inherited == b"0" and ids._spare


async def test_a_version_look_up_that_fails_is_sqlalchemys_error_naming_its_statement(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The versions are read past SQLAlchemy (``driver_errors``): a failure still reaches the command as a
    ``DBAPIError`` with its statement (a lost database answers 503, not 500), and nothing is written."""
    from shared.eventstore import store as store_module

    store = EventStore(db)
    try:
        await store.append(measured("known", 0))
        broken = "SELECT stream_id, max(version) FROM no_such_table WHERE stream_id IN (?) GROUP BY stream_id"
        monkeypatch.setattr(store_module, "sqlite_versions", lambda count: broken)
        with pytest.raises(OperationalError) as failed:
            await store.append(measured("known", 1))
        assert failed.value.statement == broken
        assert str(failed.value.orig) == "no such table: no_such_table"
        assert [e.version for e in await store.load("known")] == [1]
    finally:
        await store.close()


async def test_on_postgresql_a_look_up_that_fails_is_sqlalchemys_error_naming_its_statement(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.eventstore import store as store_module

    db = open_database(postgres_url)
    await migrate(db)
    store = EventStore(db)
    try:
        await store.append(measured("known", 0))
        broken = "SELECT $1::varchar[], $2::varchar[], $3::varchar[] FROM no_such_table"
        monkeypatch.setattr(store_module, "PG_LOOKUP", broken)
        with pytest.raises(DBAPIError) as failed:
            await store.append(measured("known", 1))
        assert failed.value.statement == broken
        assert type(failed.value.orig).__name__ == "UndefinedTableError"
        assert [e.version for e in await store.load("known")] == [1]
    finally:
        await store.close()
        await db.dispose()
