"""Wiring of the pledges service: inline records, the copy of the unit tree kept from the directory's
events, the reminder scheduler, its routes and the demo campaign.

Run with ``uvicorn --factory services.pledges.entrypoints.main:create_app``: nothing is opened at
import time.
"""

import logging

from fastapi import FastAPI

from services.pledges import SERVICE
from services.pledges.adapters.records import Records
from services.pledges.adapters.units import UnitsCopy
from services.pledges.application.reminders import ReminderScheduler, reminder_task
from services.pledges.application.support import Clock, system_clock
from services.pledges.entrypoints.api import router
from shared.service import BackgroundTask, consumer_task, service_app
from shared.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock, consume: bool = True) -> FastAPI:
    """``consume``: keep the unit copy from JetStream (tests without NATS feed it directly)."""
    settings = settings or Settings(service=SERVICE)

    async def prepare(app: FastAPI) -> None:
        await app.state.units.create_tables()  # read models are rebuildable: created, not migrated
        await app.state.records.create_tables()

    background: list[BackgroundTask] = []
    if consume:
        background += [consumer_task(UnitsCopy), reminder_task()]
    if settings.demo_data:
        from services.pledges.demo import demo_task

        background.append(demo_task())
    app = service_app(
        settings,
        title="thidua pledges",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [Records(db)],
        on_start=[prepare],
        background=background,
    )
    app.state.records = app.state.inline[0]
    app.state.units = UnitsCopy(app.state.db)
    app.state.clock = clock
    app.state.reminders = ReminderScheduler(app.state.store, app.state.records, clock)
    return app
