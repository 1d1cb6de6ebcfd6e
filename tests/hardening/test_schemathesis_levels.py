"""schemathesis over every level host's OpenAPI: the reads a district official, an agency or a hostile
caller sends to ``/levels/{level}/…`` (filters, pages, years, search text, exports), generated valid and
invalid, in-process against real SQLite: the level ``hn`` of each service (its read model's tables made by
its projection) and the host's copy of the directory holding a small city. Checks: no server error, no
response outside the documented schema, content type or statuses. Deterministic and bounded."""

import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import schemathesis
from fastapi import APIRouter, FastAPI

from shared.db import Database, open_database
from shared.directory_copy import DirectoryCopy
from shared.level_host import Host, host_app
from shared.projection import Projection
from shared.settings import Settings
from shared.tokens import issue_token
from tests.copies import register_units
from tests.hardening.test_schemathesis import CHECKS, FUZZ
from tests.levels import apply_level

LEVEL = "hn"
CITY = [
    ("hn", "city_federation", "Liên đoàn Lao động Thành phố Hà Nội"),
    ("hn.ntl", "upper_level_union", "Liên đoàn Lao động quận Nam Từ Liêm"),
    ("hn.ntl.fecon", "grassroots_union", "Công đoàn Công ty Cổ phần Fecon"),
    ("hn.dd", "upper_level_union", "Liên đoàn Lao động quận Đống Đa"),
]


def _hosts() -> dict[str, tuple[Callable[[], Projection], APIRouter]]:
    """Each service's level projection and its reads, as its ``entrypoints/projector.py`` serves them."""
    from services.awards.adapters.level import AwardsLevel
    from services.awards.adapters.level import router as awards_reads
    from services.directory.adapters.level import DirectoryLevelProjection
    from services.directory.adapters.level_reads import router as directory_reads
    from services.inspections.adapters.level import InspectionsProjection
    from services.inspections.adapters.level_reads import router as inspections_reads
    from services.pledges.adapters.level import PledgesLevelProjection
    from services.pledges.adapters.level_reads import router as pledges_reads
    from services.registry.adapters.level import RegistryLevelProjection
    from services.registry.adapters.level_reads import router as registry_reads

    return {
        "directory": (DirectoryLevelProjection, directory_reads),
        "registry": (RegistryLevelProjection, registry_reads),
        "pledges": (PledgesLevelProjection, pledges_reads),
        "inspections": (InspectionsProjection, inspections_reads),
        "awards": (AwardsLevel, awards_reads),
    }


HOSTS = _hosts()
_folder = tempfile.TemporaryDirectory(prefix="thidua-schemathesis-levels-")


class SeededLevelHost:
    """A level host serving ``hn`` whose databases are opened on each lifespan start (schemathesis may
    start and stop the lifespan per call, each time in a new event loop) and prepared once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.folder = Path(_folder.name) / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(service=f"{name}-levels", log_json=False, log_level="WARNING", relay_enabled=False)
        self.projection, self.reads = HOSTS[name]
        self.app = self._app([])  # for the schema: the routes do not depend on the databases
        self.prepared = False

    def _app(self, databases: list[Database]) -> FastAPI:
        copy = DirectoryCopy(databases[0] if databases else None, name=f"{self.name}_host_directory")
        slots = {LEVEL: SimpleNamespace(db=databases[1] if databases else None, healthy=True, health=dict)}
        return host_app(self.settings, Host(self.name, slots), copy, self.reads, stop=None)  # type: ignore[arg-type]

    async def _open(self) -> list[Database]:
        copy_db = open_database(f"sqlite+aiosqlite:///{self.folder}/directory.db")
        level_db = open_database(f"sqlite+aiosqlite:///{self.folder}/{LEVEL}.db")
        if not self.prepared:
            copy = DirectoryCopy(copy_db)
            await copy.create_tables()
            await register_units(copy, CITY, {path: "u-" + path.replace(".", "-") for path, _, _ in CITY})
            await apply_level(level_db, self.projection(), LEVEL, [])  # the read model's tables, empty
            self.prepared = True
        return [copy_db, level_db]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return await self.current(scope, receive, send)
        assert (await receive())["type"] == "lifespan.startup"
        databases = await self._open()
        self.current = self._app(databases)
        await send({"type": "lifespan.startup.complete"})
        await receive()
        for db in databases:
            await db.dispose()
        await send({"type": "lifespan.shutdown.complete"})
        return None


_apps = {name: SeededLevelHost(name) for name in HOSTS}


def _schema(name: str) -> Any:
    schema = schemathesis.openapi.from_dict(_apps[name].app.openapi())
    schema.app = _apps[name]
    return schema.exclude(path_regex=r"/rebuild$")  # replays over NATS: the level host tests cover it


def call(name: str, case: schemathesis.Case) -> None:
    """The operator reads the level ``hn`` (any other level is a plain 404 the host answers first)."""
    if "level" in (case.path_parameters or {}):
        case.path_parameters["level"] = LEVEL
    headers = {"Authorization": f"Bearer {issue_token(_apps[name].settings, 'admin')}"}
    case.call_and_validate(headers=headers, checks=CHECKS)


directory = _schema("directory")
registry = _schema("registry")
pledges = _schema("pledges")
inspections = _schema("inspections")
awards = _schema("awards")


@directory.parametrize()
@FUZZ
def test_directory_levels(case: schemathesis.Case) -> None:
    call("directory", case)


@registry.parametrize()
@FUZZ
def test_registry_levels(case: schemathesis.Case) -> None:
    call("registry", case)


@pledges.parametrize()
@FUZZ
def test_pledges_levels(case: schemathesis.Case) -> None:
    call("pledges", case)


@inspections.parametrize()
@FUZZ
def test_inspections_levels(case: schemathesis.Case) -> None:
    call("inspections", case)


@awards.parametrize()
@FUZZ
def test_awards_levels(case: schemathesis.Case) -> None:
    call("awards", case)
