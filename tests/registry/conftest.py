"""Fixtures of the registry tests: a real SQLite file per test, the app with its lifespan (no NATS: the
unit tree copy is fed directory events in-process), tokens and a small city."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.registry.entrypoints.main import create_app
from shared.settings import Settings
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
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://registry") as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    return Api(client, settings)
