"""Wiring of the registry service: the inline catalogue, the copy of the unit tree, routes, demo data.

Run with ``uvicorn --factory services.registry.entrypoints.main:create_app``: nothing is opened at
import time.
"""

import logging

from fastapi import FastAPI

from services.registry import SERVICE
from services.registry.adapters import units
from services.registry.adapters.catalogue import Catalogue
from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.application.support import Registry
from services.registry.entrypoints.api import router
from shared.service import consumer_task, service_app
from shared.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        registry: Registry = app.state.registry
        await app.state.catalogue.create_tables()  # read models are rebuildable: created, not migrated
        async with registry.db.writer.begin() as conn:
            await conn.run_sync(units.metadata.create_all)
        async with registry.db.reader.connect() as conn:
            await registry.duplicates.refresh(conn)

    # The tree copy comes from JetStream: no relay (tests without NATS) means no consumer either.
    background = [consumer_task(units.UnitTreeProjection)] if settings.relay_enabled else []
    if settings.demo_data:
        from services.registry.demo import demo_task

        background.append(demo_task)
    app = service_app(
        settings,
        title="thidua registry",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [Catalogue(db)],
        on_start=[prepare],
        background=background,
    )
    app.state.catalogue = app.state.inline[0]
    app.state.registry = Registry(app.state.store, app.state.db, DuplicateIndex())
    return app
