"""Fixtures on real parts: a nats-server per test, SQLite files, PostgreSQL where the machine has one."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.natsserver import NatsServer

# The tests are a local run: the repository's published signing secret is accepted, "admin" is the
# platform operator (shared.settings).
os.environ.setdefault("THIDUA_LOCAL", "true")

PG_ADMIN_DSN = os.environ.get("THIDUA_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()


@pytest.fixture
def settings(nats_server: NatsServer, tmp_path: Path) -> Settings:
    return Settings(
        service="testsvc",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/service.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        projection_ack_wait_seconds=2.0,
        projection_nak_delay_seconds=0.2,
        projection_max_deliver=3,
        log_json=False,
    )


async def _pg_admin():
    import asyncpg

    try:
        return await asyncio.wait_for(asyncpg.connect(PG_ADMIN_DSN), 3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN} ({error})")


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new PostgreSQL database, dropped afterwards; skips (naming the server) where none is reachable."""
    name = f"thidua_test_{uuid.uuid4().hex[:10]}"
    admin = await _pg_admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same contract on both stores; the test id says which ran."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/store.db"
        return
    async with fresh_postgres_database() as url:
        yield url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which stores the event store contract ran on (the ids say it; ``-q`` hides the ids)."""
    ran: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "test_event_store.py" not in nodeid or "[" not in nodeid:
                continue
            store = nodeid.rsplit("[", 1)[1].rstrip("]")
            ran.setdefault(store, {}).setdefault(outcome, 0)
            ran[store][outcome] += 1
    if ran:
        parts = [
            f"{store}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
            for store, counts in sorted(ran.items())
        ]
        terminalreporter.write_line("event store contract — " + "; ".join(parts))
