"""Idempotency look-up benchmark (run on purpose: ``python -m tests.benchmarks.idempotency``): commands
must not slow down as the key table grows (issue 8 defect 10). Every figure is printed beside the
baseline measured in the same run: the look-up the store used before, ``key IN (…)``, which the primary
key (namespace, key) cannot serve.

0. the look-up itself: one group commit's 250 keys, with 0 / 50,000 / 200,000 keys stored (SQLite);
1. store: commands/s of group-committed appends, each with an Idempotency-Key, with 0 / 50,000 / 200,000
   keys already stored — SQLite, and PostgreSQL when reachable (best of two runs after a warm-up);
2. HTTP: registrations/s through the registry under uvicorn (SQLite, relay off, 64 clients), per block of
   1,000, over ``--registrations`` (default 15,000) — first and last block;
3. history (issue 12): commands/s with 0 / 100,000 / 500,000 / 1,000,000 stored events and keys (seeded as a
   service writes them: random UUID keys, ``initiative-<uuid>`` streams), beside a store that stays nearly
   empty, in alternating rounds; CPU per command, and the wall time of a group commit's look-ups, inserts
   and COMMIT per command, grown beside empty (goal: ratio 0.90–1.10).

Options: ``--quick`` (smaller counts), ``--only 0,1,2,3``; part 3: ``--backends sqlite,postgresql``,
``--sizes 0,100000``, ``--creating 1.0`` (every command starts a stream, as registrations do) and
``--new-ids uuid7`` (new streams named by time-ordered ids instead of uuid4: at the end of the index).
"""

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, select, text

from shared.auth import issue_token
from shared.db import open_database
from shared.events import EventMetadata
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import idempotency_keys
from shared.eventstore.store import _Request, time_ordered_id
from shared.settings import Settings
from tests.benchmarks.registry import _seed_registry, _serve, body
from tests.natsserver import free_port
from tests.platform.counting import Counted

META = EventMetadata(actor="bench", unit_path="hn.ntl.fecon")


class OldLookupStore(EventStore):
    """The store as it was: the batch's keys filtered by ``key IN (…)`` alone (a scan of the key table)."""

    async def _lookup(self, conn: Any, batch: list[_Request]) -> tuple[dict[str, int], Any]:
        keyless = [_Request(r.appends, None, r.rows, r.future) for r in batch]
        versions, _ = await super()._lookup(conn, keyless)
        return versions, await self._existing_keys(conn, batch)

    async def _existing_keys(self, conn: Any, batch: list[_Request]) -> dict[tuple[str, str], IdempotencyRecord]:
        wanted = [r.idempotency for r in batch if r.idempotency is not None]
        if not wanted:
            return {}
        rows = await conn.execute(select(idempotency_keys).where(idempotency_keys.c.key.in_([w.key for w in wanted])))
        return {
            (row.namespace, row.key): IdempotencyRecord(
                row.namespace, row.key, row.request_hash, row.status_code, row.response
            )
            for row in rows
        }


def old_lookup_app() -> Any:
    """The registry app with the old look-up (uvicorn ``--factory`` target for the HTTP baseline)."""
    import shared.eventstore.store as store_module

    store_module.EventStore._lookup = OldLookupStore._lookup  # type: ignore[method-assign]
    store_module.EventStore._existing_keys = OldLookupStore._existing_keys  # type: ignore[method-assign]
    from services.registry.entrypoints.main import create_app

    return create_app()


async def _grow_keys(store: EventStore, count: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {"namespace": f"user-{n % 500}:POST:/initiatives", "key": str(uuid.uuid4()), "request_hash": "h",
         "status_code": 201, "response": {"n": n}, "created_at": now}
        for n in range(count)
    ]  # fmt: skip
    for start in range(0, len(rows), 5000):
        async with store.db.writer.begin() as conn:
            await conn.execute(insert(idempotency_keys), rows[start : start + 5000])
    if store.db.is_postgres:
        async with store.db.writer.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def _commands_per_second(store: EventStore, commands: int) -> float:
    async def one(n: int) -> None:
        append = StreamAppend.of(f"bench-{uuid.uuid4()}", 0, [(Counted(n=n), META)])
        record = IdempotencyRecord(f"user-{n % 500}:POST:/initiatives", str(uuid.uuid4()), "h", 201, {"n": n})
        await store.append(append, idempotency=record)

    start = time.perf_counter()
    for block in range(0, commands, 250):  # 250 concurrent commands: the writer commits them in groups
        await asyncio.gather(*(one(n) for n in range(block, min(block + 250, commands))))
    return commands / (time.perf_counter() - start)


