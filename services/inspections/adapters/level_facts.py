"""The facts half of the inspections projection: what it copies from the directory, pledges and registry
events (units' dates and mergers, campaigns, targets, commitments, reported values, initiatives and their
status, counted events per day), judging the radar's signs those facts make as they arrive."""

import functools
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.directory import SUB_UNIT, MemberEnrolled, UnitAbsorbed, UnitMerged, UnitMovedIn, UnitRegistered
from contracts.pledges import (
    CampaignClosed,
    CampaignLaunched,
    PledgeAmended,
    PledgeSigned,
    ProgressReported,
    ReminderIssued,
    TargetAssigned,
)
from contracts.registry import (
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
)
from services.inspections.adapters.level_radar import RadarHandlers, upsert
from services.inspections.adapters.level_writes import Registration, StatusChange
from services.inspections.adapters.tables import (
    campaigns,
    commitments,
    initiatives,
    merged,
    owners,
    reported,
    reported_history,
    targets,
    unit_dates,
)
from services.inspections.domain import radar
from services.inspections.domain.rulesets import rules_on
from shared.events import Event
from shared.projection import Context, on

# What a counted pledge indicator counts (contracts.pledges.Source), by the event that is counted.
COUNTED: dict[str, str] = {
    InitiativeRegistered.event_type: "initiatives_registered",
    InitiativeRecognised.event_type: "initiatives_recognised",
    InitiativeApplied.event_type: "initiatives_applied",
    InitiativeAccepted.event_type: "initiatives_accepted",
    MemberEnrolled.event_type: "members_enrolled",
}
STATUS_AFTER: dict[str, str] = {
    InitiativeRegistered.event_type: "registered",
    InitiativeRevised.event_type: "registered",
    InitiativeReturned.event_type: "returned",
    InitiativeRejected.event_type: "rejected",
    InitiativeRecognised.event_type: "recognised",
    InitiativeApplied.event_type: "applied",
    InitiativeAccepted.event_type: "accepted",
}


