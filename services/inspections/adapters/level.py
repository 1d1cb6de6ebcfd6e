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

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.inspections.adapters import risk
from services.inspections.adapters.level_facts import FactsHandlers
from services.inspections.adapters.level_grading import GradingHandlers
from services.inspections.adapters.level_inspections import InspectionHandlers
from services.inspections.adapters.level_radar import upsert
from services.inspections.adapters.level_selfinspection import SelfInspectionHandlers
from services.inspections.adapters.tables import UNIT_TABLES, awarded, counts, initiatives, metadata
from shared.projection import Context, Projection


class InspectionsProjection(FactsHandlers, SelfInspectionHandlers, InspectionHandlers, GradingHandlers, Projection):
    name = "inspections_level"
    services = ("inspections", "pledges", "registry", "directory", "awards")
    metadata = metadata

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, date, str], int] = defaultdict(int)
        self._bunching: set[tuple[str, str]] = set()  # (unit, campaign) whose registrations changed
        self._campaigns: dict[str, dict[str, Any]] | None = None
        self._dirty: set[str] = set()
        self._initiatives: dict[str, dict[str, Any]] = {}
        self._reports: set[tuple[str, str]] = set()
        self._rules_checked = False  # the score rows were built by the rule sets in force
        self._spans = risk.rule_segments()

    # -- batches ---------------------------------------------------------------------------------------

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        if self._initiatives:
            rows, self._initiatives = list(self._initiatives.values()), {}
            stmt = upsert(conn, initiatives).on_conflict_do_nothing(index_elements=[initiatives.c.initiative_id])
            await conn.execute(stmt, rows)
        if self._counts:
            rows = [
                {"unit_id": u, "source": s, "day": d, "campaign_key": c, "n": n}
                for (u, s, d, c), n in self._counts.items()
            ]
            self._counts.clear()
            stmt = upsert(conn, counts)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[counts.c.unit_id, counts.c.source, counts.c.day, counts.c.campaign_key],
                    set_={"n": counts.c.n + stmt.excluded.n},
                ),
                rows,
            )
        if self._bunching:
            pending, self._bunching = self._bunching, set()
            await self._judge_bunching(conn, pending)
        if self._reports:
            reports, self._reports = self._reports, set()
            await self._judge_reported(conn, reports)
        if not self._rules_checked:
            await risk.rebuild_if_rules_changed(conn, self._spans)
            self._rules_checked = True
        if self._dirty:
            touched, self._dirty = self._dirty, set()
            await risk.rescore(conn, touched, self._spans)

    def reset(self) -> None:
        self._counts.clear()
        self._bunching.clear()
        self._campaigns = None
        self._dirty.clear()
        self._reports.clear()
        self._initiatives.clear()
        self._rules_checked = False

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        ids = sorted(unit_ids)
        self._counts = defaultdict(int, {k: v for k, v in self._counts.items() if k[0] not in unit_ids})
        self._dirty -= unit_ids
        self._initiatives = {k: v for k, v in self._initiatives.items() if v["unit_id"] not in unit_ids}
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
