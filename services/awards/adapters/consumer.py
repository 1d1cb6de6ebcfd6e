"""The awards service's own consumer of the facts other services publish (registry, pledges,
inspections): its copies of initiatives, pledges and grades, kept by the shared runner (checkpoint, dead
letters), each change marking the nominees whose open proposals are judged again."""

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import GradeConfirmed
from contracts.pledges import PledgeAmended, PledgeSigned, ProgressReported
from contracts.registry import (
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRevised,
)
from services.awards.adapters import facts
from shared.events import Event
from shared.projection import Context, Projection, on


class AwardFacts(Projection):
    name = "awards_facts"
    services = ("registry", "pledges", "inspections")
    metadata = facts.metadata

    async def _changed(self, conn: AsyncConnection, event: Event, touched: facts.Touched) -> None:
        await facts.mark_dirty(conn, touched, event.event_type)

    @on(InitiativeRegistered, InitiativeRevised, InitiativeRecognised, InitiativeApplied, InitiativeAccepted)
    async def initiative(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._changed(conn, event, await facts.apply_registry(conn, event, ctx.occurred_at.date()))

    @on(PledgeSigned, PledgeAmended, ProgressReported)
    async def pledge(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._changed(conn, event, await facts.apply_pledges(conn, event))

    @on(GradeConfirmed)
    async def grade(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._changed(conn, event, await facts.apply_inspections(conn, event))
