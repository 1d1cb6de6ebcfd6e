"""The public feed relay: publishes ``awards_public_feed`` (written in the same transaction as each
conferral and revocation) to the JetStream stream ``PUBLIC_AWARDS``, in commit order, at least once.

Like the platform's outbox relay: it reads past its recorded position (a row named ``public-awards`` in
the store's ``outbox`` table), publishes with ``Nats-Msg-Id`` = the CloudEvent id, and records the new
position only after every ack. A crash between publishing and recording publishes again; JetStream drops
the copies within the stream's duplicate window (a day), and an agency keeps its own register of ids.
"""

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime

import orjson
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.awards.adapters.public_feed import (
    CONTENT_TYPE,
    DUPLICATE_WINDOW_SECONDS,
    STREAM,
    SUBJECTS,
    public_subject,
)
from services.awards.adapters.records import public_feed
from shared.db import Database
from shared.eventstore.schema import outbox
from shared.messaging import H_MSG_ID

log = logging.getLogger(__name__)
NAME = "public-awards"


def stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=STREAM,
        subjects=SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=0,  # the public record of awards is kept
        duplicate_window=float(DUPLICATE_WINDOW_SECONDS),
        num_replicas=replicas,
    )


async def ensure_public_stream(js: JetStreamContext, replicas: int = 1) -> None:
    config = stream_config(replicas)
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(config)
        return
    try:
        await js.update_stream(config)
    except BadRequestError as error:
        log.warning("stream %s kept its old config: %s", STREAM, error)


class PublicFeedRelay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        *,
        batch: int = 500,
        ack_timeout: float = 5.0,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.db, self.js, self.batch, self.ack_timeout = db, js, batch, ack_timeout
        self.published = 0
        self.last_error: str | None = None
        self.wake = wake or asyncio.Event()  # set by the service after a commit that may have added feed rows

    async def position(self) -> int:
        async with self.db.reader.connect() as conn:
            return (await conn.scalar(select(outbox.c.position).where(outbox.c.name == NAME))) or 0

    async def _record(self, position: int) -> None:
        insert = pg_insert if self.db.is_postgres else sqlite_insert
        stmt = insert(outbox).values(name=NAME, position=position, updated_at=datetime.now(UTC))
        stmt = stmt.on_conflict_do_update(
            index_elements=[outbox.c.name],
            set_={"position": stmt.excluded.position, "updated_at": stmt.excluded.updated_at},
            where=outbox.c.position < stmt.excluded.position,
        )
        async with self.db.writer.begin() as conn:
            await conn.execute(stmt)

    async def _rows(self, after: int) -> list:
        async with self.db.reader.connect() as conn:
            stmt = select(public_feed).where(public_feed.c.seq > after).order_by(public_feed.c.seq).limit(self.batch)
            return list(await conn.execute(stmt))

    async def publish_pending(self) -> int:
        total = 0
        rows = await self._rows(await self.position())
        while rows:
            window: deque[asyncio.Future] = deque()
            async with asyncio.timeout(self.ack_timeout * max(1, len(rows) // 200)):
                for row in rows:
                    headers = {H_MSG_ID: row.event_id, "Content-Type": CONTENT_TYPE}
                    payload = orjson.dumps(row.cloudevent)
                    window.append(await self.js.publish_async(public_subject(row.unit_path), payload, headers=headers))
                while window:
                    ack = await window.popleft()
                    if ack.stream != STREAM:
                        raise RuntimeError(f"public award stored in {ack.stream}, expected {STREAM}")
            await self._record(rows[-1].seq)
            total += len(rows)
            self.published += len(rows)
            rows = await self._rows(rows[-1].seq)
        return total

    async def run(self, stop: asyncio.Event | None = None, idle_poll: float = 0.5) -> None:
        stop = stop or asyncio.Event()
        backoff = 0.2
        while not stop.is_set():
            try:
                self.wake.clear()
                await self.publish_pending()
                self.last_error, backoff = None, 0.2
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), idle_poll)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("public feed relay cannot publish yet (%s); retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
