"""The projection runner: keeps one level's read model from a durable JetStream pull consumer.

One durable consumer per (projection, level), filtered to the level's subtree and its ancestors' own
subjects, created or updated explicitly at start. A fetched batch is applied in stream order in one
database transaction that also records the last applied stream sequence (the read model's checkpoint);
only then is it acked. A redelivered message at or below that sequence is acked without applying
(exactly-once effect). The checkpoint is the truth: a consumer whose position differs from it (a level
database dropped or restored, a crash between commit and ack) is recreated to deliver from it, so a
level with no checkpoint replays from the start by itself, and says so in ``health`` until caught up.
Batches are pulled by the runner's own requests (``Puller``): what is there at once, or the first event
to come.

Each message is decoded into its typed event (``contracts.<producer>``) only if the projection handles
its type, and handed to the method registered for it (``shared.projection``). For a level projection
that follows the directory, the runner owns the level's units (``shared.membership``): it delivers only
events of units the level holds, back-fills a unit's history when it joins, and tells the projection
once when units leave.

A message whose handler fails is nak'ed with a delay (and the rest of its batch with it, to keep order);
after ``max_deliver`` failed attempts it is published to the dead-letter stream with its error, recorded
as consumed, and the runner moves on.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import DEFAULT_PREFIX, AckPolicy, ConsumerConfig, DeliverPolicy, StatusCode
from nats.js.api import Header as JsHeader
from nats.js.errors import APIError, NotFoundError
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import Database
from shared.membership import Membership
from shared.membership import metadata as membership_metadata
from shared.projection import Context, Message, Projection
from shared.settings import Settings
from shared.subjects import (
    DLQ_ROOT,
    ROOT,
    STREAM,
    ancestors,
    in_subtree,
    level_filters,
    path_of_subject,
    subtree_filters,
)
from shared.telemetry import context_from

log = logging.getLogger(__name__)
STATUS = JsHeader.STATUS
_tracer = trace.get_tracer("thidua.projections")

checkpoint_metadata = MetaData()
checkpoints = Table(
    "level_checkpoints",
    checkpoint_metadata,
    Column("projection", String(100), primary_key=True),
    Column("level", String(400), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _record_statement(dialect_insert: Any) -> Any:
    """The checkpoint upsert, built once (its parameters per batch)."""
    stmt = dialect_insert(checkpoints).values(
        projection=bindparam("projection"), level=bindparam("level"),
        last_sequence=bindparam("sequence"), updated_at=bindparam("at"),
    )  # fmt: skip
    return stmt.on_conflict_do_update(
        index_elements=[checkpoints.c.projection, checkpoints.c.level],
        set_={"last_sequence": stmt.excluded.last_sequence, "updated_at": stmt.excluded.updated_at},
    )


_RECORD = {True: _record_statement(pg_insert), False: _record_statement(sqlite_insert)}


def consumer_name(projection: str, level: str) -> str:
    return f"{projection}__{level.replace('.', '_').replace('*', 'all')}"


def outermost(paths: Sequence[str]) -> list[str]:
    """Drop paths inside another listed path: their subtree comes with it (and filters must not overlap)."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(in_subtree(path, other) for other in kept):
            kept.append(path)
    return kept


def stream_sequence(msg: Msg) -> int:
    """The message's stream sequence, read from its reply subject alone (nats-py's ``metadata`` also
    builds a timestamp and the rest, several times the cost, for every message of a replay)."""
    if msg._metadata is not None:
        return msg._metadata.sequence.stream
    tokens = msg.reply.split(".")  # $JS.ACK[.<domain>.<account>].<stream>.<consumer>.<delivered>.<sseq>...
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


