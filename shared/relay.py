"""Outbox relay: publishes a service's stored events to JetStream in global order, at least once.

The store's global position is the outbox. The relay reads past its recorded position, publishes with a
bounded number of acks in flight, and records the new position only after every ack. A crash between
publishing and recording republishes the batch; JetStream drops the copies by ``Nats-Msg-Id`` (the event
id) within the stream's duplicate window, so each event lands exactly once.

Run standalone: ``python -m shared.relay`` (settings from THIDUA_* variables).
"""

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared.events import EventEnvelope
from shared.eventstore.schema import outbox
from shared.eventstore.store import EventStore
from shared.messaging import H_MSG_ID, connect, ensure_streams
from shared.settings import Settings
from shared.subjects import STREAM, event_subject
from shared.telemetry import context_from

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("thidua.relay")

# Fault injection for the crash tests: after publishing a batch and before recording progress, the relay
# touches this file and waits, so a test can SIGKILL it at exactly that point.
_PAUSE_FILE = os.environ.get("THIDUA_RELAY_PAUSE_BEFORE_PROGRESS")


def encode(env: EventEnvelope) -> bytes:
    return orjson.dumps(env.model_dump(mode="json"))


def encode_row(row: Any) -> bytes:
    """The envelope JSON straight from a stored row (naive SQLite datetimes are UTC)."""
    return orjson.dumps(
        {
            "event_id": row.event_id,
            "event_type": row.event_type,
            "schema_version": row.schema_version,
            "stream_id": row.stream_id,
            "version": row.version,
            "occurred_at": row.occurred_at,
            "data": row.data,
            "metadata": row.metadata,
            "position": row.position,
        },
        option=orjson.OPT_NAIVE_UTC,
    )


