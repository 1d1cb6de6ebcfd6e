"""Foundation benchmark (run on purpose: ``make bench``); every figure is printed beside its baseline
measured in the same run on the same machine.

1. event store appends/s, 64 concurrent writers, SQLite and PostgreSQL — vs the same rows inserted raw
   (alternating, best of five rounds each)
2. outbox relay events/s, SQLite and PostgreSQL — vs raw nats-py publish_async to the same server
   (alternating, best of three rounds each)
3. projection replay events/s, timed to the commit of the last event — vs a raw pull consumer that only acks
4. command → projection latency p50/p99 at 300 commands/s for 30 s (HTTP directory service, real relay,
   real level projector)

Options: ``--quick`` (smaller counts, 5 s latency run), ``--skip-postgres``, ``--only 1,2``.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from shared.db import open_database
from shared.eventstore import EventStore, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import events
from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay, relay_lease
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import STREAM
from tests.natsserver import NatsServer
from tests.platform.counting import CountingProjection, FoldingCountingProjection, UpsertCountingProjection, counted

PG_DSN = os.environ.get("THIDUA_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def line(
    name: str, value: float, unit: str, baseline: float | None = None, base_name: str = "", goal: str = ""
) -> None:
    ratio = f"  ratio {value / baseline:.2f}" if baseline else ""
    base = f"  (baseline {base_name}: {baseline:,.0f} {unit})" if baseline else ""
    print(f"  {name:<44} {value:>12,.0f} {unit}{base}{ratio}{'  goal ' + goal if goal else ''}", flush=True)


# -- 1. event store ----------------------------------------------------------------------------------


async def bench_store(url: str, label: str, writers: int, per_writer: int, rounds: int = 5) -> None:
    """Appends by ``writers`` concurrent commands (one event each, as the group commit sees them) against
    the same number of rows inserted raw in batches of 100. Both sides get their rows ready before the
    clock starts (the raw side its dicts, the store side its ``StreamAppend``s: building an event is the
    command's work, not the store's). The two alternate ``rounds`` times and the best of each is kept, so
    a neighbour's burst on a shared machine does not land on one side only. Five rounds, not three: on
    SQLite each side writes about one WAL checkpoint's worth a round (10,000 pages copied into the database
    and synced), and where the sync lands moved either side's best by up to a fifth in three.

    The store is timed twice a round: commands that start their streams (the store reads no version: the
    unique index proves a stream new), then a second event on each of those streams (each stream's version
    read in the group commit, as for every command on an existing record)."""
    db = open_database(url)
    await migrate(db)
    store = EventStore(db)
    total = writers * per_writer
    best = {"store": 0.0, "existing": 0.0, "raw": 0.0}

    async def writer(mine: list[StreamAppend]) -> None:
        for append in mine:
            await store.append(append)

    for round_ in range(rounds):
        for side, version in (("store", 0), ("existing", 1)):
            appends = [
                [counted("hn.ntl.fecon", i, stream=f"w{round_}-{w}-{i}", version=version) for i in range(per_writer)]
                for w in range(writers)
            ]
            start = time.perf_counter()
            await asyncio.gather(*[writer(mine) for mine in appends])
            best[side] = max(best[side], total / (time.perf_counter() - start))

        rows = [
            {
                "stream_id": f"raw-{uuid.uuid4()}",
                "version": 1,
                "event_id": str(uuid.uuid4()),
                "event_type": "Counted",
                "schema_version": 1,
                "occurred_at": datetime.now(UTC),
                "data": {"n": i},
                "metadata": {"actor": "bench", "unit_path": "hn.ntl.fecon"},
            }
            for i in range(total)
        ]
        start = time.perf_counter()
        for chunk in range(0, len(rows), 100):
            async with db.writer.begin() as conn:
                await conn.execute(insert(events), rows[chunk : chunk + 100])
        best["raw"] = max(best["raw"], len(rows) / (time.perf_counter() - start))

    single = rows[:500]
    for row in single:
        row["event_id"], row["stream_id"] = str(uuid.uuid4()), f"one-{uuid.uuid4()}"
    start = time.perf_counter()
    for row in single:
        async with db.writer.begin() as conn:
            await conn.execute(insert(events), [row])
    one_by_one = len(single) / (time.perf_counter() - start)

    line(
        f"store appends/s, {writers} writers [{label}]",
        best["store"],
        "ev/s",
        best["raw"],
        "raw inserts, batches of 100",
        "≥ 0.5",
    )
    line(
        f"  to existing streams (versions read) [{label}]",
        best["existing"],
        "ev/s",
        best["raw"],
        "raw inserts, batches of 100",
        "≥ 0.5",
    )
    line(f"  for scale: one row per transaction [{label}]", one_by_one, "rows/s")
    await store.close()
    await db.dispose()


async def with_postgres_database(run) -> None:  # type: ignore[no-untyped-def]
    import asyncpg

    try:
        admin = await asyncio.wait_for(asyncpg.connect(PG_DSN), 3)
    except Exception as error:
        print(f"  PostgreSQL not reachable at {PG_DSN} ({error}): skipped")
        return
    name = f"{os.environ.get('THIDUA_BENCH_DB_PREFIX', 'thidua_bench')}_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await run(PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- 2. relay ----------------------------------------------------------------------------------------


async def bench_relay(work: Path, count: int, url: str, label: str, rounds: int = 3) -> None:
    """The relay as a service runs it (holding the store's lease: read the store, publish, record) against
    raw ``publish_async`` of the same number of messages, alternating ``rounds`` times, best of each. Each
    round's events are stored before its clock starts."""
    server = NatsServer(work / f"relay-js-{label}").start()
    settings = Settings(service="testsvc", nats_url=server.url, database_url=url)
    try:
        db = open_database(settings.database_url)
        await migrate(db)
        store = EventStore(db)
        nc, js = await connect(settings.nats_url, "bench")
        await ensure_streams(js, settings)
        lease = relay_lease(db)  # as a service runs it: fenced by the store's lease
        assert await lease.acquire(asyncio.Event())
        relay = OutboxRelay(
            store, js, "testsvc", batch=settings.relay_batch, max_in_flight=settings.relay_max_in_flight, lease=lease
        )
        from shared.relay import encode

        best = {"relay": 0.0, "raw": 0.0}
        for round_ in range(rounds):
            appends = [counted("hn.ntl.fecon", i, stream=f"r{round_}-{i}") for i in range(count)]
            for start in range(0, count, 500):
                await asyncio.gather(*[store.append(a) for a in appends[start : start + 500]])
            begin = time.perf_counter()
            published = await relay.publish_pending()
            best["relay"] = max(best["relay"], published / (time.perf_counter() - begin))

            body = encode((await store.read_after(0, 1))[0])
            begin = time.perf_counter()
            pending = []
            for i in range(count):
                subject = f"thidua.raw.counted.hn.{i % 50}"
                pending.append(await js.publish_async(subject, body, headers={"Nats-Msg-Id": f"raw-{round_}-{i}"}))
                if len(pending) >= 256:
                    await asyncio.gather(*pending)
                    pending = []
            await asyncio.gather(*pending)
            best["raw"] = max(best["raw"], count / (time.perf_counter() - begin))
        line(
            f"relay events/s (read, publish, record) [{label}]",
            best["relay"],
            "ev/s",
            best["raw"],
            "raw publish_async",
            "≥ 0.8",
        )
        await lease.release()
        await nc.close()
        await store.close()
        await db.dispose()
    finally:
        server.stop()


# -- 3. projection replay ----------------------------------------------------------------------------


async def bench_replay(work: Path, count: int) -> None:
    server = NatsServer(work / "replay-js").start()
    settings = Settings(service="testsvc", nats_url=server.url, database_url=f"sqlite+aiosqlite:///{work}/replay.db")
    try:
        db = open_database(settings.database_url)
        await migrate(db)
        store = EventStore(db)
        await asyncio.gather(*[store.append(counted(f"hn.ntl.u{i % 200}", i, stream=f"p-{i}")) for i in range(count)])
        nc, js = await connect(settings.nats_url, "bench")
        await ensure_streams(js, settings)
        await OutboxRelay(store, js, "testsvc").publish_pending()

        from nats.js.api import AckPolicy, ConsumerConfig

        await js.add_consumer(
            STREAM,
            ConsumerConfig(
                durable_name="raw_acker", ack_policy=AckPolicy.EXPLICIT, max_ack_pending=settings.projection_batch
            ),
        )
        sub = await js.pull_subscribe_bind(durable="raw_acker", stream=STREAM)
        start, seen = time.perf_counter(), 0
        while seen < count:
            msgs = await sub.fetch(settings.projection_batch, timeout=2)
            for msg in msgs:
                await msg.ack()
            seen += len(msgs)
        raw = count / (time.perf_counter() - start)

        for label, projection, goal in (
            ("folding a batch", FoldingCountingProjection(), "≥ 0.5"),
            ("per event, one upsert each", UpsertCountingProjection(), "≥ 0.5"),
            ("per event, select then write", CountingProjection(), ""),
        ):
            level = open_database(f"sqlite+aiosqlite:///{work}/level-{projection.__class__.__name__}.db")
            runner = ProjectionRunner(projection, "hn", level, js, settings, durable=projection.__class__.__name__)
            await runner.start()
            # Timed to the commit of the stream's last event: the idle fetch that would tell a caught-up
            # runner there is nothing more is not the replay's time (nor is it the raw consumer's).
            start = time.perf_counter()
            while runner.applied < count:
                await runner.step(wait=5.0)
            replayed = runner.applied / (time.perf_counter() - start)
            line(f"projection replay ev/s, SQLite, {label}", replayed, "ev/s", raw, "raw pull + ack", goal)
            await runner._drop_subscription()
            await level.dispose()
        await nc.close()
        await store.close()
        await db.dispose()
    finally:
        server.stop()


# -- 4. command → projection latency -----------------------------------------------------------------


async def bench_latency(work: Path, seconds: float, rate: int) -> None:
    from tests.benchmarks.latency import command_to_projection_latency

    latencies, sent, errors = await command_to_projection_latency(work, seconds=seconds, rate=rate)
    if not latencies:
        print("  latency: no command reached the projection")
        return
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"  command → projection latency at {rate}/s for {seconds:.0f}s: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(goal p99 ≤ 150 ms; {len(latencies)}/{sent} commands projected, {errors} errors)",
        flush=True,
    )


def load_average() -> str:
    """The machine's 1/5/15-minute load (on a shared machine the ratios hold, the absolute rates do not)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", default="1,2,3,4")
    parser.add_argument("--rate", type=int, action="append", help="commands/s for part 4 (repeatable; default 300)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    scale = 0.2 if args.quick else 1.0
    print(
        f"thidua foundation benchmark — {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load_average()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "1" in only:
            per_writer = int(150 * scale)
            await bench_store(f"sqlite+aiosqlite:///{work}/store.db", "SQLite", 64, per_writer)
            if not args.skip_postgres:
                await with_postgres_database(lambda url: bench_store(url, "PostgreSQL", 64, per_writer))
        if "2" in only:
            count = int(20_000 * scale)
            await bench_relay(work, count, f"sqlite+aiosqlite:///{work}/relay.db", "SQLite")
            if not args.skip_postgres:
                await with_postgres_database(lambda url: bench_relay(work, count, url, "PostgreSQL"))
        if "3" in only:
            await bench_replay(work, int(20_000 * scale))
        if "4" in only:
            for rate in args.rate or [300]:
                await bench_latency(work / f"rate-{rate}", seconds=5 if args.quick else 30, rate=rate)
    print(f"  load average at the end {load_average()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
