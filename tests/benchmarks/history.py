"""History benchmark (issue 12; run on purpose: ``python -m tests.benchmarks.history``, or
``python -m tests.benchmarks.idempotency --only 3``): command throughput with 0 / 100,000 / 500,000 /
1,000,000 stored events and keys must stay within ±10% of a store with none (goal: ratio 0.90–1.10).

History is seeded as services write it: ``initiative-<uuid4>`` streams of ten events, one random Idempotency-Key
per event, the keys' creation times spread at 1,000,000 a year (the 1M point is a year of history). Three
stores run the same commands in alternating rounds (which goes first rotates, so a neighbour's burst lands on
all): **empty** (the baseline, measured beside every point), **kept** (every key stored forever: the store
before expiry) and **expiring** (keys pruned after the 7-day retention window, as the store does now: its
backlog is pruned before the rounds, timed, as a deployment's writer would have pruned it over the year).
Each point runs twice, new streams named by random (uuid4) ids and by time-ordered (uuid7) ids.

Each figure is commands / seconds over all rounds (a WAL checkpoint or a page split in a round counts);
beside it the CPU per command and the wall time of a group commit's look-ups, inserts and COMMIT per command.

Options: ``--backends sqlite,postgresql``, ``--sizes 0,100000``, ``--creating 1.0`` (the share of commands that
start a stream; the rest append to a seeded stream), ``--new-ids uuid4,uuid7``, ``--rounds``, ``--commands``,
``--seeded-ids uuid7`` (the history as it is written from now on: streams named by time-ordered ids) and
``--recent-days 30`` (appends go to the streams made in the history's last 30 days, as live work does,
instead of to the streams each point added, spread over its whole span; on SQLite the empty store then
holds those 30 days' streams and nothing older: the baseline is the working set without the history).
"""

import argparse
import asyncio
import contextlib
import functools
import hashlib
import os
import random
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from shared.db import open_database
from shared.events import EventMetadata
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.store import _Request
from shared.ids import time_ordered_id
from tests.platform.counting import Counted

META = EventMetadata(actor="bench", unit_path="hn.ntl.fecon")
SEED_PER_STREAM = 10  # seeded history: streams of ten events each, one idempotency key per event
PER_YEAR = 1_000_000  # seeded keys' creation times: a million a year
YEAR = timedelta(days=365)
RETENTION = timedelta(days=7)
FOREVER = timedelta(days=365 * 100)  # the "kept" store: no key ever expires
STORES = ("empty", "kept", "expiring")


def seeded_stream(number: int, clock: "Clock | None" = None) -> str:
    """The id of seeded stream ``number``: random-looking, as a service's (``initiative-<uuid4>``), so the
    (stream_id, version) index is spread as it is in a real store; derived from the number so a command can
    append to a seeded stream. With ``clock`` (``--seeded-ids uuid7``): the time-ordered id it would have
    had, made when its first event was stored. Seeded keys are random UUIDs, as clients send them."""
    digest = hashlib.md5(number.to_bytes(8, "big")).digest()
    if clock is None:
        return f"initiative-{uuid.UUID(bytes=digest, version=4)}"
    millis = int(clock.at(number * SEED_PER_STREAM).timestamp() * 1000)
    bits = int.from_bytes(digest, "big") >> 54  # 74 random-looking bits
    value = millis << 80 | 0x7 << 76 | (bits >> 62) << 64 | 0b10 << 62 | bits & ((1 << 62) - 1)
    return f"initiative-{uuid.UUID(int=value)}"


class Clock:
    """The history's present: seeded key ``n`` was stored at ``start + n / PER_YEAR`` years; at a point of
    ``size`` events the present is when the last was stored. The expiring store expires keys by it and
    stamps new keys with it (so the commands' own keys belong to the window and expire at the next point)."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC) - YEAR
        self.size = 0

    def at(self, n: int) -> datetime:
        return self.start + YEAR * (n / PER_YEAR)

    def now(self) -> datetime:
        return self.at(self.size)


class PhasedStore(EventStore):
    """The store, with the wall time of each part of its group commits added up (seconds): the look-ups
    (stream versions and idempotency keys), the inserts (events and keys, the rest of the transaction) and
    COMMIT (the WAL write, and on SQLite the checkpoints it runs) — what grows with history."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phases = {"look-ups": 0.0, "inserts": 0.0, "commit": 0.0}

    async def _lookup(self, conn: Any, batch: list[_Request], read_new_streams: bool) -> Any:
        began = time.perf_counter()
        try:
            return await super()._lookup(conn, batch, read_new_streams)
        finally:
            self.phases["look-ups"] += time.perf_counter() - began

    @contextlib.asynccontextmanager
    async def _locked_transaction(self) -> AsyncIterator[Any]:
        began = time.perf_counter()
        async with super()._locked_transaction() as conn:
            yield conn
            ended = time.perf_counter()
        self.phases["commit"] += time.perf_counter() - ended
        self.phases["inserts"] += ended - began  # the look-ups are taken out below

    def per_command(self, commands: int) -> str:
        inserts = self.phases["inserts"] - self.phases["look-ups"]
        parts = {"look-ups": self.phases["look-ups"], "inserts": inserts, "commit": self.phases["commit"]}
        return " ".join(f"{name} {seconds / commands * 1e6:.0f}" for name, seconds in parts.items())