def _link(traceparent: str) -> Link:
    return Link(trace.get_current_span(context_from({"traceparent": traceparent})).get_span_context())


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
    ) -> None:
        self.store, self.js, self.service, self.name = store, js, service, name
        self.batch, self.max_in_flight, self.idle_poll = batch, max_in_flight, idle_poll_seconds
        self.ack_timeout = ack_timeout
        self.published = 0
        self.last_error: str | None = None

    async def position(self) -> int:
        async with self.store.db.reader.connect() as conn:
            return (await conn.scalar(select(outbox.c.position).where(outbox.c.name == self.name))) or 0

    async def _record(self, position: int) -> None:
        dialect_insert = pg_insert if self.store.db.is_postgres else sqlite_insert
        stmt = dialect_insert(outbox).values(name=self.name, position=position, updated_at=datetime.now(UTC))
        stmt = stmt.on_conflict_do_update(
            index_elements=[outbox.c.name],
            set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at},
            where=outbox.c.position < stmt.excluded.position,  # a slower replica never moves it back
        )
        async with self.store.db.writer.begin() as conn:
            await conn.execute(stmt)

    async def publish_pending(self) -> int:
        """Publish everything stored after the recorded position; returns how many were published.

        The next batch is read from the store while the current one is being published and acked.
        """
        total = 0
        rows = await self.store.read_rows_after(await self.position(), self.batch)
        while rows:
            next_rows = asyncio.create_task(self.store.read_rows_after(rows[-1].position, self.batch))
            try:
                # One span per batch, linked to each event's command trace (a span per event would cost
                # more than the publish); the event's own traceparent travels on in its NATS headers.
                links = [_link(row.metadata.get("traceparent")) for row in rows if row.metadata.get("traceparent")]
                with _tracer.start_as_current_span("relay batch", kind=SpanKind.PRODUCER, links=links) as span:
                    span.set_attribute("thidua.relay.events", len(rows))
                    await self._publish(rows)
            except BaseException:
                next_rows.cancel()
                raise
            if _PAUSE_FILE:
                Path(_PAUSE_FILE).write_text(str(rows[-1].position))  # noqa: ASYNC240 - test hook, tiny write
                await asyncio.sleep(3600)
            await self._record(rows[-1].position)
            total += len(rows)
            self.published += len(rows)
            rows = await next_rows
        return total

    async def _publish(self, rows: list[Any]) -> None:
        """Publish with a sliding window of at most ``max_in_flight`` unacknowledged messages.

        An ack lost with a dropped connection never arrives: if no ack comes for ``ack_timeout``, the
        batch fails and is published again from the recorded position (JetStream drops the copies that
        did land). One deadline, pushed forward by each ack, costs less than a timeout per message.
        """
        loop = asyncio.get_running_loop()
        window: deque[asyncio.Future] = deque()
        async with asyncio.timeout(self.ack_timeout) as deadline:
            for row in rows:
                meta = row.metadata
                headers = {H_MSG_ID: row.event_id}
                # The trace context stored with the event travels on: consumers continue the command's trace.
                if meta.get("traceparent"):
                    headers["traceparent"] = meta["traceparent"]
                    if meta.get("tracestate"):
                        headers["tracestate"] = meta["tracestate"]
                subject = event_subject(self.service, row.event_type, meta["unit_path"])
                window.append(await self.js.publish_async(subject, encode_row(row), headers=headers))
                if len(window) >= self.max_in_flight:
                    self._check(await window.popleft())
                    deadline.reschedule(loop.time() + self.ack_timeout)
            while window:
                self._check(await window.popleft())
                deadline.reschedule(loop.time() + self.ack_timeout)

    @staticmethod
    def _check(ack: Any) -> None:
        if ack.stream != STREAM:
            raise RuntimeError(f"event stored in {ack.stream}, expected {STREAM}")

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Publish until stopped; a NATS outage is waited out, with the backlog kept in the store."""
        stop = stop or asyncio.Event()
        backoff = 0.2
        while not stop.is_set():
            try:
                self.store.committed.clear()
                await self.publish_pending()
                self.last_error, backoff = None, 0.2
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.store.committed.wait(), self.idle_poll)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("relay %s cannot publish yet (%s); retrying in %.1fs", self.name, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)


async def run_supervised(
    store: EventStore, settings: Settings, stop: asyncio.Event, on_start: Callable[[OutboxRelay], None] | None = None
) -> None:
    """Run the in-process relay until ``stop``: a NATS that is down (at start or later) is waited for."""
    backoff = 0.5
    while not stop.is_set():
        try:
            nc, js = await connect(settings.nats_url, f"thidua-{settings.service}-relay")
        except Exception as error:
            log.warning("relay cannot reach NATS at %s (%s); retrying", settings.nats_url, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        try:
            await ensure_streams(js, settings)
            relay = OutboxRelay(
                store,
                js,
                settings.service,
                batch=settings.relay_batch,
                max_in_flight=settings.relay_max_in_flight,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
            )
            if on_start is not None:
                on_start(relay)
            await relay.run(stop)
        except Exception as error:
            log.warning("relay stopped (%s); reconnecting", error)
            await asyncio.sleep(backoff)
        finally:
            await nc.close()


async def _main() -> None:
    from shared.db import open_database
    from shared.eventstore.migrate import migrate
    from shared.telemetry import setup_telemetry

    settings = Settings()
    setup_telemetry(settings)
    db = open_database(settings.database_url)
    await migrate(db)
    nc, js = await connect(settings.nats_url, f"thidua-{settings.service}-relay")
    await ensure_streams(js, settings)
    store = EventStore(db)
    relay = OutboxRelay(
        store,
        js,
        settings.service,
        batch=settings.relay_batch,
        max_in_flight=settings.relay_max_in_flight,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
    )
    log.info("relay for %s started at position %d", settings.service, await relay.position())
    started = time.monotonic()
    try:
        await relay.run()
    finally:
        log.info("relay published %d events in %.0fs", relay.published, time.monotonic() - started)
        await nc.close()
        await db.dispose()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