@contextlib.asynccontextmanager
async def _store(url: str, cls: type[Any]) -> AsyncIterator[Any]:
    db = open_database(url)
    await migrate(db)
    store = cls(db)
    try:
        yield store
    finally:
        await store.close()
        await db.dispose()


async def bench_store(work: Path, sizes: list[int], commands: int) -> None:
    urls = {"sqlite": lambda name: f"sqlite+aiosqlite:///{work}/{name}.db"}
    with contextlib.suppress(Exception):
        import asyncpg

        from tests.conftest import PG_ADMIN_DSN

        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.close()
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        urls["postgres"] = lambda name: f"{base}/{name}"
    for backend, url_of in urls.items():
        for size in sizes:
            figures = {}
            for label, cls in [("now", EventStore), ("old", OldLookupStore)]:
                name = f"idem_{label}_{size}_{uuid.uuid4().hex[:6]}"
                if backend == "postgres":
                    await _pg_create(name)
                try:
                    async with _store(url_of(name), cls) as store:
                        await _grow_keys(store, size)
                        await _commands_per_second(store, 250)  # warm-up: statements prepared, caches filled
                        figures[label] = max([await _commands_per_second(store, commands) for _ in range(2)])
                finally:
                    if backend == "postgres":
                        await _pg_drop(name)
            print(
                f"  {backend}: {figures['now']:,.0f} commands/s with {size:,} keys stored "
                f"(baseline key IN (…): {figures['old']:,.0f}/s)  ratio {figures['now'] / figures['old']:.2f}",
                flush=True,
            )


async def _pg_create(name: str) -> None:
    import asyncpg

    from tests.conftest import PG_ADMIN_DSN

    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()


async def _pg_drop(name: str) -> None:
    import asyncpg

    from tests.conftest import PG_ADMIN_DSN

    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def bench_lookup(work: Path, sizes: list[int]) -> None:
    from shared.eventstore.store import _Request

    for size in sizes:
        async with _store(f"sqlite+aiosqlite:///{work}/lookup-{size}.db", EventStore) as store:
            await _grow_keys(store, size)
            batch = [
                _Request((), IdempotencyRecord(f"user-{n % 500}:POST:/x", str(uuid.uuid4()), "h", 201, {}), [], None)  # type: ignore[arg-type]
                for n in range(250)
            ]
            timings = {}
            for label, cls in [("now", EventStore), ("old", OldLookupStore)]:
                async with store.db.writer.begin() as conn:
                    await cls._existing_keys(store, conn, batch)  # warm-up
                    start = time.perf_counter()
                    for _ in range(20):
                        await cls._existing_keys(store, conn, batch)
                    timings[label] = (time.perf_counter() - start) / 20 * 1000
            print(
                f"  look-up of 250 keys with {size:,} stored: {timings['now']:.2f} ms "
                f"(baseline key IN (…): {timings['old']:.2f} ms)",
                flush=True,
            )


async def _load(port: int, clients: int, per_client: int, settings: Settings) -> float:
    """Registrations/s of ``clients`` httpx clients (a ceiling of its own: only the first/last ratio counts)."""
    token = issue_token(settings, "bench")
    rng = random.Random(7)
    bodies = [body(rng, n) for n in range(clients * per_client)]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for _ in range(100):
            try:
                if (await client.get("/health")).status_code in (200, 404):
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.1)

        async def one_client(c: int) -> None:
            for i in range(per_client):
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
                response = await client.post("/initiatives", json=bodies[c * per_client + i], headers=headers)
                assert response.status_code == 201, response.text

        start = time.perf_counter()
        await asyncio.gather(*(one_client(c) for c in range(clients)))
        return clients * per_client / (time.perf_counter() - start)


