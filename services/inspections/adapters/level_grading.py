"""The grading half of the inspections projection: each union's self-grade and its parent's confirmation."""

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import GradeConfirmed, SelfGraded
from services.inspections.adapters.tables import grades
from shared.projection import Context, on


class GradingHandlers:
    @on(SelfGraded)
    async def self_graded(self, conn: AsyncConnection, event: SelfGraded, ctx: Context) -> None:
        await conn.execute(delete(grades).where(grades.c.unit_id == event.unit_id, grades.c.year == event.year))
        await conn.execute(
            insert(grades).values(
                unit_id=event.unit_id,
                year=event.year,
                union_type=event.union_type,
                self_grade=event.grade,
                self_points=event.points,
                changed=False,
                reason="",
                revision=0,
                rule_set=event.rule_set,
            )
        )

    @on(GradeConfirmed)
    async def grade_confirmed(self, conn: AsyncConnection, event: GradeConfirmed, ctx: Context) -> None:
        await conn.execute(
            update(grades)
            .where(grades.c.unit_id == event.unit_id, grades.c.year == event.year)
            .values(
                grade=event.grade,
                points=event.points,
                changed=event.changed,
                reason=event.reason,
                revision=event.revision,
                by_path=event.by_path,
            )
        )
