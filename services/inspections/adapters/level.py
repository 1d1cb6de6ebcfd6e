"""The inspections projection: one union level's facts, checklists, inspections, grades and radar signals.

Run by the level host for each level (the runner owns which units the level holds, back-fills a unit
that joins and calls ``units_left`` when units leave), and by the service itself at level ``*`` — its own
copy of the pledges, registry and directory facts that pre-fill checklists and judge self-assessments.

Handlers only record facts, keyed by the unit they belong to; where a unit sits (its subtree, its
grassroots union, the unit it merged into) is read from the units table when a view is read, so the same
handlers serve a level and the whole platform. Counts are folded per batch (``flush``); signals fixed by
an event are judged with the rule set in force on the event's date and keep that version.

The handlers live in one module per area, each a mixin of the projection: ``level_facts`` (directory,
pledges and registry facts), ``level_selfinspection``, ``level_inspections``, ``level_grading`` and
``level_radar`` (the signs, and the base the others share).
"""

import functools
import time
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.inspections.adapters import risk
from services.inspections.adapters.level_facts import FactsHandlers
from services.inspections.adapters.level_grading import GradingHandlers
from services.inspections.adapters.level_inspections import InspectionHandlers
from services.inspections.adapters.level_radar import dialect_insert
from services.inspections.adapters.level_selfinspection import SelfInspectionHandlers
from services.inspections.adapters.tables import (
    UNIT_TABLES,
    awarded,
    bunching_pending,
    metadata,
    reported_pending,
    risk_pending,
)
from shared.bulk import executemany
from shared.projection import Context, Projection


@functools.cache
def _keep_first(dialect: str, table: Table) -> Any:
    """An insert that leaves the row with its key as it is (built once: a statement the driver runs)."""
    return dialect_insert(dialect)(table).on_conflict_do_nothing()


# Work put off while a level catches up (``flush``) is done once it has caught up, or after this many
# seconds of a backlog that does not end (doing it more often would bring back most of the cost it saves:
# each time rebuilds every unit touched since, with all its signs).
_DEFER_AT_MOST = 600.0


class InspectionsProjection(FactsHandlers, SelfInspectionHandlers, InspectionHandlers, GradingHandlers, Projection):
    name = "inspections_level"
    services = ("inspections", "pledges", "registry", "directory", "awards")
    metadata = metadata
    reads_level_units = False  # its handlers read ctx.units; only the views read the table

    def __init__(self) -> None:
        self._put_off_nothing()
        self._bunching: set[tuple[str, str]] = set()  # (unit, campaign) whose registrations changed
        self._campaigns: dict[str, dict[str, Any]] | None = None
        self._reports: set[tuple[str, str]] = set()
        self._rules_checked = False  # the score rows were built by the rule sets in force
        self._spans = risk.rule_segments()
        self._deferred_since: float | None = None  # when this process first put off rebuilding score rows
        self._deferred_checked = False  # rows put off before a restart (or a rollback) were rebuilt
        self._known: dict[str, set[tuple[Any, ...]]] = {}  # rows this process put off, by table: not again

    # -- batches ---------------------------------------------------------------------------------------

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        # Catching up, the work that reads a unit's whole history (its score rows, its registrations'
        # bunching) is put off and done once: done per batch, it cost more per event the more the level
        # had seen (a city's replay: rebuilding score rows took 234 µs an event after 20,000 events and
        # 674 µs after 60,000, the bunching 16 and 80 µs), and a unit's facts change many times over a replay.
        # Judging reported values is put off too (its three reads and the signs' a batch were 6% of a replay).
        now = time.monotonic()
        deferring = self.backlog > 0 and now - (self._deferred_since or now) < _DEFER_AT_MOST
        settling = not deferring and (self._deferred_since is not None or not self._deferred_checked)
        await self._written(conn)  # what the handlers put off, in one statement per table and kind
        bunching, self._bunching = self._bunching, set()
        reports, self._reports = self._reports, set()
        if deferring:
            await self._put_off(conn, bunching_pending, [{"unit_id": u, "campaign_id": c} for u, c in bunching])
            await self._put_off(conn, reported_pending, [{"campaign_id": c, "unit_id": u} for c, u in reports])
        else:
            bunching |= set(await self._taken(conn, bunching_pending)) if settling else set()
            if bunching:
                await self._judge_bunching(conn, bunching)
            reports |= set(await self._taken(conn, reported_pending)) if settling else set()
            if reports:
                await self._judge_reported(conn, reports)
        await self._written(conn)  # the signs the judgements above changed
        if not self._rules_checked:
            await risk.rebuild_if_rules_changed(conn, self._spans)
            self._rules_checked = True
        touched, self._dirty = self._dirty, set()
        if deferring:
            await self._put_off(conn, risk_pending, [{"unit_id": u} for u in touched])
            self._deferred_since = self._deferred_since or now
        elif settling:
            touched |= {u for (u,) in await self._taken(conn, risk_pending)}
            await risk.rescore(conn, touched, self._spans)
            self._deferred_since, self._deferred_checked = None, True
        elif touched:
            await risk.rescore(conn, touched, self._spans)

    def reset(self) -> None:
        self._forget_put_off()
        self._bunching.clear()
        self._campaigns = None
        self._dirty.clear()
        self._reports.clear()
        self._rules_checked = False
        self._deferred_checked = False
        self._known.clear()  # what it put off may have rolled back with the batch

    async def _put_off(self, conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Rows of work put off, each written once while it waits (a unit is touched in many batches)."""
        known = self._known.setdefault(table.name, set())
        fresh = [row for row in rows if tuple(row.values()) not in known]
        if fresh:
            await executemany(conn, _keep_first(conn.dialect.name, table), fresh)
            known.update(tuple(row.values()) for row in fresh)

    async def _taken(self, conn: AsyncConnection, table: Table) -> list[Any]:
        """The rows of work put off, removed from the table (done in the same transaction)."""
        self._known.pop(table.name, None)
        rows = (await conn.execute(select(table))).all()
        if rows:
            await conn.execute(delete(table))
        return [tuple(row) for row in rows]

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        await self._written(conn)  # then deleted with the rest of the units' rows
        ids = sorted(unit_ids)
        self._dirty -= unit_ids
        self._bunching = {p for p in self._bunching if p[0] not in unit_ids}
        self._reports = {p for p in self._reports if p[1] not in unit_ids}
        for start in range(0, len(ids), 500):  # the levels whose awards went to them score again
            chunk = ids[start : start + 500]
            self._touched(
                *(u for (u,) in await conn.execute(select(awarded.c.by_unit_id).where(awarded.c.unit_id.in_(chunk))))
            )
        for table in UNIT_TABLES:
            for start in range(0, len(ids), 500):
                await conn.execute(delete(table).where(table.c.unit_id.in_(ids[start : start + 500])))
