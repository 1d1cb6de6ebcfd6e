"""The level host: one process serves many levels of one service's projection.

    python -m services.registry.entrypoints.projector --level hn --level hn.ntl --port 8202

Each level keeps its own durable consumer, checkpoint and database (``--db``, a URL template with
``{projection}`` and ``{level}``), so it can be rebuilt alone. Reads are at ``/levels/{level}/…``
behind the same bearer token and subtree rule as the services: the host keeps its own copy of the
directory to know who is calling. ``GET /levels`` lists what this host serves; ``GET /health`` is 503
until every level has caught up with the stream; ``POST /levels/{level}/rebuild`` (admin) drops a
level's read model and replays it while the others keep serving.

A deployment assigns levels to hosts: a small city runs one host per service with every level; a large
one splits the levels of a service across hosts (e.g. the city and half the districts on one, the other
districts on another), each host started with its own ``--level`` list.
"""

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from shared.auth import CurrentCaller
from shared.db import Database, open_database
from shared.directory_copy import DirectoryCopy
from shared.errors import Forbidden, NotFound
from shared.http import create_app
from shared.identity import Caller
from shared.messaging import connect, ensure_streams
from shared.projection import Projection
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import in_subtree
from shared.telemetry import setup_telemetry

log = logging.getLogger(__name__)

DEFAULT_DB = "sqlite+aiosqlite:///data/levels/{projection}-{level}.db"


@dataclass
class LevelRead:
    """A read at one level, by one caller: the level's database and the rule for what they may see."""

    level: str
    db: Database
    caller: Caller

    def unit(self, path: str | None = None, field: str = "unit") -> str:
        """The unit a read is about: ``path`` if given, else the level (or the caller's own unit, for a
        caller below the level). It must be inside the level and the caller's subtree."""
        if path is None:
            if self.caller.sees(self.level):
                return self.level
            if self.caller.unit is not None and in_subtree(self.caller.unit_path, self.level):
                return self.caller.unit_path
            raise Forbidden(f"the level {self.level} is outside your unit {self.caller.unit_path}", field=field)
        if not in_subtree(path, self.level):
            raise NotFound(f"{path} is not in the level {self.level}", field=field)
        self.caller.require_subtree(path, field)
        return path

    def require_level(self) -> None:
        """Views of the level as a whole (its inbox): its own officials and the levels above."""
        self.caller.require_subtree(self.level, "level")


@dataclass
class Host:
    projection: str
    levels: dict[str, ProjectionRunner] = field(default_factory=dict)
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    directory: ProjectionRunner | None = None


async def level_read(request: Request, level: str, caller: CurrentCaller) -> LevelRead:
    host: Host = request.app.state.host
    runner = host.levels.get(level)
    if runner is None:
        raise NotFound(f"this host serves the levels {', '.join(sorted(host.levels))}, not {level}", field="level")
    return LevelRead(level, runner.db, caller)


Level = Annotated[LevelRead, Depends(level_read)]


def host_app(
    settings: Settings, host: Host, copy: DirectoryCopy, reads: APIRouter | None, stop: asyncio.Event
) -> FastAPI:
    app = create_app(settings, title=f"thidua level host ({host.projection})")
    app.state.directory, app.state.host = copy, host

    @app.get("/health", tags=["ops"])
    async def health() -> JSONResponse:
        levels = {level: runner.health() for level, runner in host.levels.items()}
        runners = [*host.levels.values(), *([host.directory] if host.directory else [])]
        ok = all(runner.healthy for runner in runners)
        body = {"status": "ok" if ok else "catching up", "projection": host.projection, "levels": levels}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/levels", tags=["ops"])
    async def levels(caller: CurrentCaller) -> dict[str, Any]:
        return {"projection": host.projection, "levels": sorted(host.levels)}

    @app.post("/levels/{level}/rebuild", tags=["ops"])
    async def rebuild(level: str, caller: CurrentCaller) -> dict[str, Any]:
        """Drop the level's read model and replay it from the stream (the other levels keep serving)."""
        caller.require_role("admin")
        runner = host.levels.get(level)
        if runner is None:
            raise NotFound(f"this host does not serve the level {level}", field="level")
        task = host.tasks.pop(level, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.rebuild()
        host.tasks[level] = asyncio.create_task(runner.run(stop), name=f"level-{level}")
        return {"level": level, "applied": runner.applied, "checkpoint": await runner.checkpoint()}

    if reads is not None:
        app.include_router(reads, prefix="/levels/{level}")
    return app


def _arguments(projection: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"level host for {projection}")
    parser.add_argument("--level", action="append", required=True, help="a level to serve, e.g. hn (repeatable)")
    parser.add_argument("--db", default=DEFAULT_DB, help="database URL template ({projection}, {level})")
    parser.add_argument("--rebuild", action="store_true", help="drop the levels' read models and replay first")
    parser.add_argument("--port", type=int, help="serve /health and /levels/{level}/… on this port")
    return parser.parse_args(argv)


async def run_host(
    factory: Callable[[], Projection], reads: APIRouter | None = None, argv: list[str] | None = None
) -> None:
    name = factory().name
    args = _arguments(name, argv)
    settings = Settings()
    settings.check_deployable()
    setup_telemetry(settings)
    nc, js = await connect(settings.nats_url, f"thidua-{name}-host")
    await ensure_streams(js, settings)
    host = Host(name)
    databases: list[Database] = []

    def database(level: str) -> Database:
        databases.append(open_database(args.db.format(projection=name, level=level)))
        return databases[-1]

    copy_db = database("directory")
    copy = DirectoryCopy(copy_db, name=f"{name}_host_directory")
    host.directory = ProjectionRunner(copy, "*", copy_db, js, settings)
    await host.directory.start()
    for level in args.level:
        runner = ProjectionRunner(factory(), level, database(level), js, settings)
        await runner.start()
        if args.rebuild:
            await runner.rebuild()
        host.levels[level] = runner
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    background = [asyncio.create_task(host.directory.run(stop), name="directory-copy")]
    host.tasks = {level: asyncio.create_task(r.run(stop), name=f"level-{level}") for level, r in host.levels.items()}
    server = None
    if args.port:
        config = uvicorn.Config(
            host_app(settings, host, copy, reads, stop), host="127.0.0.1", port=args.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        background.append(asyncio.create_task(server.serve(), name="http"))
    log.info("level host %s serves %s", name, ", ".join(args.level))
    await stop.wait()
    if server is not None:
        server.should_exit = True
    for task in [*host.tasks.values(), *background]:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)
    await nc.close()
    for db in databases:
        await db.dispose()


def level_host_main(factory: Callable[[], Projection], reads: APIRouter | None = None) -> None:
    asyncio.run(run_host(factory, reads))