async def bench_http(work: Path, registrations: int) -> None:
    settings = Settings()
    blocks = registrations // 1000
    for label, target in [
        ("now", "services.registry.entrypoints.main:create_app"),
        ("old", "tests.benchmarks.idempotency:old_lookup_app"),
    ]:
        url = f"sqlite+aiosqlite:///{work}/registry-{label}.db"
        await _seed_registry(url)
        env = {"THIDUA_SERVICE": "registry", "THIDUA_DATABASE_URL": url, "THIDUA_RELAY_ENABLED": "false",
               "THIDUA_LOG_LEVEL": "WARNING"}  # fmt: skip
        port = free_port()
        server = _serve(target, port, env, True)
        try:
            rates = [await _load(port, 50, 20, settings) for _ in range(blocks)]
        finally:
            server.terminate()
            server.wait(10)
        print(
            f"  registry over HTTP ({label} look-up): {rates[0]:,.0f}/s in the first 1,000 registrations, "
            f"{rates[-1]:,.0f}/s in the last 1,000 of {blocks * 1000:,} (last/first {rates[-1] / rates[0]:.2f})",
            flush=True,
        )


# -- 3. history: 0 → 100,000 → 1,000,000 stored events and keys ------------------------------------

SEED_PER_STREAM = 10  # seeded history: streams of ten events each, one idempotency key per event


def seeded_stream(number: int) -> str:
    """The id of seeded stream ``number``: random-looking, as a service's (``initiative-<uuid4>``), so the
    (stream_id, version) index is spread as it is in a real store; derived from the number so a command can
    append to a seeded stream. Seeded keys are random UUIDs, as clients send them."""
    return f"initiative-{uuid.UUID(bytes=hashlib.md5(number.to_bytes(8, 'big')).digest(), version=4)}"