def once_in_stream_order(msgs: list[Msg]) -> list[Msg]:
    """The batch in stream order, each stream sequence once. A redelivery can come among new messages, and
    with the delivery it repeats: one the puller kept after its fetch gave up waiting, redelivered when the
    ack wait ran out. Of two deliveries the later is kept, so that acking it (AckPolicy.ALL) covers both.
    (Applying itself never takes a sequence twice: ``_apply_batch``; a relay test once counted 51
    applications of 50 events.)"""
    sequences = [stream_sequence(msg) for msg in msgs]
    if all(a < b for a, b in itertools.pairwise(sequences)):  # the common case: nothing to sort or drop
        return msgs
    latest: dict[int, Msg] = {}
    for seq, msg in sorted(zip(sequences, msgs, strict=True), key=lambda p: (p[0], p[1].metadata.sequence.consumer)):
        latest[seq] = msg  # ascending stream sequence, the latest delivery of each
    return list(latest.values())


def to_message(msg: Msg, sequence: int | None = None) -> Message:
    """The envelope's JSON decoded; its model is validated only if a handler reads it (``Message``)."""
    body = orjson.loads(msg.data)
    if not isinstance(body, dict):
        raise ValueError(f"{msg.subject}: the message is not an event envelope")
    sequence = stream_sequence(msg) if sequence is None else sequence
    return Message(msg.subject, sequence, path_of_subject(msg.subject), body=body)


class Puller:
    """Pull requests to one durable consumer, answered into an inbox of its own.

    nats-py's ``fetch`` costs a task, a timer and a uuid per message (a third of a replay's time). This
    asks for what is there now (``no_wait``); only if nothing is, it waits for one message, then asks
    again for what came with it.
    No request outlives the fetch that made it (a ``no_wait`` request ends with the messages there, a
    wait for one with that message): nothing is delivered to an inbox nobody reads once it is dropped,
    so acking a later batch (AckPolicy.ALL) never covers a message that was not applied.
    """

    def __init__(self, js: JetStreamContext, durable: str, stream: str = STREAM) -> None:
        self.nc = js._nc  # the connection the JetStream context speaks through
        self.subject = f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.queue: deque[Msg] = deque()
        self.arrived = asyncio.Event()
        self.inbox = ""
        self._sub: Any = None

    async def start(self) -> None:
        self.inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self.inbox, cb=self._received)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()
        self.queue.clear()

    async def _received(self, msg: Msg) -> None:
        self.queue.append(msg)
        self.arrived.set()

    async def fetch(self, batch: int, wait: float) -> list[Msg]:
        """Up to ``batch`` messages in delivery order; waits up to ``wait`` seconds for the first one."""
        msgs: list[Msg] = []
        while self.queue and len(msgs) < batch:  # came after an earlier fetch gave up waiting
            msg = self.queue.popleft()
            if not (msg.headers and STATUS in msg.headers):
                msgs.append(msg)
        if len(msgs) < batch:
            await self._request(msgs, {"batch": batch - len(msgs), "no_wait": True}, 5.0)
        if not msgs:
            expires = max(wait - 0.05, 0.01)  # ends on the server before the wait here does
            await self._request(msgs, {"batch": 1, "expires": int(expires * 1e9)}, wait + 0.5)
            if msgs:  # and what came with it (redeliveries come back together: the batch is sorted)
                await self._request(msgs, {"batch": batch - 1, "no_wait": True}, 5.0)
        return msgs

    async def _request(self, msgs: list[Msg], request: dict[str, Any], patience: float) -> None:
        """Send one pull request and take what it delivers into ``msgs``, until it ends."""
        wanted = len(msgs) + request["batch"]
        await self.nc.publish(self.subject, orjson.dumps(request), reply=self.inbox)
        until = time.monotonic() + patience
        while len(msgs) < wanted:
            while not self.queue:
                if self.nc.is_closed:
                    raise ConnectionError("the NATS connection is closed")
                self.arrived.clear()
                remaining = until - time.monotonic()
                if remaining <= 0:
                    return  # NATS did not answer (a reconnect): what it delivers later waits in the queue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), remaining)
            msg = self.queue.popleft()
            status = msg.headers.get(STATUS) if msg.headers else None
            if status is None:
                msgs.append(msg)
            elif status == StatusCode.CONTROL_MESSAGE:
                continue
            elif status in (StatusCode.NO_MESSAGES, StatusCode.REQUEST_TIMEOUT) or msgs:
                return  # the request ended with fewer messages than asked for
            else:
                raise APIError.from_msg(msg)  # the consumer was deleted, or the server refused the request


