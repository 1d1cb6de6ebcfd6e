"""Idempotency look-up benchmark (run on purpose: ``python -m tests.benchmarks.idempotency``): commands
must not slow down as the key table grows (issue 8 defect 10). Every figure is printed beside the
baseline measured in the same run: the look-up the store used before, ``key IN (…)``, which the primary
key (namespace, key) cannot serve.

0. the look-up itself: one group commit's 250 keys, with 0 / 50,000 / 200,000 keys stored (SQLite);
1. store: commands/s of group-committed appends, each with an Idempotency-Key, with 0 / 50,000 / 200,000
   keys already stored — SQLite, and PostgreSQL when reachable (best of two runs after a warm-up);
2. HTTP: registrations/s through the registry under uvicorn (SQLite, relay off, 64 clients), per block of
   1,000, over ``--registrations`` (default 15,000) — first and last block;
3. history (issue 12): ``tests.benchmarks.history`` — commands/s with up to 1,000,000 stored events and
   keys, keys kept forever and keys expiring, new streams by uuid4 and uuid7 ids, beside an empty store.

Options: ``--quick`` (smaller counts), ``--only 0,1,2,3``; any other option goes to part 3 (see
``tests/benchmarks/history.py``: ``--backends``, ``--sizes``, ``--creating``, ``--new-ids``, ``--rounds``).
"""

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text

from shared.auth import issue_token
from shared.db import open_database
from shared.events import EventMetadata
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import idempotency_keys
from shared.eventstore.store import _Request
from shared.settings import Settings
from tests.benchmarks.registry import _seed_registry, _serve, body
from tests.natsserver import free_port
from tests.platform.counting import Counted

META = EventMetadata(actor="bench", unit_path="hn.ntl.fecon")


class OldLookupStore(EventStore):
    """The store as it was: the batch's keys filtered by ``key IN (…)`` alone (a scan of the key table)."""

    async def _lookup(self, conn: Any, batch: list[_Request], read_new_streams: bool) -> tuple[dict[str, int], Any]:
        keyless = [_Request(r.appends, None, r.rows, r.future) for r in batch]
        versions, _ = await super()._lookup(conn, keyless, read_new_streams)
        return versions, await self._old_keys(conn, batch)

    @staticmethod
    async def _old_keys(conn: Any, batch: list[_Request]) -> dict[tuple[str, str], IdempotencyRecord]:
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

    new_lookup = store_module.EventStore._lookup

    async def old_lookup(self: EventStore, conn: Any, batch: list[_Request], read_new_streams: bool) -> Any:
        keyless = [_Request(r.appends, None, r.rows, r.future) for r in batch]
        versions, _ = await new_lookup(self, conn, keyless, read_new_streams)
        return versions, await OldLookupStore._old_keys(conn, batch)

    store_module.EventStore._lookup = old_lookup  # type: ignore[method-assign]
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
            wanted = sorted({(r.idempotency.namespace, r.idempotency.key) for r in batch if r.idempotency})
            for label, look_up in [
                ("now", lambda conn, wanted=wanted: EventStore._existing_keys(conn, wanted)),
                ("old", lambda conn, batch=batch: OldLookupStore._old_keys(conn, batch)),
            ]:
                async with store.db.writer.begin() as conn:
                    await look_up(conn)  # warm-up
                    start = time.perf_counter()
                    for _ in range(20):
                        await look_up(conn)
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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="0,1,2,3")
    parser.add_argument("--registrations", type=int, default=15_000)
    args, history_argv = parser.parse_known_args()  # the rest goes to part 3 (tests.benchmarks.history)
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
            from tests.benchmarks import history

            print("3. commands/s as history grows to 1,000,000 events and keys (tests.benchmarks.history)", flush=True)
            quick = ["--sizes", "0,10000,100000", "--commands", "500"] if args.quick else []
            await history.main(quick + history_argv)


if __name__ == "__main__":
    asyncio.run(main())
