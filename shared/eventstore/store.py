"""Append-only event store with optimistic concurrency and group commit.

Concurrent commands do not each pay for a transaction: ``append`` queues the request and one writer task
commits whatever is queued in a single transaction (group commit). Expected versions are checked inside
that transaction while it holds the store's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
transaction lock), so a lost race is reported to exactly the request that lost it. Holding the lock also
makes global positions commit in order, which is what lets the relay read the table as an outbox.

If anything in a batch breaks a database constraint (an inline projection's unique index, say), the batch
is rolled back and its requests are retried one by one, so only the offending request fails.

Idempotency keys expire after ``idempotency_retention`` (the setting ``THIDUA_IDEMPOTENCY_RETENTION``, days):
a key replayed inside the window answers with its stored response, after it the command is new. The writer
prunes expired keys itself, a small batch at a time between group commits (or while idle), by the index on
``created_at``, so the key table holds the window's keys, not the whole history's (issue 12).
"""

import asyncio
import contextlib
import logging
import time
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from opentelemetry import trace
from sqlalchemy import Text, bindparam, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bulk import executemany
from shared.db import Database, driver_errors
from shared.errors import ConcurrencyError, Conflict
from shared.events import Event, EventEnvelope, EventMetadata
from shared.eventstore.guard import check_storable, encoded
from shared.eventstore.idempotency import (
    DELETE_KEY,
    PRUNE_KEYS_PG,
    PRUNE_KEYS_SQLITE,
    IdempotencyRecord,
    IdempotentReplay,
    key_row,
    sqlite_key_params,
    sqlite_keys,
)
from shared.eventstore.schema import events, idempotency_keys
from shared.eventstore.statements import (
    COLUMNS,
    INSERT_EVENTS,
    INSERT_EVENTS_PG,
    PG_LOOKUP,
    event_row,
    sqlite_versions,
)
from shared.ids import time_ordered_id

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("thidua.eventstore")

# Any 64-bit constant: the key of the PostgreSQL advisory lock that serialises appends.
_PG_APPEND_LOCK = 7_411_202_611


@dataclass
class StreamAppend:
    """Events to add to one stream, valid only if the stream is still at ``expected_version``."""

    stream_id: str
    expected_version: int
    envelopes: list[EventEnvelope]

    @classmethod
    def of(
        cls,
        stream_id: str,
        expected_version: int,
        items: Sequence[tuple[Event, EventMetadata]],
    ) -> "StreamAppend":
        now = datetime.now(UTC)
        envelopes = [
            EventEnvelope(
                event_id=time_ordered_id(),
                event_type=ev.event_type,
                schema_version=ev.schema_version,
                stream_id=stream_id,
                version=expected_version + i + 1,
                occurred_at=now,
                data=ev.model_dump(mode="json"),
                metadata=meta,
            )
            for i, (ev, meta) in enumerate(items)
        ]
        return cls(stream_id, expected_version, envelopes)


class InlineProjection(Protocol):
    """A read model the service needs to validate commands; updated in the append's transaction."""

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None: ...


@dataclass(slots=True)
class _Request:
    appends: tuple[StreamAppend, ...]
    idempotency: IdempotencyRecord | None
    rows: list[dict[str, Any]] = field(repr=False)  # the events' rows, in the order of their envelopes
    future: asyncio.Future[list[EventEnvelope]] = field(repr=False)


