"""Wiring of the inspections service: its records, its copy of the facts (the inspections projection at
level ``*``, beside the service's copy of the directory), the evidence files, the overdue sweep and
its routes.

Run with ``uvicorn --factory services.inspections.entrypoints.main:create_app``: nothing is opened at
import time.
"""

from fastapi import FastAPI, Request

from services.inspections import SERVICE
from services.inspections.adapters.facts import FactsReader
from services.inspections.adapters.level import InspectionsProjection
from services.inspections.adapters.records import InspectionsRecords
from services.inspections.adapters.tables import metadata as facts_metadata
from services.inspections.application.deps import Clock, Deps, system_clock
from services.inspections.application.overdue import overdue_task
from services.inspections.entrypoints.api import router
from shared.directory_copy import units as copy_units
from shared.evidence import EvidenceStore, evidence_root, install_evidence
from shared.service import BackgroundTask, consumer_task, service_app
from shared.settings import Settings

FACTS_CONSUMER = "inspections_facts"


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock, sweep: bool = True) -> FastAPI:
    """``sweep``: run the overdue scheduler (tests drive ``application.overdue.tick`` themselves)."""
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        await app.state.deps.records.create_tables()  # read models are rebuildable: created, not migrated
        async with app.state.db.writer.begin() as conn:
            await conn.run_sync(facts_metadata.create_all)

    background: list[BackgroundTask] = []
    if settings.relay_enabled:  # without NATS (tests) the facts are fed by hand
        background.append(consumer_task(InspectionsProjection, durable=FACTS_CONSUMER))
    if sweep:
        background.append(overdue_task())
    app = service_app(
        settings,
        title="thidua inspections",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [InspectionsRecords(db)],
        on_start=[prepare],
        background=background,
    )
    evidence = EvidenceStore(evidence_root(settings))
    app.state.deps = Deps(
        store=app.state.store,
        directory=app.state.directory,
        facts=FactsReader(app.state.db, copy_units),
        records=app.state.inline[0],
        evidence=evidence,
        clock=clock,
    )

    async def path_of(request: Request, unit_id: str) -> str | None:
        unit = await request.app.state.directory.unit(unit_id)
        return unit.path if unit is not None else None

    install_evidence(app, evidence, path_of)
    return app
