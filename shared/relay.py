"""Outbox relay: publishes a service's stored events to JetStream in global order, at least once.

The store's global position is the outbox. The relay reads past its recorded position, publishes with a
bounded number of acks in flight, and records the new position only after every ack. A crash between
publishing and recording republishes the batch; JetStream drops the copies by ``Nats-Msg-Id`` (the event
id) within the stream's duplicate window, so each event lands exactly once.

**One relay per store at a time** (``RelayLease``): every replica of a service runs the relay loop, but
only the holder of the store's lease publishes; the others wait and take over when the holder dies. On
PostgreSQL the lease is a session advisory lock held on a connection of its own, released by the server
when the holder's session ends (a SIGKILLed process's socket closes at once; a silent network loss is
cut by TCP keepalives). The holder records progress *on that same session*, so a replica that lost the
lease cannot record anything (fencing), and it checks the lease before publishing each batch, so it stops
within one batch. On SQLite (one machine) the lease is an exclusive ``flock`` beside the database file.

**The store heals the stream**: the stream is a copy, the store is the record. At start, after a reconnect
and after any failed batch, the relay looks up its service's last event in the stream (by its
``Nats-Msg-Id``, the event id) and compares that event's store position with its recorded position. If the
stream is behind (its tail lost in a power cut before fsync, or the stream deleted and recreated empty), the
relay moves its position back to where the stream ends and republishes from the store. JetStream forgets a
lost message's id when it rebuilds its duplicate table on restart; an operator's purge or message delete
does not make it forget within the duplicate window, so such copies are acked as duplicates (and logged).

Run standalone: ``python -m shared.relay`` (settings from THIDUA_* variables).
"""

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import Database
from shared.events import EventEnvelope
from shared.eventstore.schema import events, outbox
from shared.eventstore.store import EventStore
from shared.messaging import H_MSG_ID, connect, ensure_streams
from shared.relay_acks import BatchAcks
from shared.settings import Settings
from shared.subjects import ROOT, STREAM, event_subject
from shared.telemetry import context_from

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("thidua.relay")

# Fault injection for the crash tests: after publishing a batch and before recording progress, the relay
# touches this file and waits, so a test can SIGKILL it at exactly that point.
_PAUSE_FILE = os.environ.get("THIDUA_RELAY_PAUSE_BEFORE_PROGRESS")


# -- the lease: one publishing relay per store ------------------------------------------------------


class LeaseLost(Exception):
    """The relay no longer holds its store's lease: it must stop publishing and recording at once."""


