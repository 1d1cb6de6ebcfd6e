"""Wiring of the directory service: the inline tree, its routes and the demo city.

Run with ``uvicorn --factory services.directory.entrypoints.main:create_app``: nothing is opened at
import time.
"""

import logging

from fastapi import FastAPI

from services.directory import SERVICE
from services.directory.adapters.tree import Tree
from services.directory.entrypoints.api import router
from shared.service import service_app
from shared.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        tree: Tree = app.state.tree
        await tree.create_tables()  # read models are rebuildable: created, not migrated
        if settings.demo_data:
            from services.directory.demo import load_demo

            log.info("demo city: %s", await load_demo(app.state.store, tree))

    app = service_app(
        settings,
        title="thidua directory",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [Tree(db)],
        on_start=[prepare],
    )
    app.state.tree = app.state.inline[0]
    return app
