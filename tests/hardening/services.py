"""The services under the hardening tests, in one place: how to start each on a real SQLite file with a
small city in it, and a caller with a valid token. A new service (inspections, awards) is added here and
every hardening test — the problem shape, the strict JSON guard, the schemathesis run — covers it."""

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from shared.settings import Settings
from tests.people import TEST_PEOPLE_STREAMS, People, bearer


@dataclass
class Running:
    """A started service: its app, an HTTP client in-process, and the ids of what the seed made."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)

    def headers(self, unit: str = "hn", *roles: str, key: str | None = None) -> dict[str, str]:
        """A person of ``unit`` holding ``roles`` (default: a chair who is also a platform operator);
        the client's ``People`` makes them exist in the service's view of the directory."""
        person = bearer(self.settings, unit, *(roles or ("chair", "admin")))
        return {**person, "Idempotency-Key": key or str(uuid.uuid4())}

    async def event_count(self) -> int:
        """Events stored, leaving out the test people's own."""
        from sqlalchemy import func, select

        from shared.eventstore.schema import events

        async with self.app.state.db.reader.connect() as conn:
            query = select(func.count()).select_from(events).where(events.c.stream_id.not_like(TEST_PEOPLE_STREAMS))
            return int(await conn.scalar(query) or 0)


def _settings(name: str, folder: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "service": name,
        "database_url": f"sqlite+aiosqlite:///{folder}/{name}.db",
        "relay_enabled": False,
        "log_json": False,
        "log_level": "WARNING",
    }
    return Settings(**(values | extra))


# -- each service: build the app, then seed it once its lifespan has started -----------------------


def _directory_app(settings: Settings) -> FastAPI:
    from services.directory.entrypoints.main import create_app

    return create_app(settings)


async def _directory_seed(app: FastAPI) -> dict[str, str]:
    from tests.directory.directory_helpers import Driver

    driver = Driver(app.state.deps)
    ids = {}
    for path, kind in [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
    ]:
        ids[path] = await driver.register(path, kind)
    return ids


def _registry_app(settings: Settings) -> FastAPI:
    from services.registry.entrypoints.main import create_app

    return create_app(settings)


async def _registry_seed(app: FastAPI) -> dict[str, str]:
    from tests.registry.api_helpers import CITY, seed_units, unit_id

    await seed_units(app, CITY)
    return {path: unit_id(path) for path, _, _ in CITY}


def _pledges_app(settings: Settings) -> FastAPI:
    from services.pledges.entrypoints.main import create_app

    return create_app(settings)


async def _pledges_seed(app: FastAPI) -> dict[str, str]:
    from tests.pledges.pledges_helpers import City

    city = City().build()
    await city.feed(app)
    people = {f"official:{p}": m for p, m in city.officials.items()} | {
        f"member:{p}": m for p, m in city.members.items()
    }
    return city.ids | people


def _inspections_app(settings: Settings) -> FastAPI:
    from services.inspections.entrypoints.main import create_app

    return create_app(settings, sweep=False)


async def _inspections_seed(app: FastAPI) -> dict[str, str]:
    from tests.inspections.api_helpers import World

    world = await World(app).city()
    await world.campaign()
    return dict(world.ids)


def _awards_app(settings: Settings) -> FastAPI:
    from services.awards.entrypoints.main import create_app
    from tests.awards.awards_api import Clock

    return create_app(settings, clock=Clock())


async def _awards_seed(app: FastAPI) -> dict[str, str]:
    from tests.awards.awards_api import AN, CITY, facts, initiative_events, seed_units, unit_id

    await seed_units(app, CITY)
    await facts(app, *initiative_events())  # an initiative recognised and applied: a nominee with facts
    return {path: unit_id(path) for path, _, _ in CITY} | {"member:an": AN}


Factory = Callable[[Settings], FastAPI]
Seed = Callable[[FastAPI], Awaitable[dict[str, str]]]
SERVICES: dict[str, tuple[Factory, Seed]] = {
    "directory": (_directory_app, _directory_seed),
    "registry": (_registry_app, _registry_seed),
    "pledges": (_pledges_app, _pledges_seed),
    "inspections": (_inspections_app, _inspections_seed),
    "awards": (_awards_app, _awards_seed),
}


def people(name: str, app: FastAPI, settings: Settings) -> People:
    """Test people in the service's view of the directory (``tests.people``)."""
    if name == "directory":
        from tests.directory.directory_helpers import ensure_person

        return People(
            settings, lambda path, roles, who: ensure_person(app.state.deps, path, roles, who), admin_in_unit=True
        )
    from tests.copies import copied_person

    copy = app.state.directory
    return People(settings, lambda path, roles, who: copied_person(copy, path, roles, who), admin_in_unit=True)


@contextlib.asynccontextmanager
async def running(name: str, folder: Path, **settings: Any) -> AsyncIterator[Running]:
    factory, seed = SERVICES[name]
    config = _settings(name, folder, **settings)
    app = factory(config)
    async with app.router.lifespan_context(app):
        ids = await seed(app)
        transport = httpx.ASGITransport(app)
        auth = people(name, app, config)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}", auth=auth) as client:
            yield Running(name, app, client, config, ids)


class SeededApp:
    """An ASGI app whose lifespan starts the service and seeds it (for tools that run the lifespan
    themselves, like schemathesis)."""

    def __init__(self, name: str, folder: Path) -> None:
        factory, self._seed = SERVICES[name]
        self.settings = _settings(name, folder)
        self.app = factory(self.settings)
        self.ids: dict[str, str] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with self.app.router.lifespan_context(self.app):
            if not self.ids:  # a tool may stop and start the lifespan again: the city is seeded once
                self.ids = await self._seed(self.app)
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return None
