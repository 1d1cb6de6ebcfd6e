"""Wiring of the directory service: its records (the tree, members, roles) and its routes.

Run with ``uvicorn --factory services.directory.entrypoints.main:create_app``: nothing is opened at
import time. The directory is the system of record of people: callers are resolved from its own records.
"""

from fastapi import FastAPI

from services.directory import SERVICE
from services.directory.adapters.records import DirectoryRecords
from services.directory.application.deps import Deps
from services.directory.entrypoints.api import router
from shared.lean_routes import include_flat
from shared.service import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        await app.state.deps.records.create_tables()  # read models are rebuildable: created, not migrated

    app = service_app(
        settings,
        title="thidua directory",
        version="0.1.0",
        routers=[],
        inline=lambda db: [DirectoryRecords(db, operators=settings.admin_subjects)],
        on_start=[prepare],
        directory_copy=False,
    )
    include_flat(app, router)  # matched once per request (shared.lean_routes)
    records: DirectoryRecords = app.state.inline[0]
    app.state.deps = Deps.build(app.state.store, records)
    app.state.directory = records  # who is calling: the directory's own records
    return app
