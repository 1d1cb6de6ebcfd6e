"""The wiring every service shares: database, migrations, event store, in-process relay, HTTP app.

A service's ``main.py`` says only what is its own: its inline read models, its routes, its start-up
work (tables, demo data) and any background consumers it runs.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from shared.db import Database, open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.eventstore.store import InlineProjection
from shared.http import create_app
from shared.messaging import connect, ensure_streams
from shared.projections import Projection, ProjectionRunner
from shared.relay import run_supervised
from shared.settings import Settings
from shared.telemetry import setup_telemetry

log = logging.getLogger(__name__)

StartHook = Callable[[FastAPI], Awaitable[None]]
BackgroundTask = Callable[[FastAPI, asyncio.Event], Awaitable[None]]


def service_app(
    settings: Settings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    inline: Callable[[Database], Sequence[InlineProjection]] = lambda _db: (),
    on_start: Sequence[StartHook] = (),
    background: Sequence[BackgroundTask] = (),
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app whose lifespan migrates the store, runs the start hooks, then the relay and tasks.

    ``app.state`` carries ``settings``, ``db``, ``store``, ``inline`` (the inline read models) and, once
    connected, ``relay``.
    """
    setup_telemetry(settings)
    db = open_database(settings.database_url)
    inline_models = list(inline(db))
    store = EventStore(db, inline=inline_models)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate(db)
        for hook in on_start:
            await hook(app)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if settings.relay_enabled:

            def remember(relay: Any) -> None:
                app.state.relay = relay

            tasks.append(asyncio.create_task(run_supervised(store, settings, stop, remember), name="relay"))
        tasks += [asyncio.create_task(task(app, stop), name=getattr(task, "__name__", "task")) for task in background]
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                try:
                    await asyncio.wait_for(task, timeout=5)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                except Exception:
                    log.exception("background task %s failed on shutdown", task.get_name())
            await store.close()
            await db.dispose()

    app = create_app(settings, title=title, lifespan=lifespan, **fastapi_kwargs)
    app.state.db, app.state.store, app.state.inline = db, store, inline_models
    for router in routers:
        app.include_router(router)
    return app


def consumer_task(projection: Callable[[], Projection], scope: str = "*") -> BackgroundTask:
    """A background task that keeps ``projection`` in the service's own database from JetStream.

    For a service's own view of other services' events (e.g. the registry's copy of the unit tree):
    same runner, same checkpoints and dead letters as a level projector. ``app.state.consumers`` lists
    the runners for health checks.
    """

    async def run(app: FastAPI, stop: asyncio.Event) -> None:
        settings: Settings = app.state.settings
        while not stop.is_set():
            try:
                nc, js = await connect(settings.nats_url, f"thidua-{settings.service}-consumer")
            except Exception as error:
                log.warning("consumer cannot reach NATS (%s); retrying", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            try:
                await ensure_streams(js, settings)
                runner = ProjectionRunner(projection(), scope, app.state.db, js, settings)
                await runner.start()
                app.state.consumers = [*getattr(app.state, "consumers", []), runner]
                await runner.run(stop)
            except Exception as error:
                log.warning("consumer stopped (%s); restarting", error)
                await asyncio.sleep(1.0)
            finally:
                await nc.close()

    run.__name__ = f"consume-{getattr(projection, 'name', 'projection')}"
    return run
