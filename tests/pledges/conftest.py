"""Fixtures of the pledges tests: a real SQLite file per test, the app with its lifespan (no NATS), a
controllable clock, and a small city in the service's copy of the unit tree."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.pledges.entrypoints.main import create_app
from shared.settings import Settings
from tests.copies import copied_person
from tests.people import People
from tests.pledges.pledges_helpers import City, Clock


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        service="pledges",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/pledges.db",
        relay_enabled=False,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def people(app: FastAPI, settings: Settings) -> People:
    return People(settings, lambda path, roles, who: copied_person(app.state.directory, path, roles, who))


@pytest.fixture
async def client(app: FastAPI, people: People) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pledges", auth=people) as client:
        yield client


@pytest.fixture
async def city(app: FastAPI) -> City:
    city = City().build()
    await city.feed(app)
    return city
