"""Wiring of the directory service: database, migrations, event store with the inline tree, relay, routes.

Run with ``uvicorn --factory services.directory.entrypoints.main:create_app``: nothing is opened at
import time.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.directory import SERVICE
from services.directory.adapters.tree import Tree
from services.directory.entrypoints.api import router
from shared.db import open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate
from shared.http import create_app as create_base_app
from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay
from shared.settings import Settings
from shared.telemetry import setup_telemetry

log = logging.getLogger(__name__)


class DirectorySettings(Settings):
    """The shared settings plus the demo switch (THIDUA_DEMO_DATA=1 loads the demo city at start-up)."""

    demo_data: bool = False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or DirectorySettings()
    setup_telemetry(settings)
    db = open_database(settings.database_url)
    tree = Tree(db)
    store = EventStore(db, inline=[tree])

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate(db)
        await tree.create_tables()  # read models are rebuildable: created, not migrated
        if getattr(settings, "demo_data", False):
            from services.directory.demo import load_demo

            log.info("demo city: %s", await load_demo(store, tree))
        stop = asyncio.Event()
        relay_task = None
        if settings.relay_enabled:
            relay_task = asyncio.create_task(_run_relay(app, store, settings, stop), name="directory-relay")
        try:
            yield
        finally:
            stop.set()
            if relay_task is not None:
                try:
                    await asyncio.wait_for(relay_task, timeout=5)
                except TimeoutError:
                    relay_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await relay_task
            await store.close()
            await db.dispose()

    app = create_base_app(settings, title="thidua directory", version="0.1.0", lifespan=lifespan)
    app.state.store = store
    app.state.tree = tree
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.include_router(router)
    return app


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    """422 in the platform's shape: ``detail`` and the offending ``field``, plus pydantic's list."""
    errors = jsonable_encoder(error.errors())
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    body: dict[str, Any] = {"detail": f"{field}: {first.get('msg', 'invalid')}" if field else "invalid request"}
    if field:
        body["field"] = field
    body["errors"] = errors
    return JSONResponse(body, status_code=422)


async def _run_relay(app: FastAPI, store: EventStore, settings: Settings, stop: asyncio.Event) -> None:
    """Publish the outbox to JetStream; a NATS that is down at start-up is waited for, not fatal."""
    backoff = 0.5
    while not stop.is_set():
        try:
            nc, js = await connect(settings.nats_url, f"thidua-{SERVICE}-relay")
        except Exception as error:
            log.warning("relay cannot reach NATS at %s (%s); retrying", settings.nats_url, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        try:
            await ensure_streams(js, settings)
            relay = OutboxRelay(
                store,
                js,
                SERVICE,
                batch=settings.relay_batch,
                max_in_flight=settings.relay_max_in_flight,
                idle_poll_seconds=settings.relay_idle_poll_seconds,
            )
            app.state.relay = relay
            await relay.run(stop)
        except Exception as error:
            log.warning("relay stopped (%s); reconnecting", error)
            await asyncio.sleep(backoff)
        finally:
            await nc.close()
