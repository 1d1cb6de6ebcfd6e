"""The pledges LEVEL projection: one union level's progress on every campaign that reaches it.

For each unit of the level's subtree it keeps the targets it was given, what was counted or reported
at the unit itself (``own``) and over its whole subtree (``total``: the roll-up), whether it pledged,
and when it reported. Counted indicators come from the registry's initiative events and the
directory's enrolments; reported ones from ``ProgressReported`` (whose ``delta`` is the change).

The roll-up is kept incrementally: an event adds to its unit and to every ancestor the level holds,
found by parent links. ``apply_batch`` folds a run of such events into one upsert. A move or merge
moves the unit's totals: they are taken off the old ancestors and added to the new ones. A unit that
arrives from another level is *adopted* as in the directory's level projection: its history (every
path it had) is replayed, accepting only the arriving unit and units registered under it, so nothing
is counted twice. Adoption needs ``ctx.backfill``, which ``apply_batch`` does not get; a batch that
needs it raises ``NeedsBackfill`` and the runner applies that batch message by message.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pledges.adapters.level_tables import (
    LevelUnit,
    Pending,
    add_values,
    ancestors_of,
    attach,
    campaigns,
    detach,
    flush,
    metadata,
    pledged,
    recognised,
    repath,
    reports,
    spread,
    subtree_of,
    targets,
    units,
    upsert,
    values,
)
from shared.db import Database
from shared.projections import ApplyContext, ProjectedMessage, checkpoints
from shared.subjects import in_subtree

# Event type → (source of a counted indicator, the data key naming a campaign it is limited to).
COUNTED = {
    "InitiativeRegistered": "initiatives_registered",
    "InitiativeRecognised": "initiatives_recognised",
    "InitiativeApplied": "initiatives_applied",
    "InitiativeAccepted": "initiatives_accepted",
    "MemberEnrolled": "members_enrolled",
}
STRUCTURAL = {"UnitRegistered", "UnitRenamed", "UnitMovedOut", "UnitMovedIn", "UnitMerged", "UnitAbsorbed"}


class NeedsBackfill(Exception):
    """A unit arrives from another level inside a folded batch: apply this batch one message at a time."""


@dataclass
class _Campaign:
    launcher_path: str
    starts_on: date
    ends_on: date
    by_source: dict[str, list[str]]  # source → indicator codes counted from it


@dataclass
class _Adoption:
    replaying: set[str] = field(default_factory=set)
    adopted: set[str] = field(default_factory=set)


class PledgesLevelProjection:
    name = "pledges_level"
    services = ("pledges", "registry", "directory")
    metadata = metadata

    def __init__(self) -> None:
        self._units: dict[str, LevelUnit] | None = None
        self._campaigns: dict[str, _Campaign] | None = None
        self._adoption: _Adoption | None = None
        self._applied_to = -1  # the stream sequence the caches reflect

    def read_router(self, db: Database, scope: str) -> APIRouter:
        from services.pledges.adapters.level_reads import level_router

        return level_router(db, scope)

    # -- entry points ----------------------------------------------------------------------------

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext) -> None:
        nested = self._adoption is not None  # a back-filled message inside another message's apply
        try:
            if not nested:
                await self._check_caches(conn, ctx.scope)
            pending = Pending()
            await self._one(conn, message, ctx, pending)
            await flush(conn, pending)
        except BaseException:
            self._forget()
            raise
        if not nested:
            self._applied_to = message.sequence

    async def apply_batch(self, conn: AsyncConnection, messages: list[ProjectedMessage], scope: str) -> None:
        try:
            await self._check_caches(conn, scope)
            pending = Pending()
            context = _NoContext(scope, pending)
            for message in messages:
                if message.envelope.event_type in STRUCTURAL - {"UnitRegistered"}:
                    await flush(conn, pending)  # a move reads totals and rows: they must be written first
                await self._one(conn, message, context, pending)
            await flush(conn, pending)
        except BaseException:
            self._forget()  # the transaction rolls back: the caches may hold what it wrote
            raise
        self._applied_to = messages[-1].sequence

    async def _check_caches(self, conn: AsyncConnection, scope: str) -> None:
        """The caches hold what this instance applied; if the recorded checkpoint is elsewhere (a rolled
        back transaction, a rebuild that dropped the tables, a dead-lettered message), reload them."""
        recorded = await conn.scalar(
            select(checkpoints.c.last_sequence).where(
                checkpoints.c.projection == self.name, checkpoints.c.scope == scope
            )
        )
        if (recorded or 0) != self._applied_to:
            self._forget()

    def _forget(self) -> None:
        self._units = self._campaigns = None
        self._applied_to = -1

    async def _one(self, conn: AsyncConnection, msg: ProjectedMessage, ctx: Any, pending: Pending) -> None:
        env = msg.envelope
        kind = env.event_type
        if kind == "InitiativeRecognised" and await self._recognised_before(conn, env.data, pending):
            return
        if kind in COUNTED:
            campaign_id = env.data.get("campaign_id") if kind == "InitiativeRegistered" else None
            await self._count(conn, env.data["unit_id"], COUNTED[kind], env.occurred_at, campaign_id, pending)
        elif kind == "ProgressReported":
            await self._reported(conn, env.data, pending)
        else:
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                await handler(conn, msg, env.data, ctx)

    # -- counting --------------------------------------------------------------------------------

    async def _count(
        self, conn: AsyncConnection, unit_id: str, source: str, at: datetime, only: str | None, pending: Pending
    ) -> None:
        found = await self._resolve(conn, unit_id)
        if found is None:
            return
        unit_id, unit = found
        day = at.date()
        for cid, campaign in (await self._campaign_cache(conn)).items():
            codes = campaign.by_source.get(source)
            if not codes or (only and only != cid) or not campaign.starts_on <= day <= campaign.ends_on:
                continue
            if not in_subtree(unit.path, campaign.launcher_path):
                continue  # the campaign does not reach the unit
            for code in codes:
                await self._add(conn, pending, cid, unit_id, code, 1.0)

    async def _recognised_before(self, conn: AsyncConnection, d: dict[str, Any], pending: Pending) -> bool:
        """An initiative counts as recognised once, whatever the number of scopes it is recognised at."""
        initiative = d["initiative_id"]
        if initiative in pending.recognised:
            return True
        if await conn.scalar(select(recognised.c.unit_id).where(recognised.c.initiative_id == initiative)):
            return True
        if await self._resolve(conn, d["unit_id"]) is not None:
            pending.recognised[initiative] = d["unit_id"]
        return False

    async def _reported(self, conn: AsyncConnection, d: dict[str, Any], pending: Pending) -> None:
        found = await self._resolve(conn, d["unit_id"])
        if found is None:
            return
        unit_id = found[0]
        await self._add(conn, pending, d["campaign_id"], unit_id, d["indicator"], float(d["delta"]))
        at = datetime.fromisoformat(d["reported_at"])
        await conn.execute(insert(reports).values(campaign_id=d["campaign_id"], unit_id=unit_id, reported_at=at))

    async def _add(
        self, conn: AsyncConnection, pending: Pending, cid: str, unit_id: str, code: str, amount: float
    ) -> None:
        cache = await self._unit_cache(conn)
        found = pending.values
        row = found.setdefault((cid, unit_id, code), [0.0, 0.0])
        row[0] += amount
        row[1] += amount
        for ancestor in ancestors_of(cache, unit_id):
            found.setdefault((cid, ancestor, code), [0.0, 0.0])[1] += amount

    async def _resolve(self, conn: AsyncConnection, unit_id: str) -> tuple[str, LevelUnit] | None:
        """The unit the event counts for (a merged unit's events count for the unit it merged into)."""
        cache = await self._unit_cache(conn)
        unit = cache.get(unit_id)
        while unit is not None and unit.status != "active" and unit.merged_into is not None:
            unit_id, unit = unit.merged_into, cache.get(unit.merged_into)
        if unit is None or not self._present(unit_id):
            return None
        return unit_id, unit

    # -- campaigns, targets, pledges -------------------------------------------------------------

    async def _on_CampaignLaunched(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if await conn.scalar(select(campaigns.c.campaign_id).where(campaigns.c.campaign_id == d["campaign_id"])):
            return
        await conn.execute(
            insert(campaigns).values(
                campaign_id=d["campaign_id"],
                launcher_unit_id=d["launcher_unit_id"],
                launcher_path=d["launcher_path"],
                title=d["title"],
                plan_number=d["plan_number"],
                starts_on=date.fromisoformat(d["starts_on"]),
                ends_on=date.fromisoformat(d["ends_on"]),
                status="open",
                indicators=d["indicators"],
                report_deadlines=d["report_deadlines"],
            )
        )
        self._campaigns = None

    async def _on_CampaignClosed(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        closed = date.fromisoformat(d["closed_on"])
        where = campaigns.c.campaign_id == d["campaign_id"]
        await conn.execute(update(campaigns).where(where).values(status="closed", closed_on=closed))

    async def _on_TargetAssigned(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if (await self._resolve(conn, d["unit_id"])) is None:
            return
        await conn.execute(
            delete(targets).where(targets.c.campaign_id == d["campaign_id"], targets.c.unit_id == d["unit_id"])
        )
        rows = [
            {"campaign_id": d["campaign_id"], "unit_id": d["unit_id"], "indicator": k, "target": v}
            for k, v in d["targets"].items()
        ]
        if rows:
            await conn.execute(insert(targets), rows)

    async def _on_PledgeSigned(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if (await self._resolve(conn, d["unit_id"])) is None:
            return
        stmt = upsert(conn, pledged).values(
            campaign_id=d["campaign_id"], unit_id=d["unit_id"], amendment=d.get("amendment", 1)
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[pledged.c.campaign_id, pledged.c.unit_id], set_={"amendment": stmt.excluded.amendment}
            )
        )

    _on_PledgeAmended = _on_PledgeSigned

    # -- the tree --------------------------------------------------------------------------------

    async def _on_UnitRegistered(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        cache = await self._unit_cache(conn)
        if d["unit_id"] in cache:
            return
        if self._adoption is not None:
            if d["unit_id"] not in self._adoption.replaying and d["parent_id"] not in self._adoption.adopted:
                return
            self._adoption.adopted.add(d["unit_id"])
        elif not in_subtree(d["path"], ctx.scope):
            return  # an ancestor's own registration
        row = {k: d[k] for k in ("unit_id", "parent_id", "path", "kind", "name")}
        if isinstance(ctx, _NoContext):
            ctx.pending.units.append({**row, "status": "active"})  # written with the run's other rows
        else:
            await conn.execute(insert(units).values(**row, status="active"))
        cache[d["unit_id"]] = LevelUnit(d["parent_id"], d["path"], "active", None)

    async def _on_UnitRenamed(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if self._present(d["unit_id"]) and d["unit_id"] in await self._unit_cache(conn):
            await conn.execute(update(units).where(units.c.unit_id == d["unit_id"]).values(name=d["name"]))

    async def _on_UnitMovedOut(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        cache = await self._unit_cache(conn)
        unit_id = d["unit_id"]
        if unit_id not in cache or not self._present(unit_id):
            return
        replaying = self._adoption is not None and unit_id in self._adoption.replaying
        if not replaying and d["new_parent_id"] not in cache:
            await self._drop(conn, unit_id)  # it leaves the level with its subtree and their results

    async def _on_UnitMovedIn(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        cache = await self._unit_cache(conn)
        unit_id, parent_id = d["unit_id"], d["new_parent_id"]
        if unit_id in cache:
            if not self._present(unit_id):
                return
        else:
            arriving = d["to_path"] == ctx.scope or parent_id in cache
            if self._adoption is not None:
                arriving = unit_id in self._adoption.replaying or parent_id in self._adoption.adopted
            if not arriving:
                return
            await self._adopt(ctx, list(d.get("previous_paths") or [d["from_path"]]), unit_id)
            cache = await self._unit_cache(conn)
            if unit_id not in cache:
                return
        await self._reparent(conn, unit_id, parent_id, d["to_path"])

    async def _on_UnitMerged(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        cache = await self._unit_cache(conn)
        gone, into = d["unit_id"], d["into_unit_id"]
        if gone not in cache or not self._present(gone):
            return
        if into not in cache and not (self._adoption is not None and gone in self._adoption.replaying):
            await self._drop(conn, gone)  # merged into a unit of another level: its results go there

    async def _on_UnitAbsorbed(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        cache = await self._unit_cache(conn)
        into, gone = d["unit_id"], d["absorbed_unit_id"]
        if into not in cache or not self._present(into):
            return
        if gone not in cache:
            await self._adopt(ctx, list(d.get("absorbed_paths") or [d["absorbed_path"]]), gone)
            cache = await self._unit_cache(conn)
            if gone not in cache:
                return
        await detach(conn, cache, gone)
        # The merged unit's own results become the absorbing unit's; its children move under it.
        rows = await conn.execute(select(values).where(values.c.unit_id == gone))
        moved = [
            {"campaign_id": r.campaign_id, "unit_id": into, "indicator": r.indicator, "own": r.own, "total": r.total}
            for r in rows
        ]
        await add_values(conn, moved)
        await spread(conn, cache, into, {(r["campaign_id"], r["indicator"]): r["total"] for r in moved}, 1.0)
        await conn.execute(delete(values).where(values.c.unit_id == gone))
        gone_path, into_path = cache[gone].path, cache[into].path
        for child_id, child in list(cache.items()):
            if child.parent_id == gone and child.status == "active":
                await conn.execute(update(units).where(units.c.unit_id == child_id).values(parent_id=into))
                child.parent_id = into
                await repath(conn, cache, child_id, child.path, into_path + child.path[len(gone_path) :])
        await conn.execute(update(units).where(units.c.unit_id == gone).values(status="merged", merged_into=into))
        cache[gone].status, cache[gone].merged_into, cache[gone].parent_id = "merged", into, None

    # -- membership of the level -----------------------------------------------------------------

    def _present(self, unit_id: str) -> bool:
        return self._adoption is None or unit_id in self._adoption.adopted

    async def _adopt(self, ctx: Any, paths: list[str], unit_id: str) -> None:
        if isinstance(ctx, _NoContext):
            raise NeedsBackfill(unit_id)
        outer = self._adoption
        adoption = outer or _Adoption()
        adoption.replaying.add(unit_id)
        self._adoption = adoption
        try:
            await ctx.backfill(*paths)
        finally:
            adoption.replaying.discard(unit_id)
            self._adoption = outer

    async def _reparent(self, conn: AsyncConnection, unit_id: str, parent_id: str, path: str) -> None:
        cache = await self._unit_cache(conn)
        await detach(conn, cache, unit_id)
        cache[unit_id].parent_id = parent_id
        await conn.execute(update(units).where(units.c.unit_id == unit_id).values(parent_id=parent_id))
        await repath(conn, cache, unit_id, cache[unit_id].path, path)
        await attach(conn, cache, unit_id)

    async def _drop(self, conn: AsyncConnection, unit_id: str) -> None:
        cache = await self._unit_cache(conn)
        await detach(conn, cache, unit_id)
        doomed = subtree_of(cache, unit_id)
        doomed |= {uid for uid, u in cache.items() if u.merged_into in doomed}
        for table in (values, targets, pledged, reports, recognised, units):
            await conn.execute(delete(table).where(table.c.unit_id.in_(doomed)))
        for uid in doomed:
            cache.pop(uid, None)
        if self._adoption is not None:
            self._adoption.adopted -= doomed

    # -- caches ----------------------------------------------------------------------------------

    async def _unit_cache(self, conn: AsyncConnection) -> dict[str, LevelUnit]:
        if self._units is None:
            rows = await conn.execute(
                select(units.c.unit_id, units.c.parent_id, units.c.path, units.c.status, units.c.merged_into)
            )
            self._units = {r.unit_id: LevelUnit(r.parent_id, r.path, r.status, r.merged_into) for r in rows}
        return self._units

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


@dataclass
class _NoContext:
    """What ``apply_batch`` passes down instead of an ApplyContext: no back-fill, folded writes."""

    scope: str
    pending: Pending
