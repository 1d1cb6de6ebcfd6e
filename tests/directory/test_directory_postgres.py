"""The directory on PostgreSQL (production's store): the partial unique index, re-pathing SQL and the
level projection's truth, where the machine has a server (skipped, naming it, where none is reachable)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from services.directory.entrypoints.main import create_app
from shared.errors import Conflict
from shared.settings import Settings
from tests.conftest import fresh_postgres_database
from tests.directory.directory_helpers import Driver
from tests.directory.level_harness import Level, MessageLog, truth

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    async with fresh_postgres_database() as url:
        app = create_app(Settings(database_url=url, relay_enabled=False, log_json=False, log_level="WARNING"))
        async with app.router.lifespan_context(app):
            yield app


async def test_restructuring_on_postgres(app: FastAPI, driver: Driver, tmp_path: Path) -> None:
    for path, kind in [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.dd", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
        ("hn.ntl.fecon.kt", "sub_unit"),
        ("hn.dd.handico", "grassroots_union"),
    ]:
        await driver.register(path, kind)
    await driver.enrol("hn.ntl.fecon.kt", "Lê Minh Cường")
    outcomes = await asyncio.gather(
        *(driver.register("hn.dd.ceo", "grassroots_union") for _ in range(3)), return_exceptions=True
    )
    assert sum(isinstance(o, Conflict) for o in outcomes) == 2
    await driver.move("hn.ntl.fecon", "hn.dd")
    await driver.merge("hn.dd.handico", "hn.dd.fecon")
    assert [u.path for u in await driver.records.subtree("hn.dd")] == [
        "hn.dd",
        "hn.dd.ceo",
        "hn.dd.fecon",
        "hn.dd.fecon.kt",
    ]
    log = MessageLog()
    await log.sync(app.state.store)
    for scope in ("hn.ntl", "hn.dd"):
        level = Level(scope, log, tmp_path)
        await level.catch_up()
        assert await level.state() == await truth(app.state.store.db, scope), scope
        await level.db.dispose()
