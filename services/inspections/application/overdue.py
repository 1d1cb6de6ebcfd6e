"""The overdue sweep: a self-inspection not submitted by its due date is recorded overdue — once per unit
and round, with how late — and the open checklist of a unit that merged into another is withdrawn
instead (it would otherwise turn overdue for a unit that no longer exists).

Two ways in, one rule: a scheduler in the service ticks every minute (``overdue_task``), and a level
can ask for it at once for a round of its own (``POST /rounds/{id}/overdue-check``, an ordinary command
with its Idempotency-Key). Both decide through the ``Checklist`` aggregate, which emits nothing twice;
the clock is injected, so tests move time and nothing sleeps.
"""

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import FastAPI

from services.inspections.application.deps import Deps, checklist_id
from services.inspections.domain.rules import ROUND_OPENERS
from shared.commands import CommandContext, commit
from shared.errors import ConcurrencyError
from shared.eventstore import StreamAppend
from shared.identity import Caller

log = logging.getLogger(__name__)
SCHEDULER = Caller.system("inspections-scheduler")


async def due_appends(deps: Deps, ctx: CommandContext, round_id: str | None = None) -> list[StreamAppend]:
    """Every overdue record and withdrawal due now (optionally for one round), as appends."""
    now = deps.clock()
    appends: list[StreamAppend] = []
    merged = set()
    for row in await deps.records.open_of_merged():
        merged.add(row["unit_id"])
        if round_id is not None and row["round_id"] != round_id:
            continue
        checklist = await deps.checklists.load(checklist_id(row["unit_id"], row["year"], row["period"]))
        into = await deps.current(await deps.unit(row["unit_id"]))
        events = checklist.withdraw(row["merged_into"], now)
        if events:
            appends.append(deps.checklists.append(checklist, events, ctx, at=into.path))
    for row in await deps.records.open_past_due(now.date(), round_id):
        if row["overdue"] or row["unit_id"] in merged:
            continue
        checklist = await deps.checklists.load(checklist_id(row["unit_id"], row["year"], row["period"]))
        events = checklist.mark_overdue(now, deps.rules(checklist.due_on))
        if events:
            unit = await deps.unit(row["unit_id"])
            appends.append(deps.checklists.append(checklist, events, ctx, at=unit.path))
    return appends


async def tick(deps: Deps) -> int:
    """One pass of the scheduler; each checklist on its own, so a race lost on one skips only that one."""
    done = 0
    for append in await due_appends(deps, CommandContext(caller=SCHEDULER)):
        try:
            await deps.store.append(append)
        except ConcurrencyError:
            continue  # another replica, or a level's own check, recorded it first
        done += 1
    return done


async def check_round(deps: Deps, ctx: CommandContext, round_id: str) -> dict[str, Any]:
    """A level records its round's overdue units now, in one commit (a lost race is a 409: try again)."""
    round_ = await deps.rounds.get(round_id, field="round_id")
    level = await deps.unit(round_.level_unit_id, what="level")
    ctx.caller.require_role(*ROUND_OPENERS)
    ctx.caller.require_subtree(level.path)
    appends = await due_appends(deps, ctx, round_id)
    recorded = [env.event_type for a in appends for env in a.envelopes]
    response = {
        "round_id": round_id,
        "overdue_recorded": recorded.count("SelfInspectionOverdue"),
        "withdrawn": recorded.count("ChecklistWithdrawn"),
        "checked_at": deps.clock().isoformat(),
    }
    return await commit(deps.store, ctx, appends, response)


def overdue_task(interval_seconds: float = 60.0):  # type: ignore[no-untyped-def]
    """A background task ticking the sweep every ``interval_seconds``."""

    async def sweep(app: FastAPI, stop: asyncio.Event) -> None:
        deps: Deps = app.state.deps
        while not stop.is_set():
            try:
                done = await tick(deps)
                if done:
                    log.info("recorded %d overdue self-inspections or withdrawals", done)
            except Exception as error:  # the database is away: try again next tick
                log.warning("overdue sweep failed: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_seconds)

    return sweep
