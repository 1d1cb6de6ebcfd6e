"""The self-inspection half of the inspections projection: rounds, checklists issued, submitted, amended,
overdue or withdrawn, and the signs they make (contradicted self-assessments, late self-inspections)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import (
    ChecklistIssued,
    ChecklistWithdrawn,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionRoundOpened,
    SelfInspectionSubmitted,
)
from services.inspections.adapters.level_radar import RadarHandlers
from services.inspections.adapters.tables import checklists, rounds, signals
from services.inspections.domain.rulesets import rules_on
from shared.projection import Context, on

# Built once: the sweep records thousands of overdue checklists at a time.
_OVERDUE = (
    update(checklists)
    .where(checklists.c.unit_id == bindparam("unit"), checklists.c.round_id == bindparam("round"))
    .values(overdue_detected=bindparam("detected", type_=checklists.c.overdue_detected.type))
)


class SelfInspectionHandlers(RadarHandlers):
    @on(SelfInspectionRoundOpened)
    async def round_opened(self, conn: AsyncConnection, event: SelfInspectionRoundOpened, ctx: Context) -> None:
        await conn.execute(
            insert(rounds).values(
                round_id=event.round_id,
                level_unit_id=event.level_unit_id,
                level_path=event.level_path,
                year=event.year,
                period=event.period,
                title=event.title,
                opened_on=event.opened_on,
                due_on=event.due_on,
                unit_count=event.unit_count,
                status="open",
            )
        )

    @on(SelfInspectionRoundClosed)
    async def round_closed(self, conn: AsyncConnection, event: SelfInspectionRoundClosed, ctx: Context) -> None:
        await conn.execute(update(rounds).where(rounds.c.round_id == event.round_id).values(status="closed"))

    @on(ChecklistIssued)
    async def checklist_issued(self, conn: AsyncConnection, event: ChecklistIssued, ctx: Context) -> None:
        await self._written(conn)
        await conn.execute(
            insert(checklists).values(
                unit_id=event.unit_id,
                year=event.year,
                period=event.period,
                round_id=event.round_id,
                due_on=event.due_on,
                status="issued",
                contradictions=0,
                amendments=0,
            )
        )

    @on(SelfInspectionSubmitted, SelfInspectionAmended)
    async def self_inspection_submitted(
        self, conn: AsyncConnection, event: SelfInspectionSubmitted | SelfInspectionAmended, ctx: Context
    ) -> None:
        await self._written(conn)
        where = (checklists.c.unit_id == event.unit_id, checklists.c.round_id == event.round_id)
        row = (await conn.execute(select(checklists.c.due_on).where(*where))).first()
        submitted = isinstance(event, SelfInspectionSubmitted)
        day = event.submitted_at.date() if isinstance(event, SelfInspectionSubmitted) else ctx.occurred_at.date()
        if submitted:
            values: dict[str, Any] = {
                "status": "submitted",
                "submitted_at": event.submitted_at,
                "days_late": event.days_late,
            }
        else:
            values = {"amendments": event.amendment}
        await conn.execute(update(checklists).where(*where).values(contradictions=len(event.contradictions), **values))
        version = rules_on(day).version
        self._touched(event.unit_id)
        await conn.execute(
            delete(signals).where(
                signals.c.unit_id == event.unit_id,
                signals.c.kind == "contradicted",
                signals.c.subject.like(f"{event.round_id}:%"),
            )
        )
        for found in event.contradictions:
            await self._signal(
                conn,
                event.unit_id,
                "contradicted",
                f"{event.round_id}:{found.item}",
                day,
                version,
                {"round_id": event.round_id, **found.model_dump(mode="json")},
            )
        if submitted and event.days_late == 0:
            # Submitted on time on paper and entered after the sweep recorded it overdue: it was not late.
            await self._drop_signal(conn, event.unit_id, "self_inspection_late", event.round_id)
        if isinstance(event, SelfInspectionSubmitted) and event.days_late > 0 and row is not None:
            await self._signal(
                conn,
                event.unit_id,
                "self_inspection_late",
                event.round_id,
                row.due_on + timedelta(days=1),
                version,
                {
                    "round_id": event.round_id,
                    "due_on": row.due_on,
                    "submitted_at": event.submitted_at,
                    "days_late": event.days_late,
                },
            )

    @on(SelfInspectionOverdue)
    async def self_inspection_overdue(self, conn: AsyncConnection, event: SelfInspectionOverdue, ctx: Context) -> None:
        params = {"unit": event.unit_id, "round": event.round_id, "detected": event.detected_at.date()}
        self._writes.add(checklists, _OVERDUE, params)
        await self._signal(
            conn,
            event.unit_id,
            "self_inspection_late",
            event.round_id,
            event.due_on + timedelta(days=1),
            rules_on(event.due_on).version,
            {
                "round_id": event.round_id,
                "due_on": event.due_on,
                "detected_at": event.detected_at,
                "days_late": event.days_late,
                "submitted_at": None,
            },
        )

    @on(ChecklistWithdrawn)
    async def checklist_withdrawn(self, conn: AsyncConnection, event: ChecklistWithdrawn, ctx: Context) -> None:
        await self._written(conn)
        await conn.execute(
            update(checklists)
            .where(checklists.c.unit_id == event.unit_id, checklists.c.round_id == event.round_id)
            .values(status="withdrawn")
        )
        self._touched(event.unit_id)
        await conn.execute(
            delete(signals).where(
                signals.c.unit_id == event.unit_id,
                signals.c.kind == "self_inspection_late",
                signals.c.subject == event.round_id,
            )
        )
