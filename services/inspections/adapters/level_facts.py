"""The facts half of the inspections projection: what it copies from the directory, pledges and registry
events (units' dates and mergers, campaigns, targets, commitments, reported values, initiatives and their
status, counted events per day), judging the radar's signs those facts make as they arrive."""

import functools
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, insert, or_, select, update
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
from services.inspections.adapters.tables import (
    campaigns,
    commitments,
    initiatives,
    merged,
    owners,
    reported,
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
_STATUS_RANK = {"registered": 1, "returned": 1, "rejected": 1, "recognised": 2, "applied": 3, "accepted": 4}


# Statements built once (a city's replay runs each of them tens of thousands of times): a unit's targets
# or commitments for a campaign are replaced by the latest event's.
_REPLACE = {
    table: delete(table).where(table.c.campaign_id == bindparam("campaign"), table.c.unit_id == bindparam("unit"))
    for table in (targets, commitments)
}
_INSERT = {table: insert(table) for table in (targets, commitments)}


@functools.cache
def _first_date(dialect: str) -> Any:
    """A unit's first operating day, kept if known already."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(unit_dates)
    return stmt.on_conflict_do_nothing(index_elements=[unit_dates.c.unit_id])


class FactsHandlers(RadarHandlers):
    _counts: defaultdict[tuple[str, str, date, str], int]
    _bunching: set[tuple[str, str]]
    _initiatives: dict[str, dict[str, Any]]  # registered in the batch, written at its flush

    # -- directory ---------------------------------------------------------------------------------------

    @on(UnitRegistered)
    async def unit_registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        since = getattr(event, "established_on", None) or ctx.occurred_at.date()
        await conn.execute(_first_date(conn.dialect.name), {"unit_id": event.unit_id, "operating_since": since})
        if event.kind == SUB_UNIT and event.parent_id:  # a sub-unit's signs count for its grassroots union
            await self._counts_for(conn, event.unit_id, event.parent_id)

    @on(UnitMovedIn)
    async def unit_moved_in(self, conn: AsyncConnection, event: UnitMovedIn, ctx: Context) -> None:
        if await conn.scalar(select(owners.c.unit_id).where(owners.c.unit_id == event.unit_id)):
            await self._counts_for(conn, event.unit_id, event.new_parent_id)  # a sub-unit to another union

    @on(UnitAbsorbed)
    async def unit_absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """A merger restarts the absorbing union's clock for grading (the shorter one, after a merger)."""
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
        named = select(initiatives.c.unit_id).where(initiatives.c.campaign_id == event.campaign_id).distinct()
        self._bunching |= {(unit_id, event.campaign_id) for (unit_id,) in await conn.execute(named)}

    @on(CampaignClosed)
    async def campaign_closed(self, conn: AsyncConnection, event: CampaignClosed, ctx: Context) -> None:
        await conn.execute(
            update(campaigns).where(campaigns.c.campaign_id == event.campaign_id).values(status="closed")
        )

    @on(TargetAssigned)
    async def target_assigned(self, conn: AsyncConnection, event: TargetAssigned, ctx: Context) -> None:
        await conn.execute(_REPLACE[targets], {"campaign": event.campaign_id, "unit": event.unit_id})
        rows = [
            {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": code, "target": value}
            for code, value in event.targets.items()
        ]
        if rows:
            await conn.execute(_INSERT[targets], rows)
        self._reports.add((event.campaign_id, event.unit_id))  # judged at the batch's flush

    @on(PledgeSigned, PledgeAmended)
    async def pledged(self, conn: AsyncConnection, event: PledgeSigned | PledgeAmended, ctx: Context) -> None:
        await conn.execute(_REPLACE[commitments], {"campaign": event.campaign_id, "unit": event.unit_id})
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
        if rows:
            await conn.execute(_INSERT[commitments], list(rows.values()))
        self._reports.add((event.campaign_id, event.unit_id))  # judged at the batch's flush

    @on(ProgressReported)
    async def progress_reported(self, conn: AsyncConnection, event: ProgressReported, ctx: Context) -> None:
        rules = rules_on(event.reported_at.date()).radar
        row = {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": event.indicator}
        latest = {"value": event.value, "reported_on": event.reported_at.date(), "evidence": list(event.evidence)}
        verifiable = radar.verifiable(event.evidence, rules)
        await conn.execute(_report_upsert(conn.dialect.name), {**row, **latest, "verifiable": verifiable})
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
        """Kept in the batch and written at its flush (one statement for all): the events of the same
        batch that move its status change the kept row. A registration delivered again changes nothing."""
        day = event.registered_on or ctx.occurred_at.date()  # a registration made on paper: its own day
        self._initiatives.setdefault(
            event.initiative_id,
            {
                "initiative_id": event.initiative_id, "unit_id": event.unit_id, "title": event.registration.title,
                "campaign_id": event.campaign_id, "status": "registered", "registered_on": day,
                "applied_on": None, "recognised": False,
            },
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
        kept = self._initiatives.get(event.initiative_id)
        before = kept["recognised"] if kept else await conn.scalar(
            select(initiatives.c.recognised).where(initiatives.c.initiative_id == event.initiative_id)
        )  # fmt: skip
        await self._status(conn, event, recognised=True)
        if not before:
            self._count(event.unit_id, COUNTED[event.event_type], ctx)

    @on(InitiativeApplied)
    async def initiative_applied(self, conn: AsyncConnection, event: InitiativeApplied, ctx: Context) -> None:
        await self._status(conn, event, applied_on=event.since)  # the first application's day: the earliest
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    @on(InitiativeAccepted)
    async def initiative_accepted(self, conn: AsyncConnection, event: InitiativeAccepted, ctx: Context) -> None:
        await self._status(conn, event)
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    # -- helpers -----------------------------------------------------------------------------------------

    def _count(self, unit_id: str, source: str, ctx: Context, campaign_key: str = "", day: date | None = None) -> None:
        self._counts[(unit_id, source, day or ctx.occurred_at.date(), campaign_key)] += 1

    async def _status(self, conn: AsyncConnection, event: Any, **values: Any) -> None:
        """Move the initiative's status forward (a later recognition never undoes an application);
        ``applied_on`` keeps the earliest day. One prepared statement, no read first: an initiative
        registered before this level held its unit (and not back-filled) has no row, nothing changes."""
        new = STATUS_AFTER[event.event_type]
        kept = self._initiatives.get(event.initiative_id)
        if kept is not None:  # registered in this batch, not written yet
            if kept["status"] not in _ahead(new):
                kept["status"] = new
            if "applied_on" in values:
                first = kept["applied_on"]
                values = {**values, "applied_on": min(first, values["applied_on"]) if first else values["applied_on"]}
            kept.update(values)
            self._touched(kept["unit_id"])
            return
        params = {"initiative": event.initiative_id, **{f"new_{k}": v for k, v in values.items()}}
        updated = await conn.execute(_status_update(new, tuple(sorted(values))), params)
        self._touched(*(unit_id for (unit_id,) in updated))  # the unit the initiative's row belongs to


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


def _ahead(new: str) -> tuple[str, ...]:
    """The statuses an initiative keeps when an event would move it to ``new`` (a decision sends it back
    whatever it was)."""
    if new in ("returned", "rejected", "registered"):
        return ()
    return tuple(status for status, rank in _STATUS_RANK.items() if rank > _STATUS_RANK.get(new, 0))


@functools.cache
def _status_update(new: str, columns: tuple[str, ...]) -> Any:
    """The statement moving an initiative to ``new`` and setting ``columns`` (built once per shape: an
    event's statement is then only executed, not built)."""
    ahead = _ahead(new)
    values: dict[str, Any] = {
        "status": case((initiatives.c.status.in_(ahead), initiatives.c.status), else_=new) if ahead else new
    }
    for column in columns:
        given = bindparam(f"new_{column}", type_=initiatives.c[column].type)
        if column == "applied_on":
            first = initiatives.c.applied_on
            given = case((or_(first.is_(None), first > given), given), else_=first)
        values[column] = given
    where = initiatives.c.initiative_id == bindparam("initiative")
    return update(initiatives).where(where).values(**values).returning(initiatives.c.unit_id)
