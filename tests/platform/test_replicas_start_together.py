"""Replicas of a service starting together on one PostgreSQL database: each consumer's runner creates its
read-model and checkpoint tables at start, and two ``CREATE TABLE``s of one table at the same moment fail
on PostgreSQL (a unique violation in ``pg_type``). The start-up lock serialises them, so every runner
starts, on a fresh database, at the first try. Real nats-server, real PostgreSQL (skipped, naming the
server, where none is reachable)."""

import asyncio

from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.conftest import fresh_postgres_database
from tests.platform.counting import CountingProjection

REPLICAS = 6


async def test_runners_starting_together_on_a_fresh_postgres_database_all_start(settings: Settings) -> None:
    async with fresh_postgres_database() as url:
        dbs = [open_database(url) for _ in range(REPLICAS)]  # one engine per replica, as in production
        nc, js = await connect(settings.nats_url, "replicas")
        await ensure_streams(js, settings)
        try:
            runners = [
                ProjectionRunner(CountingProjection(), "hn", db, js, settings, durable=f"counting_replica_{n}")
                for n, db in enumerate(dbs)
            ]
            results = await asyncio.gather(*(r.start() for r in runners), return_exceptions=True)
            assert [r for r in results if isinstance(r, BaseException)] == []
            async with dbs[0].reader.connect() as conn:
                tables = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
            assert {"counts"} <= set(tables)
        finally:
            await nc.close()
            for db in dbs:
                await db.dispose()
