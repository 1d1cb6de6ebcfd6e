"""The level projector process: ``--scope hn.ntl`` keeps that level's read model in its own database.

A service's projector module calls ``projector_main(ItsProjection)``. If the projection offers
``read_router(db, scope)``, its read-only routes are served beside ``/health`` when ``--port`` is given.
"""

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.projections import Projection, ProjectionRunner
from shared.settings import Settings
from shared.telemetry import setup_telemetry

log = logging.getLogger(__name__)


def default_db_url(projection: str, scope: str) -> str:
    return f"sqlite+aiosqlite:///data/{projection}-{scope}.db"


def health_app(runner: ProjectionRunner, projection: Projection, db: Any) -> FastAPI:
    app = FastAPI(title=f"thidua level view {runner.scope} ({projection.name})")

    @app.get("/health")
    async def health() -> JSONResponse:
        state = runner.health()
        return JSONResponse(state, status_code=200 if state["fetching"] else 503)

    read_router = getattr(projection, "read_router", None)
    if read_router is not None:
        app.include_router(read_router(db, runner.scope))
    return app


async def run_projector(factory: Callable[[], Projection], argv: list[str] | None = None) -> None:
    projection = factory()
    parser = argparse.ArgumentParser(description=f"level projector for {projection.name}")
    parser.add_argument("--scope", required=True, help="unit path of the level, e.g. hn or hn.ntl")
    parser.add_argument("--db", help="database URL of this level's read model")
    parser.add_argument("--rebuild", action="store_true", help="drop the read model and replay the stream")
    parser.add_argument("--port", type=int, help="serve /health and the level's read routes on this port")
    args = parser.parse_args(argv)

    settings = Settings()
    setup_telemetry(settings)
    db = open_database(args.db or default_db_url(projection.name, args.scope))
    nc, js = await connect(settings.nats_url, f"thidua-{projection.name}-{args.scope}")
    await ensure_streams(js, settings)
    runner = ProjectionRunner(projection, args.scope, db, js, settings)
    await runner.start()
    if args.rebuild:
        await runner.rebuild()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(runner.run(stop))]
    server = None
    if args.port:
        config = uvicorn.Config(
            health_app(runner, projection, db), host="127.0.0.1", port=args.port, log_level="warning"
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        tasks.append(asyncio.create_task(server.serve()))
    log.info("projector %s for %s started", projection.name, args.scope)
    await stop.wait()
    if server is not None:
        server.should_exit = True
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)
    await nc.close()
    await db.dispose()


def projector_main(factory: Callable[[], Projection]) -> None:
    asyncio.run(run_projector(factory))
