"""The directory's LEVEL projection: what one union level (a scope path) knows of its subtree.

For each unit of the subtree it keeps the unit (code, name, kind, parent, path, status), its member
count and how many events about it the level has seen (the unit's own events and its members').

Which units belong to the level is decided by the rows already held, not by the path alone, because
a unit's history is spread over every path it ever had (its own moves and its ancestors'). When a unit
arrives from outside (a move in, or the absorbing side of a merge), the level *adopts* it: it back-fills
every path the event lists for the unit (``previous_paths`` / ``absorbed_paths``) and replays those
messages in stream order. During that replay only the arriving unit and units registered under it are
accepted, so a stranger that once used the same path, or a unit the level already holds, is never
counted twice; a unit that joined the arriving one from elsewhere is adopted in turn (nested).
The result is a function of the ordered stream alone, so a fresh rebuild gives the same tables.
"""

import logging
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory.domain.rules import ACTIVE, MERGED, rebase
from shared.db import Database
from shared.projections import ApplyContext, ProjectedMessage
from shared.subjects import in_subtree

log = logging.getLogger(__name__)

metadata = MetaData()

level_units = Table(
    "directory_level_units",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("parent_id", String(36), nullable=True, index=True),
    Column("path", String(400), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("merged_into", String(36), nullable=True),
    Column("member_count", Integer, nullable=False, default=0),
    Column("events_seen", Integer, nullable=False, default=0),
)
t = level_units


@dataclass
class _Adoption:
    """Units being back-filled: whose own history is being replayed, and who has been taken in."""

    replaying: set[str] = field(default_factory=set)  # a unit's moves within its own replay never drop it
    adopted: set[str] = field(default_factory=set)


class DirectoryLevelProjection:
    name = "directory_level"
    services = ("directory",)
    metadata = metadata

    def __init__(self) -> None:
        self._adoption: _Adoption | None = None

    def read_router(self, db: Database, scope: str) -> APIRouter:
        """Read-only routes the projector serves beside /health (``--port``)."""
        return level_router(db, scope)

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext) -> None:
        env = message.envelope
        handler = getattr(self, f"_on_{env.event_type}", None)
        if handler is not None:
            await handler(conn, message, env.data, ctx)

    # -- unit events -----------------------------------------------------------------------------

    async def _on_UnitRegistered(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if await _row(conn, d["unit_id"]) is not None:
            return
        if self._adoption is not None:
            adoption = self._adoption
            if d["unit_id"] not in adoption.replaying and d["parent_id"] not in adoption.adopted:
                return
            adoption.adopted.add(d["unit_id"])
        elif not in_subtree(msg.path, ctx.scope):
            return  # an ancestor's own event
        await conn.execute(
            insert(t).values(
                unit_id=d["unit_id"],
                code=d["code"],
                name=d["name"],
                kind=d["kind"],
                parent_id=d["parent_id"],
                path=d["path"],
                status=ACTIVE,
                member_count=0,
                events_seen=1,
            )
        )

    async def _on_UnitRenamed(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if await self._present(conn, d["unit_id"]):
            await conn.execute(update(t).where(t.c.unit_id == d["unit_id"]).values(name=d["name"]))
            await _count(conn, d["unit_id"])

    async def _on_UnitMovedOut(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if not await self._present(conn, d["unit_id"]):
            return
        await _count(conn, d["unit_id"])
        if not await self._stays(conn, d["unit_id"], d["new_parent_id"]):
            await self._drop(conn, d["unit_id"])  # it leaves the level with its subtree

    async def _on_UnitMovedIn(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        unit_id, parent_id = d["unit_id"], d["new_parent_id"]
        row = await _row(conn, unit_id) if await self._present(conn, unit_id) else None
        if row is None:
            if not await self._may_arrive(conn, unit_id, parent_id, d["to_path"] == ctx.scope):
                return
            await self._adopt(ctx, d.get("previous_paths") or [d["from_path"]], unit_id)
            row = await _row(conn, unit_id)
            if row is None:
                log.warning("back-filling %s from %s found no history", unit_id, d["from_path"])
                return
        await _repath(conn, unit_id, row.path, d["to_path"])
        await conn.execute(update(t).where(t.c.unit_id == unit_id).values(parent_id=parent_id))
        await _count(conn, unit_id)

    async def _on_UnitMerged(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        unit_id = d["unit_id"]
        if not await self._present(conn, unit_id):
            return
        await _count(conn, unit_id)
        if await self._stays(conn, unit_id, d["into_unit_id"]):
            await conn.execute(
                update(t).where(t.c.unit_id == unit_id).values(status=MERGED, merged_into=d["into_unit_id"])
            )
        else:
            await self._drop(conn, unit_id)  # merged into a unit of another level: history goes with it

    async def _on_UnitAbsorbed(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        into_id, gone_id = d["unit_id"], d["absorbed_unit_id"]
        into = await _row(conn, into_id) if await self._present(conn, into_id) else None
        if into is None:
            return
        gone = await _row(conn, gone_id) if await self._present(conn, gone_id) else None
        if gone is None and await _row(conn, gone_id) is None:
            await self._adopt(ctx, d.get("absorbed_paths") or [d["absorbed_path"]], gone_id)
            gone = await _row(conn, gone_id)
        if gone is not None:
            children = await conn.execute(select(t.c.unit_id, t.c.path).where(*_active_children(gone_id)))
            for child_id, child_path in list(children):
                await _repath(conn, child_id, child_path, rebase(child_path, gone.path, into.path))
            await conn.execute(update(t).where(*_active_children(gone_id)).values(parent_id=into_id))
            await conn.execute(
                update(t).where(t.c.unit_id == into_id).values(member_count=t.c.member_count + gone.member_count)
            )
            await conn.execute(update(t).where(t.c.unit_id == gone_id).values(member_count=0))
        await _count(conn, into_id)

    # -- member events ---------------------------------------------------------------------------

    async def _on_MemberEnrolled(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if await self._present(conn, d["unit_id"]):
            await _count(conn, d["unit_id"], members=1)

    async def _on_RoleAssigned(self, conn: AsyncConnection, msg: Any, d: dict[str, Any], ctx: Any) -> None:
        if await self._present(conn, d["unit_id"]):
            await _count(conn, d["unit_id"])

    _on_RoleRevoked = _on_RoleAssigned

    # -- membership of the level -----------------------------------------------------------------

    async def _present(self, conn: AsyncConnection, unit_id: str) -> bool:
        """Does this event's unit belong to what is being built? (during a back-fill: the adopted)."""
        if self._adoption is not None:
            return unit_id in self._adoption.adopted
        return await _row(conn, unit_id) is not None

    async def _stays(self, conn: AsyncConnection, unit_id: str, destination_id: str) -> bool:
        """Is the unit's new parent (or the unit it merges into) part of the level?"""
        if self._adoption is not None:
            adoption = self._adoption
            return unit_id in adoption.replaying or destination_id in adoption.adopted
        return await _row(conn, destination_id) is not None

    async def _may_arrive(self, conn: AsyncConnection, unit_id: str, parent_id: str, is_scope: bool) -> bool:
        if await _row(conn, unit_id) is not None:
            return False  # already held (outside the current back-fill): never count it twice
        if self._adoption is not None:
            return unit_id in self._adoption.replaying or parent_id in self._adoption.adopted
        # The level's own unit arriving at the scope path has its parent outside the level.
        return is_scope or await _row(conn, parent_id) is not None

    async def _adopt(self, ctx: ApplyContext, paths: list[str], unit_id: str) -> None:
        """Replay the unit's history (every message under ``paths`` before now, in stream order)."""
        outer = self._adoption
        adoption = outer or _Adoption()
        adoption.replaying.add(unit_id)
        self._adoption = adoption
        try:
            await ctx.backfill(*paths)  # one ordered read of every path the unit's history lies under
        finally:
            adoption.replaying.discard(unit_id)
            self._adoption = outer

    async def _drop(self, conn: AsyncConnection, unit_id: str) -> None:
        """Forget the unit, its active subtree and the units merged into any of them."""
        doomed = await _subtree_ids(conn, unit_id)
        frontier = list(doomed)
        while frontier:
            rows = await conn.execute(select(t.c.unit_id).where(t.c.merged_into.in_(frontier)))
            frontier = [uid for (uid,) in rows if uid not in doomed]
            doomed.update(frontier)
        await conn.execute(delete(t).where(t.c.unit_id.in_(doomed)))
        if self._adoption is not None:
            self._adoption.adopted -= doomed


def _active_children(parent_id: str) -> tuple[Any, ...]:
    return (t.c.parent_id == parent_id, t.c.status == ACTIVE)


async def _row(conn: AsyncConnection, unit_id: str) -> Any:
    return (await conn.execute(select(t).where(t.c.unit_id == unit_id))).first()


async def _count(conn: AsyncConnection, unit_id: str, *, members: int = 0) -> None:
    await conn.execute(
        update(t)
        .where(t.c.unit_id == unit_id)
        .values(events_seen=t.c.events_seen + 1, member_count=t.c.member_count + members)
    )


async def _subtree_ids(conn: AsyncConnection, unit_id: str) -> set[str]:
    """The unit and its active descendants, followed by parent links (paths may be stale mid-replay)."""
    found, frontier = {unit_id}, [unit_id]
    while frontier:
        rows = await conn.execute(select(t.c.unit_id).where(t.c.parent_id.in_(frontier), t.c.status == ACTIVE))
        frontier = [uid for (uid,) in rows if uid not in found]
        found.update(frontier)
    return found


async def _repath(conn: AsyncConnection, unit_id: str, old: str, new: str) -> None:
    if old == new:
        return
    ids = await _subtree_ids(conn, unit_id)
    await conn.execute(
        update(t).where(t.c.unit_id.in_(ids)).values(path=literal(new).concat(func.substr(t.c.path, len(old) + 1)))
    )


# -- reads for the level's HTTP ---------------------------------------------------------------------


async def read_units(conn: AsyncConnection, under: str | None = None) -> list[dict[str, Any]]:
    """The level's units (active, then those merged into them), ordered by path, with their counters."""
    stmt = select(t)
    if under:
        stmt = stmt.where((t.c.path == under) | t.c.path.like(under + ".%"))
    rows = [dict(row._mapping) for row in await conn.execute(stmt)]
    return sorted(rows, key=lambda row: (row["status"], row["path"]))  # code-point order, whatever the collation


async def read_unit(conn: AsyncConnection, unit_id: str) -> dict[str, Any] | None:
    row = await _row(conn, unit_id)
    return None if row is None else dict(row._mapping)


def level_router(db: Database, scope: str) -> APIRouter:
    router = APIRouter(prefix="/directory")

    @router.get("/units")
    async def units(under: Annotated[str | None, Query(max_length=400)] = None) -> dict[str, Any]:
        async with db.reader.connect() as conn:
            return {"scope": scope, "units": await read_units(conn, under)}

    @router.get("/units/{unit_id}")
    async def unit(unit_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
        async with db.reader.connect() as conn:
            found = await read_unit(conn, unit_id)
        if found is None:
            # The projector's app is a plain FastAPI without the platform's error mapping.
            raise HTTPException(404, f"unit {unit_id} is not in the level {scope}")
        return found

    return router
