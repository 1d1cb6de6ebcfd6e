"""The issue's picture, end to end over HTTP, the relay, a real nats-server and three level projectors:
a change in a grassroots union of Nam Từ Liêm shows in the city's and Nam Từ Liêm's views, not Đống Đa's."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.directory.adapters.level import DirectoryLevelProjection, read_units
from services.directory.entrypoints.main import create_app
from shared.db import Database, open_database
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import STREAM
from tests.directory.directory_helpers import ensure_person
from tests.people import People
from tests.platform.helpers import wait_for


@pytest.fixture
async def directory(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"service": "directory"}))
    async with app.router.lifespan_context(app):
        yield app


async def level_units(db: Database) -> dict[str, dict[str, Any]]:
    async with db.reader.connect() as conn:
        return {u["path"]: u for u in await read_units(conn, None)}


async def test_a_grassroots_change_reaches_its_district_and_the_city_only(
    directory: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    people = People(settings, lambda path, roles, who: ensure_person(directory.state.deps, path, roles, who))
    admin = await people.headers("hn", "admin")
    transport = httpx.ASGITransport(directory)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:

        async def register(code: str, kind: str, parent: str | None) -> str:
            body = {"code": code, "name": f"Công đoàn {code}", "kind": kind, "parent_id": parent}
            response = await client.post("/units", json=body, headers=admin)
            assert response.status_code == 201, response.text
            return response.json()["unit_id"]

        city = await register("hn", "city_federation", None)
        ntl = await register("ntl", "upper_level_union", city)
        dd = await register("dd", "upper_level_union", city)
        fecon = await register("fecon", "grassroots_union", ntl)
        await register("handico", "grassroots_union", dd)
        fecon_chair = await people.headers("hn.ntl.fecon", "chair")  # a person: enrolled before the counts

        nc, js = await connect(settings.nats_url, "levels-test")
        await ensure_streams(js, settings)
        levels = {
            scope: open_database(f"sqlite+aiosqlite:///{tmp_path}/{scope}.db") for scope in ("hn", "hn.ntl", "hn.dd")
        }
        runners = {s: ProjectionRunner(DirectoryLevelProjection(), s, db, js, settings) for s, db in levels.items()}

        async def settled() -> bool:
            return (await js.stream_info(STREAM)).state.messages >= 7

        await wait_for(settled, what="the five registrations and the chair to be published")
        for runner in runners.values():
            await runner.start()
            await runner.catch_up(idle_timeout=0.2)
        before = {scope: await level_units(db) for scope, db in levels.items()}

        enrolled = await client.post(
            f"/units/{fecon}/members", json={"full_name": "Nguyễn Thị Lan"}, headers=fecon_chair
        )
        assert enrolled.status_code == 201, enrolled.text

        async def published() -> bool:
            return (await js.stream_info(STREAM)).state.messages >= 8

        await wait_for(published, what="the enrolment to be published")
        for runner in runners.values():
            await runner.catch_up(idle_timeout=0.2)
        after = {scope: await level_units(db) for scope, db in levels.items()}

    for level in ("hn", "hn.ntl"):
        assert after[level]["hn.ntl.fecon"]["member_count"] == before[level]["hn.ntl.fecon"]["member_count"] + 1
    assert "hn.ntl.fecon" not in after["hn.dd"]
    assert after["hn.dd"] == before["hn.dd"]  # Đống Đa's view did not change at all
    assert set(after["hn.dd"]) == {"hn.dd", "hn.dd.handico"}
    await nc.close()
    for db in levels.values():
        await db.dispose()