async def _seed_history(store: EventStore, start: int, end: int) -> None:
    """Events ``start``..``end`` (ten per stream) and as many idempotency keys, written in bulk (COPY on
    PostgreSQL, large executemany batches on SQLite), as the store would have written them."""
    now = datetime.now(UTC)
    metadata = orjson.dumps({"actor": "bench", "unit_path": "hn.ntl.fecon", "correlation_id": "c"}).decode()
    for chunk in range(start, end, 50_000):
        numbers = range(chunk, min(chunk + 50_000, end))
        event_rows = [
            (seeded_stream(n // SEED_PER_STREAM), n % SEED_PER_STREAM + 1, time_ordered_id(), "Counted", 1, now,
             orjson.dumps({"n": n, "poison": False}).decode(), metadata)
            for n in numbers
        ]  # fmt: skip
        key_rows = [(f"user-{n % 500}:POST:/x", str(uuid.uuid4()), "h", 201, '{"ok": true}', now) for n in numbers]
        event_columns = ["stream_id", "version", "event_id", "event_type", "schema_version", "occurred_at"]
        key_columns = ["namespace", "key", "request_hash", "status_code", "response", "created_at"]
        async with store.db.writer.connect() as conn:
            if store.db.is_postgres:
                driver = (await conn.get_raw_connection()).driver_connection
                await driver.copy_records_to_table(
                    "events", records=event_rows, columns=[*event_columns, "data", "metadata"]
                )
                await driver.copy_records_to_table("idempotency_keys", records=key_rows, columns=key_columns)
            else:
                raw = (await conn.get_raw_connection()).driver_connection
                stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME text
                await raw.execute("BEGIN IMMEDIATE")  # the driver runs in autocommit: one transaction per chunk
                await raw.executemany(
                    f"INSERT INTO events ({', '.join(event_columns)}, data, metadata) VALUES ({', '.join('?' * 8)})",
                    [(*row[:5], stamp, *row[6:]) for row in event_rows],
                )
                await raw.executemany(
                    f"INSERT INTO idempotency_keys ({', '.join(key_columns)}) VALUES ({', '.join('?' * 6)})",
                    [(*row[:5], stamp) for row in key_rows],
                )
                await raw.commit()
    # The seed's pages written back now, as a running service's would have been long ago: otherwise the
    # first rounds pay for the bulk load (SQLite's first checkpoint copies it all; PostgreSQL's checkpointer
    # flushes it) and the figure measures the seeding, not the history.
    async with store.db.writer.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection  # outside a transaction, as both need
        if store.db.is_postgres:
            await driver.execute("ANALYZE")
            await driver.execute("CHECKPOINT")
        else:
            await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PhasedStore(EventStore):
    """The store, with the wall time of each part of its group commits added up (seconds): the look-ups
    (stream versions and idempotency keys), the inserts (events and keys, the rest of the transaction) and
    COMMIT (the WAL write, and on SQLite the checkpoints it runs) — what grows with history."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phases = {"look-ups": 0.0, "inserts": 0.0, "commit": 0.0}

    async def _lookup(self, conn: Any, batch: list[_Request]) -> Any:
        began = time.perf_counter()
        try:
            return await super()._lookup(conn, batch)
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


NEW_IDS = {"uuid4": lambda: str(uuid.uuid4()), "uuid7": time_ordered_id}


async def _history_commands_per_second(
    store: EventStore, fresh: list[int], commands: int, creating: float = 0.25, new_ids: str = "uuid4"
) -> float:
    """Commands as a service sends them: by default three in four append one event to a stream with history
    (a seeded stream no command touched yet, at its version), the others (``creating``) start a stream named
    as the services name one today (``initiative-<uuid4>``; ``new_ids="uuid7"``: time-ordered); each with a
    new Idempotency-Key; 250 at a time."""
    new_id = NEW_IDS[new_ids]

    async def one(n: int) -> None:
        if fresh and n % 20 >= round(creating * 20):
            append = StreamAppend.of(seeded_stream(fresh.pop()), SEED_PER_STREAM, [(Counted(n=n), META)])
        else:
            append = StreamAppend.of(f"initiative-{new_id()}", 0, [(Counted(n=n), META)])
        record = IdempotencyRecord(f"user-{n % 500}:POST:/x", str(uuid.uuid4()), "h", 201, {"n": n})
        await store.append(append, idempotency=record)

    start = time.perf_counter()
    for block in range(0, commands, 250):
        await asyncio.gather(*(one(n) for n in range(block, min(block + 250, commands))))
    return commands / (time.perf_counter() - start)


async def bench_history(
    work: Path,
    sizes: list[int],
    commands: int,
    rounds: int = 8,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
    **mix: Any,
) -> None:
    """Command throughput with 0, 100,000 and 1,000,000 events and keys stored, beside a store that stays
    (nearly) empty, measured in alternating rounds (which store goes first alternates too), so a neighbour's
    burst lands on both. Each figure is the total over all rounds (commands / seconds): a WAL checkpoint or
    a page split that falls in a round counts, as it would for a service. Goal: the ratio within
    0.90–1.10; the row with nothing stored shows the noise of the machine."""
    prefix = os.environ.get("THIDUA_BENCH_DB_PREFIX", "thidua_bench")
    names = {role: f"{prefix}_history_{role}_{uuid.uuid4().hex[:6]}" for role in ("grown", "empty")}
    urls: dict[str, dict[str, str]] = {}
    if "sqlite" in backends:
        urls["SQLite"] = {role: f"sqlite+aiosqlite:///{work}/history-{role}.db" for role in names}
    if "postgresql" in backends:
        with contextlib.suppress(Exception):
            from tests.conftest import PG_ADMIN_DSN

            for name in names.values():
                await _pg_create(name)
            base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            urls["PostgreSQL"] = {role: f"{base}/{name}" for role, name in names.items()}
    try:
        for backend, url in urls.items():
            async with _store(url["grown"], PhasedStore) as grown, _store(url["empty"], PhasedStore) as empty:
                previous = 0
                for size in sizes:
                    began = time.perf_counter()
                    await _seed_history(grown, previous, size)
                    seeding = time.perf_counter() - began
                    fresh = list(range(previous // SEED_PER_STREAM, size // SEED_PER_STREAM))
                    random.shuffle(fresh)
                    previous = size
                    seconds = {"grown": 0.0, "empty": 0.0}
                    cpu = {"grown": 0.0, "empty": 0.0}
                    await _history_commands_per_second(grown, fresh, 250, **mix)  # warm-up
                    await _history_commands_per_second(empty, [], 250, **mix)
                    for store in (grown, empty):
                        store.phases = dict.fromkeys(store.phases, 0.0)
                    order = [("empty", empty, []), ("grown", grown, fresh)]
                    for _ in range(rounds):
                        for role, store, streams in order:
                            spent = await _cpu_seconds(store)
                            seconds[role] += commands / await _history_commands_per_second(
                                store, streams, commands, **mix
                            )
                            cpu[role] += await _cpu_seconds(store) - spent
                        order.reverse()
                    rate = {role: rounds * commands / seconds[role] for role in seconds}
                    per_command = {role: cpu[role] / (rounds * commands) * 1e6 for role in cpu}
                    print(
                        f"  {backend}: {rate['grown']:,.0f} commands/s with {size:,} events and keys stored "
                        f"(baseline a store with none, same rounds: {rate['empty']:,.0f}/s)  "
                        f"ratio {rate['grown'] / rate['empty']:.2f}  goal 0.90–1.10;  CPU per command "
                        f"{per_command['grown']:.0f} µs (baseline {per_command['empty']:.0f} µs)  "
                        f"[{rounds} × {commands:,} commands each; seeded in {seeding:.0f} s; "
                        f"load {' '.join(f'{v:.1f}' for v in os.getloadavg())}]\n"
                        f"    wall µs per command in group commits: {grown.per_command(rounds * commands)} "
                        f"(baseline {empty.per_command(rounds * commands)})",
                        flush=True,
                    )
    finally:
        if "PostgreSQL" in urls:
            for name in names.values():
                await _pg_drop(name)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="0,1,2,3")
    parser.add_argument("--registrations", type=int, default=15_000)
    parser.add_argument("--backends", default="sqlite,postgresql", help="part 3: sqlite, postgresql or both")
    parser.add_argument("--sizes", help="part 3: stored events and keys, e.g. 0,100000,1000000")
    parser.add_argument("--creating", type=float, default=0.25, help="part 3: share of commands starting a stream")
    parser.add_argument("--new-ids", choices=sorted(NEW_IDS), default="uuid4", help="part 3: new streams' ids")
    args = parser.parse_args()
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if "0" in only:
            print("0. the idempotency look-up of one group commit", flush=True)
            await bench_lookup(work, [0, 20_000] if args.quick else [0, 50_000, 200_000])
        if "1" in only:
            print("1. store: group-committed commands with an Idempotency-Key, as the key table grows", flush=True)
            sizes = [0, 20_000] if args.quick else [0, 50_000, 200_000]
            await bench_store(work, sizes, 1000 if args.quick else 5000)
        if "2" in only:
            print("2. registrations over HTTP as history grows (the issue's 290 → 154/s)", flush=True)
            await bench_http(work, 3000 if args.quick else args.registrations)
        if "3" in only:
            print("3. commands/s as history grows to 1,000,000 events and keys (SQLite, PostgreSQL)", flush=True)
            sizes = [0, 10_000, 100_000] if args.quick else [0, 100_000, 500_000, 1_000_000]
            if args.sizes:
                sizes = [int(size) for size in args.sizes.split(",")]
            backends = tuple(args.backends.split(","))
            mix = {"creating": args.creating, "new_ids": args.new_ids}
            await bench_history(work, sizes, 500 if args.quick else 1500, backends=backends, **mix)


if __name__ == "__main__":
    asyncio.run(main())
