"""Fixtures of the inspections API tests: the service on a real SQLite file (no NATS: its copies of the
directory and the facts are fed their events by hand), a controllable clock, people and a client."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.inspections.entrypoints.main import create_app
from shared.settings import Settings
from tests.inspections.api_helpers import Clock, World
from tests.people import People


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    return Settings(
        service="inspections",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/inspections.db",
        relay_enabled=False,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def app(api_settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    app = create_app(api_settings, clock=clock, sweep=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def world(app: FastAPI) -> World:
    world = World(app)
    await world.city()
    await world.campaign()
    return world


@pytest.fixture
async def client(app: FastAPI, api_settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    people = People(api_settings, world.person)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://inspections", auth=people) as c:
        yield c
