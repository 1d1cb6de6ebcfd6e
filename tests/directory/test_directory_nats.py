"""The directory with its outbox relay on a real nats-server, and the level projection under the real
ProjectionRunner: a unit with history moves between levels; both levels equal the truth and a rebuild."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.directory.adapters.level import DirectoryLevelProjection, read_units
from services.directory.entrypoints.main import create_app
from shared.db import open_database
from shared.messaging import connect
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import STREAM
from tests.directory.directory_helpers import Driver, event_count
from tests.directory.level_harness import truth
from tests.natsserver import NatsServer


@pytest.fixture
def settings(tmp_path: Path, nats_server: NatsServer) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/directory.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)  # relay enabled: it runs in the lifespan
    async with app.router.lifespan_context(app):
        yield app


async def test_levels_under_the_real_runner(app: FastAPI, driver: Driver, settings: Settings, tmp_path: Path) -> None:
    for path, kind in [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.dd", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
        ("hn.ntl.fecon.kt", "sub_unit"),
        ("hn.dd.handico", "grassroots_union"),
    ]:
        await driver.register(path, kind)
    await driver.enrol("hn.ntl.fecon", "Nguyễn Văn An", "Trần Thị Bình")
    await driver.enrol("hn.ntl.fecon.kt", "Lê Minh Cường")
    await driver.rename("hn.ntl.fecon", "Công đoàn Công ty Cổ phần Fecon")
    await driver.move("hn.ntl.fecon", "hn.dd")
    await driver.enrol("hn.dd.fecon.kt", "Phạm Thu Hà")
    await driver.merge("hn.dd.handico", "hn.dd.fecon")

    nc, js = await connect(settings.nats_url, "directory-level-test")
    try:
        stored = await event_count(app)
        for _ in range(200):
            if (await js.stream_info(STREAM)).state.messages >= stored:
                break
            await asyncio.sleep(0.05)
        assert (await js.stream_info(STREAM)).state.messages == stored
        health = (
            await httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://d").get("/health")
        ).json()
        assert health["relay"]["published"] == stored and health["relay"]["last_error"] is None

        for scope in ("hn.ntl", "hn.dd"):  # the one that lost fecon, the one that gained it
            db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level-{scope}.db")
            runner = ProjectionRunner(DirectoryLevelProjection(), scope, db, js, settings)
            await runner.start()
            await runner.catch_up(idle_timeout=0.2)
            expected = await truth(app.state.store.db, scope)
            async with db.reader.connect() as conn:
                units = await read_units(conn)
            assert {u["unit_id"]: u for u in units} == expected, scope
            await runner.rebuild()
            async with db.reader.connect() as conn:
                assert await read_units(conn) == units, scope
            await db.dispose()
        assert [u["path"] for u in units] == ["hn.dd", "hn.dd.fecon", "hn.dd.fecon.kt", "hn.dd.handico"]
    finally:
        await nc.close()