class RelayLease:
    """Held by at most one relay of a store at a time (the base class: always held, for ``:memory:``)."""

    holder: str = ""

    async def acquire(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> bool:
        """Wait until this process holds the lease (True) or ``stop`` is set (False)."""
        return not stop.is_set()

    async def held(self) -> bool:
        return True

    @property
    def holding(self) -> bool:
        """Whether this process believes it holds the lease (no round trip: for metrics, not for fencing)."""
        return True

    async def record(self, stmt: Any, params: dict[str, Any] | None = None) -> None:
        """Run ``stmt`` (the progress record) only while the lease is held."""
        raise NotImplementedError

    async def release(self) -> None:
        return None


def lease_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for the relay ``name`` (per database, as locks are)."""
    return int.from_bytes(hashlib.blake2b(f"thidua.relay:{name}".encode(), digest_size=8).digest(), "big", signed=True)


class PostgresLease(RelayLease):
    """A session advisory lock on a connection kept for as long as the lease is held."""

    def __init__(self, db: Database, name: str) -> None:
        self.db, self.key = db, lease_key(name)
        self.conn: AsyncConnection | None = None
        self.holder = f"pid {os.getpid()}"

    async def acquire(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> bool:
        while not stop.is_set():
            try:
                conn = await self.db.writer.connect()
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                if await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
                    # A holder cut off without a FIN must not keep the lease for TCP's two idle hours.
                    for setting in (
                        "tcp_keepalives_idle = 5",
                        "tcp_keepalives_interval = 2",
                        "tcp_keepalives_count = 3",
                    ):
                        await conn.execute(text(f"SET {setting}"))
                    self.conn = conn
                    return True
                await conn.close()
            except Exception as error:  # the database is away: keep waiting for it
                log.warning("relay lease: cannot reach the database (%s)", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)
        return False

    @property
    def holding(self) -> bool:
        return self.conn is not None

    async def held(self) -> bool:
        if self.conn is None:
            return False
        try:
            # The lock lives exactly as long as this session: a live session still holds it.
            await asyncio.wait_for(self.conn.scalar(text("SELECT 1")), 5)
            return True
        except Exception as error:
            log.warning("relay lease lost (%s)", error)
            await self.release()
            return False

    async def record(self, stmt: Any, params: dict[str, Any] | None = None) -> None:
        if self.conn is None:
            raise LeaseLost("the relay does not hold the lease")
        try:
            await self.conn.execute(stmt, params)  # on the lease's own session: no session, no write
        except Exception as error:
            await self.release()
            raise LeaseLost(f"the lease's session is gone ({type(error).__name__}: {error})") from error

    async def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}), 2)
            await conn.close()
        except Exception:  # the session is dead already (which released the lock): drop the connection
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()


class FileLease(RelayLease):
    """SQLite: an exclusive ``flock`` on a file beside the database; the kernel drops it with the process."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db, self.path = db, path
        self.fd: int | None = None
        self.holder = f"pid {os.getpid()}"

    async def acquire(self, stop: asyncio.Event, poll_seconds: float = 0.5) -> bool:
        while not stop.is_set():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            return True
        return False

    async def held(self) -> bool:
        return self.fd is not None

    @property
    def holding(self) -> bool:
        return self.fd is not None

    async def record(self, stmt: Any, params: dict[str, Any] | None = None) -> None:
        if self.fd is None:
            raise LeaseLost("the relay does not hold the lease")
        async with self.db.writer.begin() as conn:
            await conn.execute(stmt, params)

    async def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class _Unshared(RelayLease):
    """An in-memory store has one process by nature."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, stmt: Any, params: dict[str, Any] | None = None) -> None:
        async with self.db.writer.begin() as conn:
            await conn.execute(stmt, params)


def relay_lease(db: Database, name: str = "relay") -> RelayLease:
    """The lease that lets one relay named ``name`` publish from ``db``'s store."""
    if db.is_postgres:
        return PostgresLease(db, name)
    database = make_url(db.url).database
    if not database or database == ":memory:":
        return _Unshared(db)
    return FileLease(db, Path(f"{database}.{name}.lease"))


def encode(env: EventEnvelope) -> bytes:
    return orjson.dumps(env.model_dump(mode="json"))


async def relay_backlog(db: Database, name: str = "relay") -> int:
    """Events stored but not yet published by the relay ``name``: the store's last position minus the
    relay's recorded one (two index look-ups, whatever the backlog). Read from the store, so any replica
    can answer it, holder of the lease or not, and a relay that is stuck still shows its backlog. On
    PostgreSQL a rolled-back append leaves a gap in the positions: the figure is then a few too high."""
    last = select(func.max(events.c.position)).scalar_subquery()
    recorded = select(outbox.c.position).where(outbox.c.name == name).scalar_subquery()
    async with db.reader.connect() as conn:
        backlog = await conn.scalar(select(func.coalesce(last, 0) - func.coalesce(recorded, 0)))
    return max(int(backlog or 0), 0)


def _record_statement(dialect_insert: Any) -> Any:
    """The relay's progress, recorded forward only: a slower replica never moves it back."""
    stmt = dialect_insert(outbox).values(
        name=bindparam("name"), position=bindparam("position"), updated_at=bindparam("updated_at")
    )
    return stmt.on_conflict_do_update(
        index_elements=[outbox.c.name],
        set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at},
        where=outbox.c.position < stmt.excluded.position,
    )


