"""Fixtures of the registry tests: a real SQLite file per test, the app with its lifespan (no NATS: the
unit tree copy is fed directory events in-process), tokens and a small city."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.registry.entrypoints.main import create_app
from shared.settings import Settings
from tests.copies import copied_person
from tests.people import People
from tests.registry.api_helpers import CITY, Api, seed_units


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        service="registry",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/registry.db",
        relay_enabled=False,
        log_json=False,
        log_level="WARNING",
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await seed_units(app, CITY)
        yield app


@pytest.fixture
def people(app: FastAPI, settings: Settings) -> People:
    return People(settings, lambda path, roles, who: copied_person(app.state.directory, path, roles, who))


@pytest.fixture
async def client(app: FastAPI, people: People) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry", auth=people) as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, people: People) -> Api:
    return Api(client, people)
