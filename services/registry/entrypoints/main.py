"""Wiring of the registry service: its records, its copy of the directory, the duplicate index, routes.

Run with ``uvicorn --factory services.registry.entrypoints.main:create_app``: nothing is opened at
import time.
"""

from fastapi import FastAPI

from services.registry import SERVICE
from services.registry.adapters.records import RegistryRecords
from services.registry.application.deps import Deps
from services.registry.application.escalation import StrandedEscalations
from services.registry.entrypoints.api import router
from shared.service import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        deps: Deps = app.state.deps
        await deps.records.create_tables()  # read models are rebuildable: created, not migrated
        await deps.duplicates.refresh(deps.db.reader)

    app = service_app(
        settings,
        title="thidua registry",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [RegistryRecords(db)],
        on_start=[prepare],
        upward=lambda app: StrandedEscalations(app.state.deps),
    )
    app.state.deps = Deps.build(app.state.store, app.state.inline[0], app.state.directory)
    return app
