"""A service's records: the read model of its own aggregates that commands validate against.

Updated in the append's own transaction (the event store's inline projection), so a handler reads
exactly what is committed, and a unique index on the records can turn a racing command into a refused
append. Handlers are chosen by event type like a projection's (``@on``), and receive the typed event
with a ``Context`` whose message is the stored envelope (its version, time and metadata). Rebuildable
from the events: the tables are created at start-up, not migrated.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import Database
from shared.events import EventEnvelope
from shared.projection import Context, Message, Projection


class Records(Projection):
    services = ()  # the service's own events, straight from its store

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_tables(self) -> None:
        async with self.db.writer.begin() as conn:
            await conn.run_sync(self.metadata.create_all)

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        """The event store's inline projection: the events of one committed batch, in order."""
        try:
            for env in envelopes:
                if self.handles(env.event_type):
                    message = Message("", env.position or 0, env.metadata.unit_path, env)
                    await self.handle(conn, env.to_event(), Context("*", message))
            await self.flush(conn, "*")
        except BaseException:
            self.reset()
            raise
