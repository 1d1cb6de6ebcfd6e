"""Fixtures of the awards API tests: a real SQLite file per test, the app with its lifespan (no NATS: the
directory copy and the facts are fed their contract events in-process), a clock the test moves, people."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.awards.entrypoints.main import create_app
from shared.settings import Settings
from tests.awards.awards_api import CITY, Api, Clock, seed_units

REPO = Path(__file__).resolve().parents[2]
# What may appear at the repository's root while tests run (tool caches, the data folder); nothing else.
TOOL_FOLDERS = {".hypothesis", ".pytest_cache", ".ruff_cache", "data", "test-output", "mutants", "__pycache__"}


@pytest.fixture(autouse=True)
def nothing_written_at_the_root() -> Iterator[None]:
    """An awards test writes into its tmp_path, never the repository's root (an ``agency.db`` once did)."""
    before = set(os.listdir(REPO))
    yield
    written = set(os.listdir(REPO)) - before - TOOL_FOLDERS
    assert not written, f"written at the repository's root: {sorted(written)}"


@pytest.fixture
def awards_settings(tmp_path: Path) -> Settings:
    return Settings(
        service="awards",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/awards.db",
        relay_enabled=False,
        log_json=False,
        log_level="WARNING",
        max_body_bytes=256 * 1024,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def awards_app(
    awards_settings: Settings, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FastAPI]:
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    app = create_app(awards_settings, clock=clock)
    async with app.router.lifespan_context(app):
        await seed_units(app, CITY)
        yield app


@pytest.fixture
async def api(awards_app: FastAPI, awards_settings: Settings) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(awards_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://awards") as client:
        yield Api(client, awards_settings, awards_app)
