"""Two replicas of a service share its consumers (one durable consumer, one checkpoint in their common
database): one replica applies at a time, the other takes over when the first stops, and every event is
applied exactly once across the hand-over. Real nats-server, real SQLite (the lease is a ``flock``; on
PostgreSQL the same task holds an advisory lock, covered by the relay's lease tests)."""

import asyncio
from pathlib import Path
from types import SimpleNamespace

from shared.db import open_database
from shared.service import consumer_task
from shared.settings import Settings
from tests.platform.counting import CountingProjection, counted, read_counts
from tests.platform.helpers import wait_for
from tests.platform.test_projection_runner import publish

DURABLE = "counting_shared"


async def test_one_replica_applies_a_shared_consumer_and_the_other_takes_over(
    settings: Settings, tmp_path: Path
) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/replicas.db")
    replicas = [SimpleNamespace(state=SimpleNamespace(settings=settings, db=db)) for _ in range(2)]
    stops = [asyncio.Event(), asyncio.Event()]
    task = consumer_task(CountingProjection, durable=DURABLE)
    runs = [asyncio.create_task(task(app, stop)) for app, stop in zip(replicas, stops, strict=True)]

    async def counts() -> dict[str, tuple[int, int]]:
        async with db.reader.connect() as conn:
            return await read_counts(conn)

    def applying() -> list[int]:
        return [n for n, app in enumerate(replicas) if getattr(app.state, "consumers", [])]

    try:
        await publish(settings, [counted("hn.ntl", n) for n in range(20)])
        await wait_for(lambda: _equal(counts, {"hn.ntl": (20, sum(range(20)))}), 20, "the first 20 applied")
        (holder,) = applying()  # exactly one replica runs the consumer
        standby = 1 - holder

        stops[holder].set()  # the holder stops (a rollout, a crash): the lease goes with it
        await asyncio.wait_for(runs[holder], 10)
        await wait_for(lambda: _true(applying() == [standby]), 20, "the other replica to take the consumer")
        await publish(settings, [counted("hn.ntl", n, stream=f"later-{n}") for n in range(20, 30)])
        await wait_for(lambda: _equal(counts, {"hn.ntl": (30, sum(range(30)))}), 20, "the next 10 applied")
        await asyncio.sleep(0.5)
        assert await counts() == {"hn.ntl": (30, sum(range(30)))}  # none applied twice
    finally:
        for stop in stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*runs, return_exceptions=True), 15)
        await db.dispose()


async def _equal(read, expected: object) -> bool:  # type: ignore[no-untyped-def]
    return await read() == expected


async def _true(value: bool) -> bool:
    return value