@functools.cache
def _first_date(dialect: str) -> Any:
    """A unit's first operating day, kept if known already."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(unit_dates)
    return stmt.on_conflict_do_nothing(index_elements=[unit_dates.c.unit_id])


class FactsHandlers(RadarHandlers):
    """The writes of the frequent events are put off to the batch's end (``level_writes``)."""

    _bunching: set[tuple[str, str]]

    # -- directory ---------------------------------------------------------------------------------------

    @on(UnitRegistered)
    async def unit_registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        since = getattr(event, "established_on", None) or ctx.occurred_at.date()
        self._writes.add(
            unit_dates, _first_date(conn.dialect.name), {"unit_id": event.unit_id, "operating_since": since}
        )
        if event.kind == SUB_UNIT and event.parent_id:  # a sub-unit's signs count for its grassroots union
            await self._counts_for(conn, event.unit_id, event.parent_id)

    @on(UnitMovedIn)
    async def unit_moved_in(self, conn: AsyncConnection, event: UnitMovedIn, ctx: Context) -> None:
        if await conn.scalar(select(owners.c.unit_id).where(owners.c.unit_id == event.unit_id)):
            await self._counts_for(conn, event.unit_id, event.new_parent_id)  # a sub-unit to another union

    @on(UnitAbsorbed)
    async def unit_absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """A merger restarts the absorbing union's clock for grading (the shorter one, after a merger)."""
        await self._written(conn)
        await conn.execute(
            update(unit_dates)
            .where(unit_dates.c.unit_id == event.unit_id)
            .values(restructured_on=ctx.occurred_at.date())
        )
        for child in event.moved_child_ids:  # the absorbed union's sub-units now belong to this one
            if await conn.scalar(select(owners.c.unit_id).where(owners.c.unit_id == child)):
                await self._counts_for(conn, child, event.unit_id)

    @on(UnitMerged)
    async def unit_merged(self, conn: AsyncConnection, event: UnitMerged, ctx: Context) -> None:
        stmt = upsert(conn, merged).values(unit_id=event.unit_id, into_unit_id=event.into_unit_id)
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=[merged.c.unit_id], set_={"into_unit_id": event.into_unit_id})
        )
        await self._counts_for(conn, event.unit_id, event.into_unit_id)

    @on(MemberEnrolled)
    async def member_enrolled(self, conn: AsyncConnection, event: MemberEnrolled, ctx: Context) -> None:
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    # -- pledges -----------------------------------------------------------------------------------------

    @on(CampaignLaunched)
    async def campaign_launched(self, conn: AsyncConnection, event: CampaignLaunched, ctx: Context) -> None:
        stmt = upsert(conn, campaigns).values(
            campaign_id=event.campaign_id,
            launcher_path=event.launcher_path,
            title=event.title,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            indicators=[i.model_dump(mode="json") for i in event.indicators],
            report_deadlines=[d.isoformat() for d in event.report_deadlines],
            status="open",
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[campaigns.c.campaign_id]))
        self._campaigns = None
        # Registrations naming the campaign may have arrived first (another service's stream): judge them now.
        await self._written(conn)
        named = select(initiatives.c.unit_id).where(initiatives.c.campaign_id == event.campaign_id).distinct()
        self._bunching |= {(unit_id, event.campaign_id) for (unit_id,) in await conn.execute(named)}

    @on(CampaignClosed)
    async def campaign_closed(self, conn: AsyncConnection, event: CampaignClosed, ctx: Context) -> None:
        await conn.execute(
            update(campaigns).where(campaigns.c.campaign_id == event.campaign_id).values(status="closed")
        )

    @on(TargetAssigned)
    async def target_assigned(self, conn: AsyncConnection, event: TargetAssigned, ctx: Context) -> None:
        self._goals[(targets, event.campaign_id, event.unit_id)] = [
            {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": code, "target": value}
            for code, value in event.targets.items()
        ]
        self._reports.add((event.campaign_id, event.unit_id))  # judged at the batch's flush

    @on(PledgeSigned, PledgeAmended)
    async def pledged(self, conn: AsyncConnection, event: PledgeSigned | PledgeAmended, ctx: Context) -> None:
        rows = {
            c.indicator: {
                "campaign_id": event.campaign_id,
                "unit_id": event.unit_id,
                "indicator": c.indicator,
                "target": c.target,
                "deadline": c.deadline,
            }
            for c in event.commitments
        }
        self._goals[(commitments, event.campaign_id, event.unit_id)] = list(rows.values())
        self._reports.add((event.campaign_id, event.unit_id))  # judged at the batch's flush

    @on(ProgressReported)
    async def progress_reported(self, conn: AsyncConnection, event: ProgressReported, ctx: Context) -> None:
        rules = rules_on(event.reported_at.date()).radar
        row = {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": event.indicator}
        latest = {"value": event.value, "reported_on": event.reported_at.date(), "evidence": list(event.evidence)}
        verifiable = radar.verifiable(event.evidence, rules)
        self._writes.add(reported, _report_upsert(conn.dialect.name), {**row, **latest, "verifiable": verifiable})
        day = {"reported_on": latest["reported_on"], "value": event.value}
        self._writes.add(reported_history, _history_upsert(conn.dialect.name), {**row, **day})
        self._reports.add((event.campaign_id, event.unit_id))  # judged at the batch's flush

    @on(ReminderIssued)
    async def reminder_issued(self, conn: AsyncConnection, event: ReminderIssued, ctx: Context) -> None:
        if event.kind != "report_overdue":
            return
        campaign = (await self._campaign_cache(conn)).get(event.campaign_id, {})
        await self._signal(
            conn,
            event.unit_id,
            "report_late",
            f"{event.campaign_id}:{event.deadline.isoformat()}",
            event.deadline + timedelta(days=1),
            rules_on(event.deadline).version,
            {
                "campaign_id": event.campaign_id,
                "campaign": campaign.get("title", ""),
                "deadline": event.deadline,
                "reminded_at": event.issued_at,
            },
        )

    # -- registry ----------------------------------------------------------------------------------------

    @on(InitiativeRegistered)
    async def initiative_registered(self, conn: AsyncConnection, event: InitiativeRegistered, ctx: Context) -> None:
        """A registration delivered again changes nothing."""
        day = event.registered_on or ctx.occurred_at.date()  # a registration made on paper: its own day
        self._initiative_changes.add(
            event.initiative_id,
            Registration({
                "initiative_id": event.initiative_id, "unit_id": event.unit_id, "title": event.registration.title,
                "campaign_id": event.campaign_id, "status": "registered", "registered_on": day,
                "applied_on": None, "recognised": False,
            }),
        )  # fmt: skip
        self._touched(event.unit_id)
        self._count(event.unit_id, COUNTED[event.event_type], ctx, event.campaign_id or "", day)
        await self._duplicates(
            conn, event.unit_id, event.initiative_id, event.registration.title, event.possible_duplicates, day
        )
        if event.campaign_id:
            self._bunching.add((event.unit_id, event.campaign_id))

    @on(InitiativeRevised)
    async def initiative_revised(self, conn: AsyncConnection, event: InitiativeRevised, ctx: Context) -> None:
        await self._status(conn, event, title=event.registration.title)
        await self._duplicates(
            conn,
            event.unit_id,
            event.initiative_id,
            event.registration.title,
            event.possible_duplicates,
            ctx.occurred_at.date(),
        )

    @on(InitiativeReturned, InitiativeRejected)
    async def initiative_decided(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._status(conn, event)

    @on(InitiativeRecognised)
    async def initiative_recognised(self, conn: AsyncConnection, event: InitiativeRecognised, ctx: Context) -> None:
        """Counted once, whatever the number of levels that recognise it."""
        counted = (event.unit_id, COUNTED[event.event_type], ctx.occurred_at.date(), "")
        change = StatusChange(STATUS_AFTER[event.event_type], {"recognised": True}, count_unless_recognised=counted)
        self._initiative_changes.add(event.initiative_id, change)

    @on(InitiativeApplied)
    async def initiative_applied(self, conn: AsyncConnection, event: InitiativeApplied, ctx: Context) -> None:
        await self._status(conn, event, applied_on=event.since)  # the first application's day: the earliest
        # Counted on the application's own day, not the day it was entered: an application since May
        # entered in August is the half-year's.
        self._count(event.unit_id, COUNTED[event.event_type], ctx, day=event.since)

    @on(InitiativeAccepted)
    async def initiative_accepted(self, conn: AsyncConnection, event: InitiativeAccepted, ctx: Context) -> None:
        await self._status(conn, event)
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    # -- helpers -----------------------------------------------------------------------------------------

    def _count(self, unit_id: str, source: str, ctx: Context, campaign_key: str = "", day: date | None = None) -> None:
        self._counted((unit_id, source, day or ctx.occurred_at.date(), campaign_key))

    async def _status(self, conn: AsyncConnection, event: Any, **values: Any) -> None:
        """Move the initiative's status forward (a later recognition never undoes an application);
        ``applied_on`` keeps the earliest day. An initiative registered before this level held its unit
        (and not back-filled) has no row: nothing changes."""
        self._initiative_changes.add(event.initiative_id, StatusChange(STATUS_AFTER[event.event_type], values))


@functools.cache
def _report_upsert(dialect: str) -> Any:
    """A reported value, the latest kept; verifiable if any report of it carried a link or a file (one
    statement, built once: not a read and a write per report)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(reported)
    latest = {k: stmt.excluded[k] for k in ("value", "reported_on", "evidence")}
    return stmt.on_conflict_do_update(
        index_elements=[reported.c.campaign_id, reported.c.unit_id, reported.c.indicator],
        set_={**latest, "verifiable": or_(reported.c.verifiable, stmt.excluded.verifiable)},
    )


@functools.cache
def _history_upsert(dialect: str) -> Any:
    """A reported value kept by its report's day; a later report of the same day replaces it."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(reported_history)
    keys = ("campaign_id", "unit_id", "indicator", "reported_on")
    return stmt.on_conflict_do_update(
        index_elements=[reported_history.c[k] for k in keys], set_={"value": stmt.excluded.value}
    )
