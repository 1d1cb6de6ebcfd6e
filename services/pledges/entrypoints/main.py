"""Wiring of the pledges service: its records, its copy of the directory, the reminder scheduler and
its routes.

Run with ``uvicorn --factory services.pledges.entrypoints.main:create_app``: nothing is opened at
import time.
"""

from fastapi import FastAPI

from services.pledges import SERVICE
from services.pledges.adapters.records import PledgesRecords
from services.pledges.application.deps import Clock, Deps, system_clock
from services.pledges.application.reminders import FactsChanged, ReminderScheduler, reminder_task
from services.pledges.entrypoints.api import router
from shared.service import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock) -> FastAPI:
    """The reminder scheduler ticks while the relay runs (tests without NATS tick it by hand)."""
    settings = settings or Settings(service=SERVICE)
    facts_changed = FactsChanged()  # wakes the reminder scheduler when a campaign or a target is committed

    async def prepare(app: FastAPI) -> None:
        await app.state.deps.records.create_tables()  # read models are rebuildable: created, not migrated

    app = service_app(
        settings,
        title="thidua pledges",
        version="0.1.0",
        routers=[router],
        inline=lambda db: [PledgesRecords(db), facts_changed],
        on_start=[prepare],
        background=[reminder_task()] if settings.relay_enabled else [],
    )
    deps = Deps.build(app.state.store, app.state.inline[0], app.state.directory, clock)
    app.state.deps = deps
    app.state.reminders = ReminderScheduler(deps.store, deps.records, clock)
    app.state.reminder_facts = facts_changed
    return app