_RECORD_PG = _record_statement(pg_insert)
_RECORD_SQLITE = _record_statement(sqlite_insert)


def encode_row(row: Any) -> bytes:
    """The envelope JSON straight from a stored row (``EventStore.read_rows_after``): its data and metadata
    JSON go in as stored, not decoded and encoded again (naive SQLite datetimes are UTC)."""
    position, stream_id, version, event_id, event_type, schema_version, occurred_at, data, metadata = row
    return orjson.dumps(
        {
            "event_id": event_id,
            "event_type": event_type,
            "schema_version": schema_version,
            "stream_id": stream_id,
            "version": version,
            "occurred_at": occurred_at,
            "data": orjson.Fragment(data),
            "metadata": orjson.Fragment(metadata),
            "position": position,
        },
        option=orjson.OPT_NAIVE_UTC,
    )


def _span_context(traceparent: str) -> trace.SpanContext:
    return trace.get_current_span(context_from({"traceparent": traceparent})).get_span_context()


def decode(payload: bytes) -> EventEnvelope:
    return EventEnvelope.model_validate(orjson.loads(payload))


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        js: JetStreamContext,
        service: str,
        *,
        name: str = "relay",
        batch: int = 500,
        max_in_flight: int = 256,
        idle_poll_seconds: float = 0.25,
        ack_timeout: float = 5.0,
        lease: RelayLease | None = None,
        ensure_stream: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.store, self.js, self.service, self.name = store, js, service, name
        self.lease = lease  # None: the caller guarantees it is the only relay (tests, benchmarks)
        self.ensure_stream = ensure_stream  # recreates a deleted stream before it is healed
        self.check_stream = True  # compare the stream with the store before the next batch
        self.healed = 0  # events found missing from the stream and republished
        self.batch, self.max_in_flight, self.idle_poll = batch, max_in_flight, idle_poll_seconds
        self.ack_timeout = ack_timeout
        self.published = 0
        self.last_error: str | None = None
        self._acks: BatchAcks | None = None

    async def position(self) -> int:
        async with self.store.db.reader.connect() as conn:
            return (await conn.scalar(select(outbox.c.position).where(outbox.c.name == self.name))) or 0

    async def _record(self, position: int) -> None:
        stmt = _RECORD_PG if self.store.db.is_postgres else _RECORD_SQLITE
        params = {"name": self.name, "position": position, "updated_at": datetime.now(UTC)}
        if self.lease is not None:
            await self.lease.record(stmt, params)
            return
        async with self.store.db.writer.begin() as conn:
            await conn.execute(stmt, params)

    async def heal(self) -> int:
        """If the stream ends before the recorded position, move the position back to where it ends.

        Returns how many stored events the stream was missing (republished by the next ``publish_pending``).
        """
        if self.ensure_stream is not None:
            await self.ensure_stream()
        recorded = await self.position()
        if recorded == 0:
            return 0
        try:
            last = await self.js.get_last_msg(STREAM, f"{ROOT}.{self.service}.>")
        except NotFoundError:
            await self.js.stream_info(STREAM)  # raises if the stream itself is gone (retried, then healed)
            in_stream = 0
        else:
            event_id = (last.headers or {}).get(H_MSG_ID)
            async with self.store.db.reader.connect() as conn:
                found = await conn.scalar(select(events.c.position).where(events.c.event_id == event_id))
            if found is None:  # another store's event (e.g. a district deployment's): not ours to judge
                log.warning(
                    "relay %s: the stream's last %s event %s is not in this store", self.name, self.service, event_id
                )
                return 0
            in_stream = found
        if in_stream >= recorded:
            return 0
        async with self.store.db.reader.connect() as conn:
            missing = await conn.scalar(
                select(func.count())
                .select_from(events)
                .where(events.c.position > in_stream, events.c.position <= recorded)
            )
        log.warning(
            "relay %s: the stream holds %s's events up to position %d but %d were published; "
            "republishing %d from the store",
            self.name,
            self.service,
            in_stream,
            recorded,
            missing,
        )
        rewind = (
            update(outbox).where(outbox.c.name == self.name).values(position=in_stream, updated_at=datetime.now(UTC))
        )
        if self.lease is not None:
            await self.lease.record(rewind)
        else:
            async with self.store.db.writer.begin() as conn:
                await conn.execute(rewind)
        self.healed += missing or 0
        return missing or 0

    async def publish_pending(self) -> int:
        """Publish everything stored after the recorded position; returns how many were published.

        The next batch is read from the store while the current one is being published and acked.
        """
        total = 0
        rows = await self.store.read_rows_after(await self.position(), self.batch)
        proven = False  # the lease shown held since the last batch (by recording it on the lease's session)
        while rows:
            if self.lease is not None and not proven and not await self.lease.held():
                raise LeaseLost("the relay lost its lease before publishing a batch")
            next_rows = asyncio.create_task(self.store.read_rows_after(rows[-1].position, self.batch))
            try:
                # One span per batch, linked to each event's command trace (a span per event would cost
                # more than the publish); the event's own traceparent travels on in its NATS headers.
                with _tracer.start_as_current_span("relay batch", kind=SpanKind.PRODUCER) as span:
                    metadata = [orjson.loads(row[8]) for row in rows]
                    if span.is_recording():  # links only for a batch that is recorded
                        span.set_attribute("thidua.relay.events", len(rows))
                        for meta in metadata:
                            if meta.get("traceparent"):
                                span.add_link(_span_context(meta["traceparent"]))
                    await self._publish(rows, metadata)
                if _PAUSE_FILE:
                    Path(_PAUSE_FILE).write_text(str(rows[-1].position))  # noqa: ASYNC240 - test hook, tiny write
                    await asyncio.sleep(3600)
                await self._record(rows[-1].position)
                # A record written on the lease's own session proves the lease held, as ``held()`` would: the
                # next batch (read while this one was published) goes without another round trip.
                proven = True
            except BaseException:
                next_rows.cancel()
                raise
            total += len(rows)
            self.published += len(rows)
            rows = await next_rows
        return total

    async def _publish(self, rows: list[Any], metadata: list[dict[str, Any]]) -> None:
        """Publish with at most ``max_in_flight`` unacknowledged messages; return once every one is acked.

        JetStream acks each message to its reply subject. nats-py's ``publish_async`` makes a future, a
        done callback, a random token and a dataclass per message (most of the relay's time); here the
        acks of a batch come to one inbox, ``<inbox>.<batch>.<index>``, and are counted (``BatchAcks``).
        An ack lost with a dropped connection never arrives: if no ack comes for ``ack_timeout``, the
        batch fails and is published again from the recorded position (JetStream drops the copies that
        did land). The deadline is pushed forward by the acks at most once per half ``ack_timeout``, so
        the batch fails after between half and all of ``ack_timeout`` without an ack.
        """
        acks = self._acks
        if acks is None or acks.nc is not self.js._nc:
            acks = self._acks = await BatchAcks.start(self.js._nc)
        prefix = acks.begin(len(rows))
        loop = asyncio.get_running_loop()
        half = self.ack_timeout / 2
        publish = self.js._nc.publish
        async with asyncio.timeout(self.ack_timeout) as deadline:
            pushed = loop.time()
            for index, (row, meta) in enumerate(zip(rows, metadata, strict=True)):
                headers = {H_MSG_ID: row[3]}  # the event id (rows as ``read_rows_after`` orders them)
                # The trace context stored with the event travels on: consumers continue the command's trace.
                if meta.get("traceparent"):
                    headers["traceparent"] = meta["traceparent"]
                    if meta.get("tracestate"):
                        headers["tracestate"] = meta["tracestate"]
                subject = event_subject(self.service, row[4], meta["unit_path"])
                await publish(subject, encode_row(row), reply=f"{prefix}{index}", headers=headers)
                while index + 1 - acks.acked >= self.max_in_flight:
                    await acks.wait()
                    if loop.time() - pushed > half:
                        pushed = loop.time()
                        deadline.reschedule(pushed + self.ack_timeout)
            while acks.acked < len(rows):
                await acks.wait()
                if loop.time() - pushed > half:
                    pushed = loop.time()
                    deadline.reschedule(pushed + self.ack_timeout)
        if acks.error is not None:  # came with the batch's last acks
            raise acks.error

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Publish until stopped; a NATS outage is waited out, with the backlog kept in the store."""
        stop = stop or asyncio.Event()
        backoff = 0.2
        while not stop.is_set():
            try:
                self.store.committed.clear()
                if self.check_stream:
                    await self.heal()
                    self.check_stream = False
                await self.publish_pending()
                self.last_error, backoff = None, 0.2
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.store.committed.wait(), self.idle_poll)
            except (asyncio.CancelledError, LeaseLost):
                raise
            except Exception as error:
                self.check_stream = True  # the stream may be what failed (lost, deleted): check it first
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("relay %s cannot publish yet (%s); retrying in %.1fs", self.name, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)


async def run_supervised(
    store: EventStore, settings: Settings, stop: asyncio.Event, on_start: Callable[[OutboxRelay], None] | None = None
) -> None:
    """Run the relay until ``stop``: wait for the store's lease, then publish while it is held.

    A NATS that is down (at start or later) is waited for; a lost lease sends the relay back to waiting.
    ``on_start`` is told each time this process becomes the publishing relay.
    """
    lease = relay_lease(store.db)
    backoff = 0.5
    current: list[OutboxRelay] = []

    def reconnected() -> None:  # a node that came back may have lost its unsynced tail: check the stream
        for relay in current:
            relay.check_stream = True

    while not stop.is_set():
        try:
            nc, js = await connect(settings.nats_url, f"thidua-{settings.service}-relay", reconnected)
        except Exception as error:
            log.warning("relay cannot reach NATS at %s (%s); retrying", settings.nats_url, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        try:
            await ensure_streams(js, settings)
            waited = time.monotonic()
            if not await lease.acquire(stop, settings.relay_lease_poll_seconds):
                return
            log.info(
                "relay for %s holds the lease (%s) after %.1fs",
                settings.service,
                lease.holder,
                time.monotonic() - waited,
            )
            relay = OutboxRelay(
                store,
                js,
                settings.service,
                batch=settings.relay_batch,
                max_in_flight=settings.relay_max_in_flight,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
                lease=lease,
                ensure_stream=lambda js=js: ensure_streams(js, settings),
            )
            current[:] = [relay]
            if on_start is not None:
                on_start(relay)
            await relay.run(stop)
        except LeaseLost as error:
            log.warning("relay for %s stopped publishing: %s", settings.service, error)
        except Exception as error:
            log.warning("relay stopped (%s); reconnecting", error)
            await asyncio.sleep(backoff)
        finally:
            await lease.release()
            await nc.close()


async def _main() -> None:
    from shared.db import open_database
    from shared.eventstore.migrate import migrate
    from shared.telemetry import setup_telemetry

    settings = Settings()
    setup_telemetry(settings)
    db = open_database(settings.database_url)
    await migrate(db)
    store = EventStore(db)
    started = time.monotonic()
    published: list[OutboxRelay] = []
    try:
        await run_supervised(store, settings, asyncio.Event(), published.append)
    finally:
        log.info("relay published %d events in %.0fs", sum(r.published for r in published), time.monotonic() - started)
        await db.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
