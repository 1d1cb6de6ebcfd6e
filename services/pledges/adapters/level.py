"""The pledges LEVEL projection: one union level's progress on every campaign that reaches it.

For each unit of the level's subtree it keeps the targets it was given, what was counted or reported
at the unit itself (``own``) and over its whole subtree (``total``: the roll-up), whether it pledged,
and when it reported. Counted indicators come from the registry's initiative events and the
directory's enrolments; reported ones from ``ProgressReported`` (whose ``delta`` is the change).

The roll-up is kept incrementally: an event adds to its unit and to every ancestor the level holds,
found by parent links (the runner's ``ctx.units``). Deltas are folded in memory across a batch and
written in one upsert (``flush``). A move or merge moves the unit's totals: they are taken off the old
ancestors and added to the new ones. Which units belong to the level, and a unit's history when it
arrives from another level, is the runner's (``shared.membership``).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.directory import MemberEnrolled, UnitAbsorbed, UnitMovedIn
from contracts.pledges import (
    CampaignClosed,
    CampaignLaunched,
    PledgeAmended,
    PledgeSigned,
    ProgressReported,
    TargetAssigned,
)
from contracts.registry import InitiativeAccepted, InitiativeApplied, InitiativeRecognised, InitiativeRegistered
from services.pledges.adapters.level_tables import (
    Pending,
    add_to,
    add_values,
    campaigns,
    flush,
    metadata,
    pledged,
    recognised,
    reports,
    targets,
    totals_of,
    upsert,
    values,
)
from shared.events import Event
from shared.membership import LevelUnits
from shared.projection import Context, Projection, on
from shared.subjects import in_subtree

# Event type → the source of a counted indicator it counts for.
COUNTED = {
    InitiativeRegistered: "initiatives_registered",
    InitiativeRecognised: "initiatives_recognised",
    InitiativeApplied: "initiatives_applied",
    InitiativeAccepted: "initiatives_accepted",
    MemberEnrolled: "members_enrolled",
}


@dataclass
class _Campaign:
    launcher_path: str
    starts_on: date
    ends_on: date
    by_source: dict[str, list[str]]  # source → indicator codes counted from it


class PledgesLevelProjection(Projection):
    name = "pledges_level"
    services = ("pledges", "registry", "directory")
    metadata = metadata

    def __init__(self) -> None:
        self._campaigns: dict[str, _Campaign] | None = None
        self._pending = Pending()

    def reset(self) -> None:
        self._campaigns, self._pending = None, Pending()

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        await flush(conn, self._pending)

    # -- counting ----------------------------------------------------------------------------------

    @on(*COUNTED)
    async def counted(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        units = _units(ctx)
        if isinstance(event, InitiativeRecognised) and await self._recognised_before(conn, event, units):
            return  # an initiative counts as recognised once, whatever the number of scopes it reaches
        found = units.resolve(event.unit_id)  # type: ignore[attr-defined]
        unit = units.get(found)
        if found is None or unit is None:
            return
        only = event.campaign_id if isinstance(event, InitiativeRegistered) else None
        day = ctx.occurred_at.date()
        if isinstance(event, InitiativeRegistered) and event.registered_on is not None:
            day = event.registered_on  # a registration made on paper counts in its own day's campaign
        elif isinstance(event, InitiativeApplied):
            day = event.since  # an application counts on its own day, as the inspections checklists count it
        for cid, campaign in (await self._campaign_cache(conn)).items():
            codes = campaign.by_source.get(COUNTED[type(event)])
            if not codes or (only and only != cid) or not campaign.starts_on <= day <= campaign.ends_on:
                continue
            if not in_subtree(unit.path, campaign.launcher_path):
                continue  # the campaign does not reach the unit
            for code in codes:
                self._add(units, cid, found, code, 1.0)

    async def _recognised_before(self, conn: AsyncConnection, event: InitiativeRecognised, units: LevelUnits) -> bool:
        initiative = event.initiative_id
        if initiative in self._pending.recognised:
            return True
        if await conn.scalar(select(recognised.c.unit_id).where(recognised.c.initiative_id == initiative)):
            return True
        if units.resolve(event.unit_id) is not None:
            self._pending.recognised[initiative] = event.unit_id
        return False

    @on(ProgressReported)
    async def reported(self, conn: AsyncConnection, event: ProgressReported, ctx: Context) -> None:
        units = _units(ctx)
        found = units.resolve(event.unit_id)
        if found is None:
            return
        self._add(units, event.campaign_id, found, event.indicator, event.delta)
        await conn.execute(
            insert(reports).values(campaign_id=event.campaign_id, unit_id=found, reported_at=event.reported_at)
        )

    def _add(self, units: LevelUnits, cid: str, unit_id: str, code: str, amount: float) -> None:
        row = self._pending.values.setdefault((cid, unit_id, code), [0.0, 0.0])
        row[0] += amount
        row[1] += amount
        for ancestor in units.ancestors(unit_id):
            self._pending.values.setdefault((cid, ancestor, code), [0.0, 0.0])[1] += amount

    # -- campaigns, targets, pledges ---------------------------------------------------------------

    @on(CampaignLaunched)
    async def launched(self, conn: AsyncConnection, event: CampaignLaunched, ctx: Context) -> None:
        if await conn.scalar(select(campaigns.c.campaign_id).where(campaigns.c.campaign_id == event.campaign_id)):
            return
        await conn.execute(
            insert(campaigns).values(
                campaign_id=event.campaign_id,
                launcher_unit_id=event.launcher_unit_id,
                launcher_path=event.launcher_path,
                title=event.title,
                plan_number=event.plan_number,
                starts_on=event.starts_on,
                ends_on=event.ends_on,
                status="open",
                indicators=[i.model_dump(mode="json") for i in event.indicators],
                report_deadlines=[d.isoformat() for d in event.report_deadlines],
            )
        )
        self._campaigns = None

    @on(CampaignClosed)
    async def closed(self, conn: AsyncConnection, event: CampaignClosed, ctx: Context) -> None:
        where = campaigns.c.campaign_id == event.campaign_id
        await conn.execute(update(campaigns).where(where).values(status="closed", closed_on=event.closed_on))

    @on(TargetAssigned)
    async def target(self, conn: AsyncConnection, event: TargetAssigned, ctx: Context) -> None:
        if _units(ctx).resolve(event.unit_id) is None:
            return
        await conn.execute(
            delete(targets).where(targets.c.campaign_id == event.campaign_id, targets.c.unit_id == event.unit_id)
        )
        rows = [
            {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": k, "target": v}
            for k, v in event.targets.items()
        ]
        if rows:
            await conn.execute(insert(targets), rows)

    @on(PledgeSigned, PledgeAmended)
    async def pledged(self, conn: AsyncConnection, event: PledgeSigned | PledgeAmended, ctx: Context) -> None:
        if _units(ctx).resolve(event.unit_id) is None:
            return
        amendment = event.amendment if isinstance(event, PledgeAmended) else 1
        stmt = upsert(conn, pledged).values(campaign_id=event.campaign_id, unit_id=event.unit_id, amendment=amendment)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[pledged.c.campaign_id, pledged.c.unit_id], set_={"amendment": stmt.excluded.amendment}
            )
        )

    # -- the shape of the level --------------------------------------------------------------------

    @on(UnitMovedIn)
    async def moved(self, conn: AsyncConnection, event: UnitMovedIn, ctx: Context) -> None:
        """The unit's totals leave its old ancestors and join its new ones (the level's units moved it)."""
        units = _units(ctx)
        totals = await totals_of(conn, event.unit_id)
        old = [event.old_parent_id, *units.ancestors(event.old_parent_id)] if event.old_parent_id in units else []
        await add_to(conn, old, totals, -1.0)
        await add_to(conn, units.ancestors(event.unit_id), totals, 1.0)

    @on(UnitAbsorbed)
    async def absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """The merged unit's own results become the absorbing unit's (its children moved with them)."""
        units = _units(ctx)
        into, gone = event.unit_id, event.absorbed_unit_id
        if gone not in units:
            return
        totals = await totals_of(conn, gone)
        await add_to(conn, units.ancestors(gone), totals, -1.0)
        rows = await conn.execute(select(values).where(values.c.unit_id == gone))
        moved = [
            {"campaign_id": r.campaign_id, "unit_id": into, "indicator": r.indicator, "own": r.own, "total": r.total}
            for r in rows
        ]
        await add_values(conn, moved)
        await add_to(conn, units.ancestors(into), totals, 1.0)
        await conn.execute(delete(values).where(values.c.unit_id == gone))

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        units = _units(ctx)
        for root in unit_ids:
            unit = units.get(root)
            if unit is not None and unit.status == "active" and unit.parent_id not in unit_ids:
                await add_to(conn, units.ancestors(root), await totals_of(conn, root), -1.0)
        for table in (values, targets, pledged, reports, recognised):
            await conn.execute(delete(table).where(table.c.unit_id.in_(unit_ids)))

    # -- caches ------------------------------------------------------------------------------------

    async def _campaign_cache(self, conn: AsyncConnection) -> dict[str, _Campaign]:
        if self._campaigns is None:
            found: dict[str, _Campaign] = {}
            for r in await conn.execute(select(campaigns)):
                by_source: dict[str, list[str]] = {}
                for indicator in r.indicators:
                    if indicator.get("source"):
                        by_source.setdefault(indicator["source"], []).append(indicator["code"])
                found[r.campaign_id] = _Campaign(r.launcher_path, r.starts_on, r.ends_on, by_source)
            self._campaigns = found
        return self._campaigns


def _units(ctx: Context) -> LevelUnits:
    assert ctx.units is not None, "the pledges level follows the directory: the runner owns its units"
    return ctx.units
