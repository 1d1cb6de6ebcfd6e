"""A minimal projection for platform tests: counts events per unit path, and can be told to fail.

Run as a level host: ``python -m tests.platform.counting --level hn --db URL``.
``THIDUA_TEST_APPLY_DELAY`` slows every apply (seconds), so a test can kill the process mid-batch.
"""

import asyncio
import os

from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events import Event, EventMetadata, event
from shared.eventstore import StreamAppend
from shared.level_host import level_host_main
from shared.projection import Context, Projection, on


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


class CountingProjection(Projection):
    name = "counting"
    services = ("testsvc",)
    metadata = metadata

    def __init__(self) -> None:
        self.delay = float(os.environ.get("THIDUA_TEST_APPLY_DELAY", "0"))

    @on(Counted)
    async def counted(self, conn: AsyncConnection, event: Counted, ctx: Context) -> None:
        if event.poison:
            raise Poisoned(f"event {ctx.message.envelope.event_id} is poison")
        if self.delay:
            await asyncio.sleep(self.delay)
        path = ctx.message.path
        row = (await conn.execute(select(counts).where(counts.c.path == path))).first()
        if row is None:
            await conn.execute(counts.insert().values(path=path, events=1, total=event.n))
        else:
            await conn.execute(
                counts.update().where(counts.c.path == path).values(events=row.events + 1, total=row.total + event.n)
            )


class FoldingCountingProjection(CountingProjection):
    """The same read model, folding a batch into one upsert per path (how counters are meant to be kept)."""

    def __init__(self) -> None:
        super().__init__()
        self.deltas: dict[str, list[int]] = {}

    @on(Counted)
    async def counted(self, conn: AsyncConnection, event: Counted, ctx: Context) -> None:
        if event.poison:
            raise Poisoned(f"event {ctx.message.envelope.event_id} is poison")
        if self.delay:
            await asyncio.sleep(self.delay)
        delta = self.deltas.setdefault(ctx.message.path, [0, 0])
        delta[0] += 1
        delta[1] += event.n

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        if not self.deltas:
            return
        deltas, self.deltas = self.deltas, {}
        stmt = sqlite_insert(counts)
        stmt = stmt.on_conflict_do_update(
            index_elements=[counts.c.path],
            set_={"events": counts.c.events + stmt.excluded.events, "total": counts.c.total + stmt.excluded.total},
        )
        await conn.execute(stmt, [{"path": p, "events": e, "total": t} for p, (e, t) in deltas.items()])

    def reset(self) -> None:
        self.deltas = {}


_upsert = sqlite_insert(counts)
_upsert = _upsert.on_conflict_do_update(
    index_elements=[counts.c.path],
    set_={"events": counts.c.events + _upsert.excluded.events, "total": counts.c.total + _upsert.excluded.total},
)


class UpsertCountingProjection(CountingProjection):
    """The same read model, one upsert per event (how a per-event projection is usually written: the
    statement built once, its parameters per event)."""

    @on(Counted)
    async def counted(self, conn: AsyncConnection, event: Counted, ctx: Context) -> None:
        if event.poison:
            raise Poisoned(f"event {ctx.message.envelope.event_id} is poison")
        await conn.execute(_upsert, {"path": ctx.message.path, "events": 1, "total": event.n})


async def read_counts(conn: AsyncConnection) -> dict[str, tuple[int, int]]:
    rows = await conn.execute(select(counts).order_by(counts.c.path))
    return {row.path: (row.events, row.total) for row in rows}


def counted(path: str, n: int, stream: str | None = None, version: int = 0, poison: bool = False) -> StreamAppend:
    meta = EventMetadata(actor="test", unit_path=path)
    return StreamAppend.of(stream or f"s-{path}-{n}", version, [(Counted(n=n, poison=poison), meta)])


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    level_host_main(FoldingCountingProjection if os.environ.get("THIDUA_TEST_FOLD") else CountingProjection)