async def _seed_history(store: EventStore, start: int, end: int, clock: Clock, named: Clock | None) -> None:
    """Events ``start``..``end`` (ten per stream) and as many idempotency keys, each key stamped with its
    time in the history (``clock``), written in bulk (COPY on PostgreSQL, large executemany batches on
    SQLite), as the store would have written them."""
    now = datetime.now(UTC)
    metadata = orjson.dumps({"actor": "bench", "unit_path": "hn.ntl.fecon", "correlation_id": "c"}).decode()
    rng = random.Random(start)  # both grown stores get the same keys
    for chunk in range(start, end, 50_000):
        numbers = range(chunk, min(chunk + 50_000, end))
        event_rows = [
            (seeded_stream(n // SEED_PER_STREAM, named), n % SEED_PER_STREAM + 1, time_ordered_id(), "Counted", 1, now,
             orjson.dumps({"n": n, "poison": False}).decode(), metadata)
            for n in numbers
        ]  # fmt: skip
        key_rows = [
            (f"user-{n % 500}:POST:/x", str(uuid.UUID(int=rng.getrandbits(128), version=4)), "h", 201,
             '{"ok": true}', clock.at(n))
            for n in numbers
        ]  # fmt: skip
        event_columns = ["stream_id", "version", "event_id", "event_type", "schema_version", "occurred_at"]
        key_columns = ["namespace", "key", "request_hash", "status_code", "response", "created_at"]
        async with store.db.writer.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            if store.db.is_postgres:
                await driver.copy_records_to_table(
                    "events", records=event_rows, columns=[*event_columns, "data", "metadata"]
                )
                await driver.copy_records_to_table("idempotency_keys", records=key_rows, columns=key_columns)
            else:
                stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text
                await driver.execute("BEGIN IMMEDIATE")  # the driver runs in autocommit: one transaction per chunk
                await driver.executemany(
                    f"INSERT INTO events ({', '.join(event_columns)}, data, metadata) VALUES ({', '.join('?' * 8)})",
                    [(*row[:5], stamp, *row[6:]) for row in event_rows],
                )
                await driver.executemany(
                    f"INSERT INTO idempotency_keys ({', '.join(key_columns)}) VALUES ({', '.join('?' * 6)})",
                    [(*row[:5], row[5].strftime("%Y-%m-%d %H:%M:%S.%f")) for row in key_rows],
                )
                await driver.commit()


async def _settle(store: EventStore) -> None:
    """The seed's pages written back now, as a running service's would have been long ago: otherwise the
    first rounds pay for the bulk load (SQLite's first checkpoint copies it all; PostgreSQL's checkpointer
    flushes it) and the figure measures the seeding, not the history."""
    async with store.db.writer.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection  # outside a transaction, as both need
        if store.db.is_postgres:
            await driver.execute("VACUUM ANALYZE")  # what autovacuum does after a prune
            await driver.execute("CHECKPOINT")
        else:
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _empty_out(store: EventStore) -> None:
    """SQLite: the baseline store emptied before each pass, so it stays at the 0 point (a pass adds 48,000
    rows). PostgreSQL keeps them: an emptied table's statistics (0 rows) steer the look-up's generic plan
    away from its indexes, which would slow the baseline instead (a few hundred thousand rows change nothing
    there)."""
    if store.db.is_postgres:
        return
    async with store.db.writer.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        await driver.execute("DELETE FROM events")
        await driver.execute("DELETE FROM idempotency_keys")
        await driver.commit()
        await driver.execute("VACUUM")
        await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def _seed_working(
    store: EventStore, span: tuple[int, int], clock: Clock, named: Clock | None, streams: list[tuple[str, int]]
) -> deque[tuple[str, int]]:
    """The empty store given the working set: seeded streams ``span[0]``.. (ten events each) up to event
    ``span[1]``, with their keys; returns the streams to append to."""
    await _seed_history(store, span[0] * SEED_PER_STREAM, span[1], clock, named)
    await _settle(store)
    return deque(streams)


async def _prune_backlog(store: EventStore) -> tuple[int, float]:
    """Prune every expired key (what the writer did over the history), 10,000 a transaction: (keys, seconds)."""
    began, pruned = time.perf_counter(), 0
    while gone := await store.prune_expired_keys(limit=10_000):
        pruned += gone
    return pruned, time.perf_counter() - began


async def _key_count(store: EventStore) -> int:
    async with store.db.reader.connect() as conn:
        return await conn.scalar(text("SELECT count(*) FROM idempotency_keys"))


async def _cpu_seconds(store: EventStore) -> float:
    """CPU spent for ``store`` so far: this process's, plus its PostgreSQL backends' (read from /proc; the
    server is on this machine). Less sensitive than a rate to what the neighbours run."""
    spent = time.process_time()
    if store.db.is_postgres:
        async with store.db.reader.connect() as conn:
            pids = await conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
            for (pid,) in pids:
                with contextlib.suppress(OSError):
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # noqa: ASYNC240 - /proc, no disk
                    spent += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


NEW_IDS: dict[str, Callable[[], str]] = {"uuid4": lambda: str(uuid.uuid4()), "uuid7": time_ordered_id}


async def _commands_per_second(
    store: EventStore, live: deque[tuple[str, int]], commands: int, creating: float, new_ids: str
) -> float:
    """Commands as a service sends them: a share (``creating``) start a stream named as the services name
    one (``initiative-<id>``, the id by ``new_ids``), the others append one event to a seeded stream (the
    next of ``live``: (stream, version), in random order, each back at the end once appended to); each with a
    new Idempotency-Key; 250 at a time, never two on one stream."""
    new_id = NEW_IDS[new_ids]

    async def one(n: int, target: tuple[str, int] | None) -> None:
        if target is not None:
            append = StreamAppend.of(target[0], target[1], [(Counted(n=n), META)])
        else:
            append = StreamAppend.of(f"initiative-{new_id()}", 0, [(Counted(n=n), META)])
        record = IdempotencyRecord(f"user-{n % 500}:POST:/x", str(uuid.uuid4()), "h", 201, {"n": n})
        await store.append(append, idempotency=record)

    start = time.perf_counter()
    for block in range(0, commands, 250):
        numbers = range(block, min(block + 250, commands))
        targets = [live.popleft() if live and n % 20 >= round(creating * 20) else None for n in numbers]
        await asyncio.gather(*(one(n, target) for n, target in zip(numbers, targets, strict=True)))
        live.extend((stream, version + 1) for stream, version in filter(None, targets))
    return commands / (time.perf_counter() - start)


@contextlib.asynccontextmanager
async def _store(url: str, **options: Any) -> AsyncIterator[PhasedStore]:
    db = open_database(url)
    await migrate(db)
    store = PhasedStore(db, **options)
    try:
        yield store
    finally:
        await store.close()
        await db.dispose()


async def _pg_database(name: str, drop: bool = False) -> None:
    import asyncpg

    from tests.conftest import PG_ADMIN_DSN

    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _rounds(
    stores: dict[str, PhasedStore],
    fresh: dict[str, deque[tuple[str, int]]],
    args: Any,
    new_ids: str,
    working: Callable[[EventStore], Awaitable[deque[tuple[str, int]]]] | None = None,
) -> None:
    """The three stores in alternating rounds; prints each grown store's rate beside the empty one's.
    ``working``: seeds the empty store with the streams the commands append to (``--recent-days``), so the
    baseline is the working set without the history, not a store where every command creates a stream."""
    mix = {"creating": args.creating, "new_ids": new_ids}
    await _empty_out(stores["empty"])
    if working is not None:
        fresh["empty"] = await working(stores["empty"])
    for role, store in stores.items():  # warm-up: statements prepared, caches filled
        await _commands_per_second(store, fresh[role], 250, **mix)
        store.phases = dict.fromkeys(store.phases, 0.0)
    seconds = dict.fromkeys(stores, 0.0)
    cpu = dict.fromkeys(stores, 0.0)
    order = list(stores)
    for _ in range(args.rounds):
        for role in order:
            spent = await _cpu_seconds(stores[role])
            seconds[role] += args.commands / await _commands_per_second(stores[role], fresh[role], args.commands, **mix)
            cpu[role] += await _cpu_seconds(stores[role]) - spent
        order = order[1:] + order[:1]
    total = args.rounds * args.commands
    rate = {role: total / seconds[role] for role in stores}
    per_command = {role: cpu[role] / total * 1e6 for role in stores}
    print(
        f"    new streams {new_ids}: empty store {rate['empty']:,.0f}/s (CPU {per_command['empty']:.0f} µs/command; "
        f"µs per command in group commits: {stores['empty'].per_command(total)})",
        flush=True,
    )
    for role, label in (("kept", "keys kept forever"), ("expiring", "keys expire after 7 days")):
        keys = await _key_count(stores[role])
        print(
            f"      {label:<25} {rate[role]:>7,.0f}/s  ratio {rate[role] / rate['empty']:.2f} to the empty store  "
            f"(CPU {per_command[role]:.0f} µs/command; {keys:,} keys stored after the rounds; "
            f"group commits: {stores[role].per_command(total)})",
            flush=True,
        )


async def bench_history(work: Path, args: Any) -> None:
    prefix = os.environ.get("THIDUA_BENCH_DB_PREFIX", "thidua_bench")
    tag = uuid.uuid4().hex[:6]
    backends: dict[str, dict[str, str]] = {}
    if "sqlite" in args.backends:
        backends["SQLite"] = {role: f"sqlite+aiosqlite:///{work}/history-{role}.db" for role in STORES}
    pg_names = {role: f"{prefix}_history_{role}_{tag}" for role in STORES}
    if "postgresql" in args.backends:
        try:
            from tests.conftest import PG_ADMIN_DSN

            for name in pg_names.values():
                await _pg_database(name)
            base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            backends["PostgreSQL"] = {role: f"{base}/{name}" for role, name in pg_names.items()}
        except Exception as error:
            print(f"  PostgreSQL not reachable ({type(error).__name__}): SQLite only", flush=True)
    try:
        for backend, urls in backends.items():
            clock = Clock()
            options = {
                "empty": {"idempotency_retention": RETENTION, "clock": clock.now},
                "kept": {"idempotency_retention": FOREVER, "clock": clock.now},
                "expiring": {"idempotency_retention": RETENTION, "clock": clock.now},
            }
            async with contextlib.AsyncExitStack() as stack:
                stores = {role: await stack.enter_async_context(_store(urls[role], **options[role])) for role in STORES}
                named = clock if args.seeded_ids == "uuid7" else None
                previous = 0
                for size in args.sizes:
                    began = time.perf_counter()
                    for role in ("kept", "expiring"):
                        await _seed_history(stores[role], previous, size, clock, named)
                    seeding = time.perf_counter() - began
                    clock.size = size
                    pruned, pruning = await _prune_backlog(stores["expiring"])
                    for store in stores.values():
                        await _settle(store)
                    first = previous // SEED_PER_STREAM  # appends go to the streams this point added, or ...
                    if args.recent_days:  # ... to those made in the last days of the history (live ones)
                        first = max(0, int((size / PER_YEAR - args.recent_days / 365) * PER_YEAR) // SEED_PER_STREAM)
                    numbers = [
                        (seeded_stream(n, named), SEED_PER_STREAM) for n in range(first, size // SEED_PER_STREAM)
                    ]
                    random.shuffle(numbers)
                    fresh = {"empty": deque(), "kept": deque(numbers), "expiring": deque(numbers)}
                    previous = size
                    per_key = f" ({pruning / pruned * 1e6:.0f} µs a key)" if pruned else ""
                    print(
                        f"  {backend}: {size:,} events stored (a history of {size / PER_YEAR * 365:.0f} days); "
                        f"seeded in {seeding:.0f} s; the expiring store pruned {pruned:,} expired keys in "
                        f"{pruning:.1f} s{per_key}  [load {' '.join(f'{v:.1f}' for v in os.getloadavg())}]",
                        flush=True,
                    )
                    working = None
                    if args.recent_days and backend == "SQLite" and size:
                        working = functools.partial(_seed_working, span=(first, size), clock=clock, named=named,
                                                    streams=numbers)  # fmt: skip

                    for new_ids in args.new_ids:
                        await _rounds(stores, fresh, args, new_ids, working)
    finally:
        if "PostgreSQL" in backends:
            for name in pg_names.values():
                await _pg_database(name, drop=True)


def parse(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--sizes", default="0,100000,500000,1000000", help="stored events and keys per point")
    parser.add_argument("--creating", type=float, default=0.25, help="share of commands starting a stream")
    parser.add_argument("--new-ids", default="uuid4,uuid7", help="new streams' ids: uuid4, uuid7 or both")
    parser.add_argument("--seeded-ids", choices=("uuid4", "uuid7"), default="uuid4", help="seeded streams' ids")
    parser.add_argument("--recent-days", type=float, default=0, help="appends go to streams this recent (0: new)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--commands", type=int, default=3000, help="per store and round")
    args = parser.parse_args(argv)
    args.backends = args.backends.split(",")
    args.sizes = [int(size) for size in args.sizes.split(",")]
    args.new_ids = args.new_ids.split(",")
    return args


async def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    print(
        "commands/s as history grows: three stores in alternating rounds — empty (the baseline), keys kept "
        f"forever, keys expiring after 7 days; creating {args.creating:.2f} of the streams; "
        f"{args.rounds} rounds × {args.commands:,} commands per store; seeded streams named by {args.seeded_ids}, "
        f"appends to {f'streams of the last {args.recent_days:g} days' if args.recent_days else 'new seeded streams'}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        await bench_history(Path(folder), args)


if __name__ == "__main__":
    asyncio.run(main())
