"""The directory's LEVEL projection: what one union level knows of its subtree's units.

Which units belong to the level, and their path, parent and status, is the runner's (``level_units``,
``shared.membership``); this projection adds what the level counts per unit: its members now and how
many events about it the level has seen (the unit's own events and its members').
"""

from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.directory import (
    MemberEnrolled,
    RoleAssigned,
    RoleRevoked,
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
    UnitRenamed,
)
from shared.events import Event
from shared.membership import level_units
from shared.projection import Context, Projection, on
from shared.subtree import at_or_below

metadata = MetaData()
counts = Table(
    "directory_level_counts",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("member_count", Integer, nullable=False),
    Column("events_seen", Integer, nullable=False),
)


class DirectoryLevelProjection(Projection):
    name = "directory_level"
    services = ("directory",)
    metadata = metadata

    @on(UnitRegistered)
    async def registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        await conn.execute(insert(counts).values(unit_id=event.unit_id, member_count=0, events_seen=1))

    @on(UnitRenamed, UnitMovedOut, UnitMovedIn, UnitMerged, RoleAssigned, RoleRevoked)
    async def seen(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await _count(conn, event.unit_id)  # type: ignore[attr-defined]

    @on(MemberEnrolled)
    async def enrolled(self, conn: AsyncConnection, event: MemberEnrolled, ctx: Context) -> None:
        await _count(conn, event.unit_id, members=1)

    @on(UnitAbsorbed)
    async def absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """The absorbing unit takes over the merged unit's members."""
        gone = await conn.scalar(select(counts.c.member_count).where(counts.c.unit_id == event.absorbed_unit_id))
        await _count(conn, event.unit_id, members=gone or 0)
        if gone:
            await conn.execute(update(counts).where(counts.c.unit_id == event.absorbed_unit_id).values(member_count=0))

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        await conn.execute(delete(counts).where(counts.c.unit_id.in_(unit_ids)))


async def _count(conn: AsyncConnection, unit_id: str, *, members: int = 0) -> None:
    await conn.execute(
        update(counts)
        .where(counts.c.unit_id == unit_id)
        .values(events_seen=counts.c.events_seen + 1, member_count=counts.c.member_count + members)
    )


# -- reads for the level's HTTP ---------------------------------------------------------------------


def _joined() -> Any:
    return select(level_units, counts.c.member_count, counts.c.events_seen).join(
        counts, counts.c.unit_id == level_units.c.unit_id
    )


async def read_units(conn: AsyncConnection, under: str | None = None) -> list[dict[str, Any]]:
    """The level's units (active, then those merged into them), ordered by path, with their counters."""
    stmt = _joined()
    if under:
        stmt = stmt.where(at_or_below(level_units.c.path, under))
    rows = [dict(row._mapping) for row in await conn.execute(stmt)]
    return sorted(rows, key=lambda row: (row["status"], row["path"]))  # code-point order, whatever the collation


async def read_unit(conn: AsyncConnection, unit_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(_joined().where(level_units.c.unit_id == unit_id))).first()
    return None if row is None else dict(row._mapping)
