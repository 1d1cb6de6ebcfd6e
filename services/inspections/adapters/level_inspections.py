"""The upper-level inspections half of the inspections projection: inspections and the units they
inspect, findings, and corrective actions through fix, verification and reopening."""

from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import (
    CorrectiveActionAssigned,
    CorrectiveActionFixReported,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    FindingRecorded,
    InspectionConcluded,
    InspectionDecisionIssued,
    InspectionNoticeIssued,
    InspectionScheduled,
)
from services.inspections.adapters.level_radar import RadarHandlers
from services.inspections.adapters.tables import actions, findings, inspected, inspections
from shared.events import Event
from shared.projection import Context, on


class InspectionHandlers(RadarHandlers):
    @on(InspectionScheduled)
    async def inspection_scheduled(self, conn: AsyncConnection, event: InspectionScheduled, ctx: Context) -> None:
        await conn.execute(
            insert(inspections).values(
                inspection_id=event.inspection_id,
                by_unit_id=event.by_unit_id,
                by_path=event.by_path,
                content=event.content,
                purpose=event.purpose,
                status="scheduled",
                period_from=event.period_from,
                period_to=event.period_to,
                selection=event.selection.model_dump(mode="json"),
            )
        )
        await conn.execute(
            insert(inspected),
            [
                {"inspection_id": event.inspection_id, "unit_id": u.unit_id, "reasons": list(u.reasons)}
                for u in event.units
            ],
        )

    @on(InspectionNoticeIssued, InspectionDecisionIssued, InspectionConcluded)
    async def inspection_progressed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        data = event.model_dump(mode="json")
        match event:
            case InspectionNoticeIssued():
                values: dict[str, Any] = {"status": "noticed", "notice": data}
            case InspectionDecisionIssued():
                values = {"status": "decided", "decision": data}
            case _:
                values = {"status": "concluded", "conclusion": data}
        await conn.execute(
            update(inspections).where(inspections.c.inspection_id == data["inspection_id"]).values(**values)
        )

    @on(FindingRecorded)
    async def finding_recorded(self, conn: AsyncConnection, event: FindingRecorded, ctx: Context) -> None:
        await conn.execute(
            insert(findings).values(
                finding_id=event.finding_id,
                inspection_id=event.inspection_id,
                unit_id=event.unit_id,
                severity=event.severity,
                description=event.description,
                recommendation=event.recommendation,
                recorded_on=ctx.occurred_at.date(),
            )
        )

    @on(CorrectiveActionAssigned)
    async def action_assigned(self, conn: AsyncConnection, event: CorrectiveActionAssigned, ctx: Context) -> None:
        self._touched(event.unit_id)
        await conn.execute(
            insert(actions).values(
                action_id=event.action_id,
                inspection_id=event.inspection_id,
                unit_id=event.unit_id,
                finding_id=event.finding_id,
                description=event.description,
                owner=event.owner,
                due_on=event.due_on,
                status="open",
                assigned_on=ctx.occurred_at.date(),
                reopened=0,
            )
        )

    @on(CorrectiveActionFixReported, CorrectiveActionVerified, CorrectiveActionReopened)
    async def action_progressed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        match event:
            case CorrectiveActionFixReported():
                values: dict[str, Any] = {"status": "fix_reported", "fix_reported_on": event.reported_on}
            case CorrectiveActionVerified():
                values = {"status": "verified", "verified_on": event.verified_on}
            case CorrectiveActionReopened():
                values = {
                    "status": "open",
                    "due_on": event.due_on,
                    "fix_reported_on": None,
                    "reopened": actions.c.reopened + 1,
                }
            case _:
                return
        self._touched(event.unit_id)  # type: ignore[attr-defined]
        await conn.execute(update(actions).where(actions.c.action_id == event.action_id).values(**values))  # type: ignore[attr-defined]