class ProjectionRunner:
    def __init__(
        self,
        projection: Projection,
        level: str,
        db: Database,
        js: JetStreamContext,
        settings: Settings,
        *,
        durable: str | None = None,
    ) -> None:
        self.projection, self.level, self.db, self.js, self.settings = projection, level, db, js, settings
        self.durable = durable or consumer_name(projection.name, level)
        # nats-server delivers much more slowly to a consumer with many filter subjects: a projection
        # of several services filters on any service and skips the others' events here instead.
        self.services = frozenset(projection.services)
        self.service_filter = projection.services[0] if len(projection.services) == 1 else "*"
        # Even two filter subjects cost nats-server several times the delivery rate of one on a long
        # replay. A root level sees everything below it, so it takes one filter and skips other roots'
        # events here; a lower level keeps its precise filters (its live rate is far lower).
        self.root = not ancestors(level) and level != "*"
        self.filters = [f"{ROOT}.{self.service_filter}.>"] if self.root else level_filters(level, self.service_filter)
        follows_directory = "directory" in self.services and level != "*"
        self.membership = Membership(level, projection, self._history) if follows_directory else None
        self._sub: Any = None  # bound: the Puller (a subclass may bind nats-py's own subscription)
        self._puller: Puller | None = None  # the last one made (a subclass may drop _sub without stopping it)
        self._applied_to = -1  # the checkpoint the in-memory caches (membership, projection) reflect
        self.applied = 0
        self.dead_lettered = 0
        self.pending = 0  # messages the server still holds for this consumer, as last reported
        self.caught_up = False
        self.last_fetch_ok: float = 0.0
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def _metadatas(self) -> list[MetaData]:
        return [self.projection.metadata, *([membership_metadata] if self.membership else [])]

    async def start(self) -> None:
        # Replicas starting together on PostgreSQL would race on CREATE TABLE (a unique violation in
        # pg_type); the start-up lock lets the second find the tables made.
        async with self.db.startup_lock(), self.db.writer.begin() as conn:
            await conn.run_sync(checkpoint_metadata.create_all)
            for metadata in self._metadatas():
                await conn.run_sync(metadata.create_all)
        await self._ensure_consumer()

    def _config(self, start_after: int) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subjects=self.filters,
            # Batches are applied in order, so acking a batch's last message acks the batch (one round trip).
            ack_policy=AckPolicy.ALL,
            # The server's bound is a backstop for messages held back behind a failing one; the runner
            # dead-letters a message after settings.projection_max_deliver failures of its own.
            max_deliver=max(self.settings.projection_max_deliver * 20, 100),
            ack_wait=self.settings.projection_ack_wait_seconds,
            # One batch in flight at a time, across replicas too: batches are applied in stream order.
            max_ack_pending=self.settings.projection_batch,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_after else DeliverPolicy.ALL,
            opt_start_seq=start_after + 1 if start_after else None,
        )

    async def _ensure_consumer(self) -> None:
        """Create the durable consumer at the checkpoint, or keep it if it stands exactly there.

        It is recreated at the checkpoint when its filters changed, when it still holds unacked
        deliveries (a previous incarnation died mid-batch: newer messages must not overtake that batch),
        or when its acknowledged position is not the checkpoint (the read model was dropped, restored
        from an older copy, or committed a batch whose ack was lost).
        """
        if self._puller is not None:  # before the check below: it must see whatever that one left unacked
            await self._puller.stop()
        start_after = await self.checkpoint()
        try:
            info = await self.js.consumer_info(STREAM, self.durable)
        except NotFoundError:
            info = None
        wanted = self._config(start_after)
        if info is not None:
            filters = sorted(info.config.filter_subjects or [info.config.filter_subject or ""])
            acked = info.ack_floor.stream_seq if info.ack_floor else 0
            if filters != sorted(self.filters) or info.num_ack_pending > 0 or acked != start_after:
                if acked > start_after:
                    log.warning(
                        "projection %s: the read model's checkpoint is %d but its consumer acked %d; "
                        "replaying from the checkpoint",
                        self.durable, start_after, acked,
                    )  # fmt: skip
                await self.js.delete_consumer(STREAM, self.durable)
                info = None
        if info is not None:  # keep the server's delivery position; change only what an update may
            wanted.deliver_policy, wanted.opt_start_seq = info.config.deliver_policy, info.config.opt_start_seq
        created = await self.js.add_consumer(STREAM, wanted)
        self.pending = created.num_pending
        self.caught_up = self.caught_up and created.num_pending == 0
        await self._bind()

    async def _bind(self) -> None:
        """Pull through a new inbox; the last one is unsubscribed (it holds nothing that was acked)."""
        if self._sub is not None and self._sub is not self._puller:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if self._puller is not None:
            await self._puller.stop()
        self._sub = self._puller = Puller(self.js, self.durable)
        await self._puller.start()

    def wants(self, subject: str) -> bool:
        """Is this event for the projection: one of its services, and (at a root) under its level?"""
        if subject.split(".", 2)[1] not in self.services:
            return False
        return not self.root or in_subtree(path_of_subject(subject), self.level)

    async def checkpoint(self) -> int:
        async with self.db.reader.connect() as conn:
            try:
                return await self._checkpoint(conn)
            except Exception:  # the level's database was dropped under us: nothing is applied
                return 0

    async def _checkpoint(self, conn: AsyncConnection) -> int:
        value = await conn.scalar(
            select(checkpoints.c.last_sequence).where(
                checkpoints.c.projection == self.projection.name, checkpoints.c.level == self.level
            )
        )
        return value or 0

    async def _record(self, conn: AsyncConnection, sequence: int) -> None:
        row = {"projection": self.projection.name, "level": self.level}
        await conn.execute(_RECORD[self.db.is_postgres], row | {"sequence": sequence, "at": datetime.now(UTC)})

    def _forget(self) -> None:
        """In-memory state may not match the database (a rollback, another replica, a rebuild)."""
        if self.membership is not None:
            self.membership.reset()
        self.projection.reset()
        self._applied_to = -1

    # -- consuming -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.step(wait=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database or NATS is away: keep trying, never stop consuming
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("projection %s step failed: %s", self.durable, error)
                await self._drop_subscription()
                await asyncio.sleep(1.0)

    async def step(self, wait: float = 1.0) -> int:
        """Fetch one batch and apply it; returns how many messages were handled (0 if none came)."""
        if self._sub is None:
            await self._ensure_consumer()
        if self._sub is not self._puller:  # a subclass bound the consumer its own way: pull through ours
            await self._bind()
        assert self._puller is not None
        try:
            msgs = await self._puller.fetch(self.settings.projection_batch, wait)
        except Exception as error:  # connection lost or consumer gone: rebind once NATS answers again
            self.last_error = f"fetch: {type(error).__name__}: {error}"
            log.warning("projection %s cannot fetch (%s); rebinding", self.durable, error)
            await self._drop_subscription()
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):
                await self._ensure_consumer()
            return 0
        self.last_fetch_ok = time.monotonic()
        if not msgs:  # nothing came within ``wait``
            self.pending, self.caught_up = 0, True
            return 0
        msgs = once_in_stream_order(msgs)
        await self._handle(msgs)
        self.pending = msgs[-1].metadata.num_pending
        self.caught_up = self.caught_up or self.pending == 0
        return len(msgs)

    async def _drop_subscription(self) -> None:
        if self._puller is not None:
            await self._puller.stop()
        self._sub = None

    async def catch_up(self, idle_timeout: float = 0.5, deadline: float = 120.0) -> None:
        """Apply until a fetch comes back empty and the consumer has nothing pending (tests, rebuilds)."""
        ends = time.monotonic() + deadline
        while time.monotonic() < ends:
            handled = await self.step(wait=idle_timeout)
            if handled == 0:
                info = await self.js.consumer_info(STREAM, self.durable)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    return
        raise TimeoutError(f"projection {self.durable} did not catch up in {deadline}s")

    async def _handle(self, msgs: list[Msg]) -> None:
        try:
            await self._apply_batch(msgs)
        except Exception:
            await self._apply_one_by_one(msgs)
            return
        # Wait for the server to take the ack, so the next fetch is not held back by max_ack_pending.
        # If NATS went away meanwhile, the batch is redelivered later and skipped by the checkpoint.
        try:
            await msgs[-1].ack_sync(timeout=5)
        except Exception as error:
            self.last_error = f"ack: {type(error).__name__}: {error}"
            await self._drop_subscription()

    async def _apply_batch(self, msgs: Sequence[Msg]) -> None:
        try:
            async with self.db.writer.begin() as conn:
                applied_to = await self._checkpoint(conn)
                if applied_to != self._applied_to:
                    self._forget()
                # Each stream sequence once, past the checkpoint: a redelivery, or a second delivery of one
                # message in the same batch, is not applied again.
                fresh: list[tuple[int, Msg]] = []
                for msg in msgs:
                    if (seq := stream_sequence(msg)) > applied_to:
                        fresh.append((seq, msg))
                        applied_to = seq
                if not fresh:
                    return
                self.projection.backlog = msgs[-1].metadata.num_pending
                if self.membership is not None:
                    await self.membership.load(conn)
                wanted = [(seq, msg) for seq, msg in fresh if self.wants(msg.subject)]
                if len(wanted) == 1:  # the event's own trace gets the consumer's span
                    seq, msg = wanted[0]
                    parent = context_from(msg.headers)
                    with _tracer.start_as_current_span(
                        f"apply {self.durable} {msg.subject}", context=parent, kind=SpanKind.CONSUMER
                    ):
                        await self._route(conn, to_message(msg, seq))
                elif wanted:
                    with _tracer.start_as_current_span(f"apply batch {self.durable}", kind=SpanKind.CONSUMER) as span:
                        linking = span.is_recording()  # no tracing configured: no link to build per event
                        for seq, msg in wanted:  # each event's own trace gets a link from the batch span
                            if linking:
                                span.add_link(trace.get_current_span(context_from(msg.headers)).get_span_context())
                            await self._route(conn, to_message(msg, seq))
                if self.membership is not None:
                    await self.membership.written(conn)
                await self.projection.flush(conn, self.level)
                await self._record(conn, fresh[-1][0])
        except BaseException:
            self._forget()
            raise
        self._applied_to = fresh[-1][0]
        self.applied += len(fresh)
        await self.projection.committed()

    async def _route(self, conn: AsyncConnection, message: Message) -> None:
        if self.membership is not None:
            await self.membership.route(conn, message)
        elif self.projection.handles(message.event_type):  # decoded only if handled
            # Through ``handle``: a projection may wrap its handlers (the directory copy bumps its generation).
            await self.projection.handle(conn, message.event(), Context(self.level, message))

    async def _apply_one_by_one(self, msgs: list[Msg]) -> None:
        for index, msg in enumerate(msgs):
            try:
                await self._apply_batch([msg])
            except Exception as error:
                self.last_error = f"{msg.subject}: {type(error).__name__}: {error}"
                if msg.metadata.num_delivered >= self.settings.projection_max_deliver:
                    await self._dead_letter(msg, error)
                    await msg.ack()
                    continue
                log.warning(
                    "projection %s failed on %s (attempt %d): %s",
                    self.durable,
                    msg.subject,
                    msg.metadata.num_delivered,
                    error,
                )
                delay = self.settings.projection_nak_delay_seconds
                for held in msgs[index:]:
                    await held.nak(delay=delay)
                await asyncio.sleep(delay)  # let the nak'ed messages come back before new ones
                return
            await msg.ack()

    async def _dead_letter(self, msg: Msg, error: Exception) -> None:
        sequence = msg.metadata.sequence.stream
        headers = {
            "Nats-Msg-Id": f"{self.durable}:{sequence}",
            "Thidua-Original-Subject": msg.subject,
            "Thidua-Original-Sequence": str(sequence),
            "Thidua-Consumer": self.durable,
            "Thidua-Error": f"{type(error).__name__}: {error}"[:2000],
            "Thidua-Attempts": str(msg.metadata.num_delivered),
        }
        await self.js.publish(f"{DLQ_ROOT}.{self.durable}", msg.data, headers=headers)
        async with self.db.writer.begin() as conn:  # consumed: later events must not wait behind it
            if sequence > await self._checkpoint(conn):
                await self._record(conn, sequence)
        self.dead_lettered += 1
        log.error("projection %s dead-lettered %s #%d: %s", self.durable, msg.subject, sequence, error)

    # -- rebuild and back-fill -------------------------------------------------------------------

    async def rebuild(self) -> None:
        """Drop the read model and replay the stream from the start into a new consumer."""
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(STREAM, self.durable)
        async with self.db.writer.begin() as conn:
            for metadata in self._metadatas():
                await conn.run_sync(metadata.drop_all)
                await conn.run_sync(metadata.create_all)
            await conn.run_sync(checkpoint_metadata.create_all)
            await conn.execute(
                checkpoints.delete().where(
                    checkpoints.c.projection == self.projection.name, checkpoints.c.level == self.level
                )
            )
        self._forget()
        self.caught_up = False
        await self._ensure_consumer()
        await self.catch_up()

    async def _history(self, paths: Sequence[str], before: int) -> list[Message]:
        """Every wanted event under ``paths``' subtrees stored before the stream sequence ``before``."""
        filters = [f for path in outermost(paths) for f in subtree_filters(path, self.service_filter)]
        found = await read_messages(self.js, STREAM, filters, before=before)
        return [to_message(msg) for msg in found if self.wants(msg.subject)]

    def health(self) -> dict[str, Any]:
        stale = time.monotonic() - self.last_fetch_ok > 10.0
        return {
            "consumer": self.durable,
            "level": self.level,
            "applied": self.applied,
            "pending": self.pending,
            "caught_up": self.caught_up,
            "dead_lettered": self.dead_lettered,
            "fetching": not stale,
            "last_error": self.last_error,
        }

    @property
    def healthy(self) -> bool:
        """Fetching, and caught up at least once since it started (a replay is not yet a view)."""
        return time.monotonic() - self.last_fetch_ok <= 10.0 and self.caught_up


async def read_messages(
    js: JetStreamContext, stream: str, filters: list[str] | None = None, before: int | None = None
) -> list[Msg]:
    """Messages of ``stream`` (optionally filtered, optionally below a sequence), in order, read by an
    ephemeral consumer that acks nothing and is deleted afterwards."""
    config = ConsumerConfig(
        filter_subjects=filters or None,
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=30.0,
        mem_storage=True,
    )
    info = await js.add_consumer(stream, config)
    found: list[Msg] = []
    try:
        if info.num_pending == 0:
            return found
        puller = Puller(js, info.name, stream)
        await puller.start()
        try:
            while msgs := await puller.fetch(500, 2.0):
                for msg in msgs:
                    if before is not None and stream_sequence(msg) >= before:
                        return found
                    found.append(msg)
                if msgs[-1].metadata.num_pending == 0:
                    break
        finally:
            await puller.stop()
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, info.name)
    return found