class EventStore:
    def __init__(
        self,
        db: Database,
        *,
        inline: Sequence[InlineProjection] = (),
        group_commit: bool = True,
        max_batch: int = 500,
        verify_events: bool = True,
        idempotency_retention: timedelta = timedelta(days=7),
        prune_batch: int = 500,
        prune_every: float = 60.0,
        prune_backlog_every: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``verify_events=False`` only for a test that stands in for another service's producer with
        hand-made partial payloads; a service's own store always verifies.

        Expired idempotency keys are pruned by the writer, ``prune_batch`` at a time (a few milliseconds of
        the writer's time): every ``prune_every`` seconds, or every ``prune_backlog_every`` while a batch
        comes back full (a backlog, e.g. after an upgrade: 500 a second clears 1.8 million keys an hour).
        ``clock``: the time keys are stamped with and expire by (the history benchmark runs its own).
        """
        self.db = db
        self.idempotency_retention = idempotency_retention
        self.clock = clock
        self.prune_batch = prune_batch
        self.prune_every = prune_every
        self.prune_backlog_every = prune_backlog_every
        self._prune_at = time.monotonic() + prune_every  # a store's first prune: a while after it starts
        self.verify_events = verify_events
        self.inline = list(inline)
        self.group_commit = group_commit
        self.max_batch = max_batch
        self.committed = asyncio.Event()  # set after each commit; the in-process relay waits on it
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    # -- writing -------------------------------------------------------------------------------

    async def append(self, *appends: StreamAppend, idempotency: IdempotencyRecord | None = None) -> list[EventEnvelope]:
        """Store the events of one command atomically; raises ConcurrencyError or IdempotentReplay.

        Each event is first proven to load back equal (``check_storable``): an event that would not is
        refused with ``UnstorableEvent`` before anything is written, so no stored event fails to load.
        """
        # A span only inside a recorded trace (the command's): an unsampled command pays nothing for it.
        if trace.get_current_span().is_recording():
            with _tracer.start_as_current_span("event store append") as span:
                span.set_attribute("thidua.streams", [a.stream_id for a in appends])
                return await self._append(appends, idempotency)
        return await self._append(appends, idempotency)

    async def _append(
        self, appends: tuple[StreamAppend, ...], idempotency: IdempotencyRecord | None
    ) -> list[EventEnvelope]:
        rows = self._event_rows(appends)
        future: asyncio.Future[list[EventEnvelope]] = asyncio.get_running_loop().create_future()
        request = _Request(appends, idempotency, rows, future)
        if not self.group_commit:
            await self._commit_each([request])
            return await future
        self._queue.put_nowait(request)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="event-store-writer")
        # Not shielded: a cancelled command cancels only its own future, which the writer skips (``done()``).
        return await future

    def _event_rows(self, appends: tuple[StreamAppend, ...]) -> list[dict[str, Any]]:
        """The rows of the command's events, their JSON written once, by the check that proves it loads back."""
        rows: list[dict[str, Any]] = []
        metadata: dict[int, str] = {}  # the events of one command usually share one metadata object
        for append in appends:
            for envelope in append.envelopes:
                if self.verify_events:
                    stored = check_storable(envelope, metadata.get(id(envelope.metadata)))
                    metadata[id(envelope.metadata)] = stored.metadata
                else:
                    stored = encoded(envelope)
                rows.append(event_row(envelope, stored))
        return rows

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def _write_loop(self) -> None:
        failing = False  # during an outage every batch fails alike: its traceback is logged once
        while True:
            batch = [await self._next_request()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_batch(batch)
            except IntegrityError:
                await self._commit_each(batch)
            except Exception as error:  # a broken database: every waiting command learns why
                log.warning(
                    "event store batch of %d commands failed: %s: %s", len(batch), type(error).__name__, error,
                    exc_info=not failing or log.isEnabledFor(logging.DEBUG),
                )  # fmt: skip
                failing = True
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(error)
            else:
                failing = False
            if time.monotonic() >= self._prune_at:  # busy: one small prune between group commits
                await self._prune_step()

    async def _next_request(self) -> _Request:
        """The next command to commit; while none is queued, expired keys are pruned when due."""
        while self._queue.empty():
            wait = self._prune_at - time.monotonic()
            if wait <= 0:
                await self._prune_step()
                continue
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(self._queue.get(), wait)
        return self._queue.get_nowait()

    async def _prune_step(self) -> None:
        """One prune batch; a failure (the database out of reach) waits for the next turn, logged."""
        try:
            pruned = await self.prune_expired_keys()
        except Exception as error:
            log.warning("pruning expired idempotency keys failed: %s: %s", type(error).__name__, error)
            pruned = 0
        full = pruned >= self.prune_batch
        self._prune_at = time.monotonic() + (self.prune_backlog_every if full else self.prune_every)

    def retention_cutoff(self) -> datetime:
        """Keys stored before this instant have expired."""
        return self.clock() - self.idempotency_retention

    async def prune_expired_keys(self, limit: int | None = None) -> int:
        """Delete up to ``limit`` (``prune_batch``) expired idempotency keys, the oldest first, in one short
        transaction found by the ``created_at`` index; returns how many went. The writer calls it; a replay
        never depends on it (an expired key is treated as new whether or not it was pruned yet)."""
        params = {"cutoff": self.retention_cutoff(), "limit": limit or self.prune_batch}
        async with self.db.writer.begin() as conn:
            result = await conn.execute(PRUNE_KEYS_PG if self.db.is_postgres else PRUNE_KEYS_SQLITE, params)
        return result.rowcount

    async def _commit_each(self, batch: list[_Request]) -> None:
        for request in batch:
            try:
                await self._commit_batch([request], read_new_streams=True)
            except IntegrityError as error:
                if not request.future.done():
                    request.future.set_exception(
                        Conflict(
                            "another command changed the same records at the same time; "
                            f"reload and try again ({type(error.orig).__name__})"
                        )
                    )
            except Exception as error:
                if not request.future.done():
                    request.future.set_exception(error)

    async def _commit_batch(self, batch: list[_Request], *, read_new_streams: bool = False) -> None:
        """Commit what of ``batch`` is still valid, in one transaction.

        A stream expected to be new (``expected_version`` 0) is not looked up unless ``read_new_streams``:
        it is new exactly when it has no version 1, which the unique (stream, version) index checks as the
        events go in. If one exists after all (two commands raced to create it), the insert breaks the
        index, the batch is rolled back and ``_commit_each`` retries its commands one by one, each looked up
        in full, so only the loser fails, with its ConcurrencyError. Most commands that start a stream (a
        registration, a pledge, a round's checklist) then pay for no version read at all.
        """
        outcomes: dict[int, list[EventEnvelope] | Exception] = {}
        now = self.clock()
        cutoff = now - self.idempotency_retention
        async with self._locked_transaction() as conn:
            versions, replays = await self._lookup(conn, batch, read_new_streams)
            expired = [ident for ident, record in replays.items() if record.expired(cutoff)]
            for ident in expired:  # stored before the window: the command is new, its key used anew
                del replays[ident]
            accepted: list[EventEnvelope] = []
            accepted_rows: list[dict[str, Any]] = []
            keys_in_batch: set[tuple[str, str]] = set()
            idem_rows: list[dict[str, Any]] = []
            for index, request in enumerate(batch):
                idem = request.idempotency
                if idem is not None:
                    ident = (idem.namespace, idem.key)
                    if ident in replays:
                        outcomes[index] = IdempotentReplay(replays[ident])
                        continue
                    if ident in keys_in_batch:
                        outcomes[index] = Conflict("the same Idempotency-Key is already being processed")
                        continue
                try:
                    self._check_versions(request, versions)
                except ConcurrencyError as error:
                    outcomes[index] = error
                    continue
                for append in request.appends:
                    versions[append.stream_id] = append.expected_version + len(append.envelopes)
                    accepted.extend(append.envelopes)
                accepted_rows.extend(request.rows)
                if idem is not None:
                    keys_in_batch.add((idem.namespace, idem.key))
                    idem_rows.append(key_row(idem, now))
                outcomes[index] = [env for append in request.appends for env in append.envelopes]
            if accepted:
                if self.db.is_postgres:
                    columns = {name: [row[name] for row in accepted_rows] for name in COLUMNS}
                    await conn.execute(INSERT_EVENTS_PG, columns)
                else:
                    await executemany(conn, INSERT_EVENTS, accepted_rows)
                for projection in self.inline:
                    await projection.apply(conn, accepted)
            if idem_rows:
                if expired:  # not pruned yet: the old row goes in this transaction, the new one takes its place
                    gone = [{"namespace": namespace, "key": key} for namespace, key in expired]
                    await conn.execute(DELETE_KEY, gone)
                await conn.execute(insert(idempotency_keys), idem_rows)
        if accepted:
            self.committed.set()
        for index, request in enumerate(batch):
            outcome = outcomes[index]
            if request.future.done():
                continue
            if isinstance(outcome, Exception):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)

    @contextlib.asynccontextmanager
    async def _locked_transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction holding the store's write lock.

        PostgreSQL: BEGIN and the advisory lock go in one round trip (one simple-protocol message) on a
        connection SQLAlchemy leaves in autocommit, so the store says BEGIN and COMMIT itself. A group
        commit is then four round trips: BEGIN with the lock, the look-up, the insert, COMMIT (three when
        it only starts streams and carries no idempotency key: nothing to look up).
        """
        if not self.db.is_postgres:
            async with self.db.writer.begin() as conn:  # SQLite: BEGIN IMMEDIATE is the lock
                yield conn
            return
        async with self.db.writer.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await _simple_query(conn, _PG_BEGIN_LOCKED)
            try:
                yield conn
            except BaseException:
                try:
                    await _simple_query(conn, "ROLLBACK")
                except BaseException:  # the connection is broken or busy: it must not go back to the pool
                    await conn.invalidate()
                raise
            await _simple_query(conn, "COMMIT")

    async def _lookup(
        self, conn: AsyncConnection, batch: list[_Request], read_new_streams: bool
    ) -> tuple[dict[str, int], dict[tuple[str, str], IdempotencyRecord]]:
        """The version of the streams the batch appends to (those expected to be new only if
        ``read_new_streams``), and the stored responses of its keys."""
        stream_ids = sorted(
            {a.stream_id for r in batch for a in r.appends if read_new_streams or a.expected_version != 0}
        )
        wanted = sorted({(r.idempotency.namespace, r.idempotency.key) for r in batch if r.idempotency is not None})
        versions: dict[str, int] = {}
        replays: dict[tuple[str, str], IdempotencyRecord] = {}
        if not stream_ids and not wanted:
            return versions, replays
        if not self.db.is_postgres:
            return await self._current_versions(conn, stream_ids), await self._existing_keys(conn, wanted)
        # Through the driver: SQLAlchemy's rows and parameters cost more than the round trip (jsonb is
        # decoded by the codec SQLAlchemy set on the connection, as its own rows would be).
        namespaces, keys = [namespace for namespace, _ in wanted], [key for _, key in wanted]
        async with driver_errors(conn, PG_LOOKUP) as driver:
            rows = await driver.fetch(PG_LOOKUP, stream_ids, namespaces, keys)
        for name, version, key, request_hash, status_code, response, created_at in rows:
            if key is None:  # a stream's row (its version is None while the stream is empty)
                if version is not None:
                    versions[name] = version
            else:
                replays[(name, key)] = IdempotencyRecord(name, key, request_hash, status_code, response, created_at)
        return versions, replays

    @staticmethod
    def _check_versions(request: _Request, versions: dict[str, int]) -> None:
        for append in request.appends:
            actual = versions.get(append.stream_id, 0)
            if actual != append.expected_version:
                raise ConcurrencyError(
                    f"{append.stream_id} is at version {actual}, not {append.expected_version}: "
                    "someone else changed it first; reload and try again"
                )

    @staticmethod
    async def _current_versions(conn: AsyncConnection, stream_ids: list[str]) -> dict[str, int]:
        """SQLite: the version of each of ``stream_ids``, one index lookup per stream, read through the
        driver (SQLAlchemy renders an IN list's parameters one by one, more than SQLite takes to read them)."""
        found: dict[str, int] = {}
        for start in range(0, len(stream_ids), 500):  # SQLite binds at most 32,766 parameters
            chunk = stream_ids[start : start + 500]
            sql = sqlite_versions(len(chunk))
            async with driver_errors(conn, sql) as driver, driver.execute(sql, chunk) as cursor:
                found.update(await cursor.fetchall())  # (stream_id, version): only a stored stream has a row
        return found

    @staticmethod
    async def _existing_keys(
        conn: AsyncConnection, wanted: list[tuple[str, str]]
    ) -> dict[tuple[str, str], IdempotencyRecord]:
        """SQLite: the stored responses of ``wanted`` idempotency keys, by the primary key (namespace, key)."""
        found: dict[tuple[str, str], IdempotencyRecord] = {}
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            rows = await conn.execute(sqlite_keys(len(chunk)), sqlite_key_params(chunk))
            for row in rows:
                record = IdempotencyRecord(
                    row.namespace, row.key, row.request_hash, row.status_code, row.response, row.created_at
                )
                found[(row.namespace, row.key)] = record
        return found

    # -- reading -------------------------------------------------------------------------------

    async def load(self, stream_id: str) -> list[EventEnvelope]:
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(select(events).where(events.c.stream_id == stream_id).order_by(events.c.version))
            return [envelope_from_row(row) for row in rows]

    async def read_after(self, position: int, limit: int = 500) -> list[EventEnvelope]:
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
            )
            return [envelope_from_row(row) for row in rows]

    async def read_rows_after(self, position: int, limit: int = 500) -> list[Any]:
        """Raw rows past ``position`` (columns ``ROW_COLUMNS``), ``data`` and ``metadata`` as the stored JSON
        text (SQLite's ``occurred_at`` as ISO text): the relay's hot path, which sends the data on as it is
        stored (no decoding, no pydantic model per event)."""
        async with self.db.reader.connect() as conn:
            if self.db.is_postgres:
                return list(await conn.execute(_ROWS_AFTER_PG, {"position": position, "limit": limit}))
            # SQLite: from the driver, each row named once (SQLAlchemy's rows cost more than SQLite's read).
            driver = (await conn.get_raw_connection()).driver_connection
            async with driver.execute(_ROWS_AFTER_SQLITE, (position, limit)) as cursor:
                return list(map(StoredRow._make, await cursor.fetchall()))

    async def last_position(self) -> int:
        async with self.db.reader.connect() as conn:
            return (await conn.scalar(select(func.max(events.c.position)))) or 0

    async def find_idempotent(self, namespace: str, key: str) -> IdempotencyRecord | None:
        """The stored response of a key inside the retention window (an expired one is not found)."""
        async with self.db.reader.connect() as conn:
            row = (
                await conn.execute(
                    select(idempotency_keys).where(
                        idempotency_keys.c.namespace == namespace, idempotency_keys.c.key == key
                    )
                )
            ).first()
        if row is None:
            return None
        record = IdempotencyRecord(
            row.namespace, row.key, row.request_hash, row.status_code, row.response, row.created_at
        )
        return None if record.expired(self.retention_cutoff()) else record


_PG_BEGIN_LOCKED = f"BEGIN; SELECT pg_advisory_xact_lock({_PG_APPEND_LOCK})"


async def _simple_query(conn: AsyncConnection, sql: str) -> None:
    """Run ``sql`` (statements without parameters) in one round trip, as SQLAlchemy would report it failing."""
    async with driver_errors(conn, sql) as driver:
        await driver.execute(sql)


# The relay's read, in this column order (it unpacks rows by position): JSON columns as text, cast by the
# database (the driver would decode a jsonb value itself): PostgreSQL renders its jsonb, SQLite hands back
# the text that was written.
ROW_COLUMNS = (
    "position",
    "stream_id",
    "version",
    "event_id",
    "event_type",
    "schema_version",
    "occurred_at",
    "data",
    "metadata",
)


def _rows_after(occurred_at: Any) -> Any:
    return (
        select(
            *(events.c[name] for name in ROW_COLUMNS[:-3]),
            occurred_at.label("occurred_at"),
            cast(events.c.data, Text).label("data"),
            cast(events.c.metadata, Text).label("metadata"),
        )
        .where(events.c.position > bindparam("position"))
        .order_by(events.c.position)
        .limit(bindparam("limit"))
    )


_ROWS_AFTER_PG = _rows_after(events.c.occurred_at)
# SQLite keeps a naive UTC timestamp as text ("2026-11-30 08:00:00.000000"): read as ISO 8601 text, not
# parsed into a datetime per row (most of the read's cost) only to be written out as text again.
_ROWS_AFTER_SQLITE = (
    "SELECT position, stream_id, version, event_id, event_type, schema_version,"
    " replace(CAST(occurred_at AS TEXT), ' ', 'T') || '+00:00', CAST(data AS TEXT), CAST(metadata AS TEXT)"
    " FROM events WHERE position > ? ORDER BY position LIMIT ?"
)
StoredRow = namedtuple("StoredRow", ROW_COLUMNS)  # type: ignore[misc]  # SQLite's rows for the relay


def envelope_from_row(row: Any) -> EventEnvelope:
    occurred = row.occurred_at
    if occurred.tzinfo is None:  # SQLite hands back naive datetimes
        occurred = occurred.replace(tzinfo=UTC)
    return EventEnvelope(
        event_id=row.event_id,
        event_type=row.event_type,
        schema_version=row.schema_version,
        stream_id=row.stream_id,
        version=row.version,
        occurred_at=occurred,
        data=row.data,
        metadata=EventMetadata.model_validate(row.metadata),
        position=row.position,
    )
