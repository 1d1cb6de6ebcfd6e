"""Fixtures of the directory tests: a real SQLite file per test, the app with its lifespan, tokens,
and an in-process driver that runs commands through the real handlers (no HTTP)."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.directory.entrypoints.main import create_app
from shared.settings import Settings
from tests.directory.directory_helpers import Driver, ensure_person
from tests.people import People


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/directory.db",
        relay_enabled=False,
        log_json=False,
        log_level="WARNING",
        max_body_bytes=16 * 1024,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def people(app: FastAPI, settings: Settings) -> People:
    return People(settings, lambda path, roles, who: ensure_person(app.state.deps, path, roles, who))


@pytest.fixture
async def client(app: FastAPI, people: People) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory", auth=people) as client:
        yield client


@pytest.fixture
def driver(app: FastAPI) -> Driver:
    return Driver(app.state.deps)
