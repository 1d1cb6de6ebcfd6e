"""A minimal projection for platform tests: counts events per unit path, and can be told to fail.

Run as a level projector: ``python -m tests.platform.counting --scope hn --db URL``.
``THIDUA_TEST_APPLY_DELAY`` slows every apply (seconds), so a test can kill the process mid-batch.
"""

import asyncio
import os

from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events import Event, EventMetadata, event
from shared.eventstore import StreamAppend
from shared.projections import ApplyContext, ProjectedMessage
from shared.projector import projector_main


@event
class Counted(Event):
    n: int
    poison: bool = False


class Poisoned(Exception):
    pass


metadata = MetaData()
counts = Table(
    "counts",
    metadata,
    Column("path", String(400), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("total", Integer, nullable=False),
)


class CountingProjection:
    name = "counting"
    services = ("testsvc",)
    metadata = metadata

    def __init__(self) -> None:
        self.delay = float(os.environ.get("THIDUA_TEST_APPLY_DELAY", "0"))

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext) -> None:
        data = message.envelope.data
        if data.get("poison"):
            raise Poisoned(f"event {message.envelope.event_id} is poison")
        if self.delay:
            await asyncio.sleep(self.delay)
        row = (await conn.execute(select(counts).where(counts.c.path == message.path))).first()
        if row is None:
            await conn.execute(counts.insert().values(path=message.path, events=1, total=data["n"]))
        else:
            await conn.execute(
                counts.update()
                .where(counts.c.path == message.path)
                .values(events=row.events + 1, total=row.total + data["n"])
            )


class FoldingCountingProjection(CountingProjection):
    """The same read model, folding a batch into one upsert per path (how counters are meant to be kept)."""

    async def apply_batch(self, conn: AsyncConnection, messages: list[ProjectedMessage], scope: str) -> None:
        if self.delay:
            await asyncio.sleep(self.delay * len(messages))
        deltas: dict[str, list[int]] = {}
        for message in messages:
            if message.envelope.data.get("poison"):
                raise Poisoned(f"event {message.envelope.event_id} is poison")
            delta = deltas.setdefault(message.path, [0, 0])
            delta[0] += 1
            delta[1] += message.envelope.data["n"]
        stmt = sqlite_insert(counts)
        stmt = stmt.on_conflict_do_update(
            index_elements=[counts.c.path],
            set_={"events": counts.c.events + stmt.excluded.events, "total": counts.c.total + stmt.excluded.total},
        )
        await conn.execute(stmt, [{"path": p, "events": e, "total": t} for p, (e, t) in deltas.items()])


async def read_counts(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
    rows = await conn.execute(select(counts).order_by(counts.c.path))
    return {row.path: (row.events, row.total) for row in rows}


def counted(path: str, n: int, stream: str | None = None, version: int = 0, poison: bool = False) -> StreamAppend:
    meta = EventMetadata(actor="test", unit_path=path)
    return StreamAppend.of(stream or f"s-{path}-{n}", version, [(Counted(n=n, poison=poison), meta)])


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    projector_main(FoldingCountingProjection if os.environ.get("THIDUA_TEST_FOLD") else CountingProjection)
