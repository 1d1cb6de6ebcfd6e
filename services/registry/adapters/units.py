"""The registry's own copy of the directory's unit tree (unit id → path, parent, kind, name, status).

Kept from the directory's events by ``shared.service.consumer_task`` (scope ``*``): eventually
consistent, so a unit the copy does not know yet is reported as such, never guessed. Moves and merges
re-path the unit's subtree. The same table shape and helpers serve the level projections.
"""

from typing import Any

from sqlalchemy import Column, MetaData, String, Table, bindparam, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.domain.rules import UnitInfo
from shared.projections import ApplyContext, ProjectedMessage
from shared.subjects import ancestors

ACTIVE, MERGED = "active", "merged"


def unit_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("unit_id", String(36), primary_key=True),
        Column("code", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("kind", String(40), nullable=False),
        Column("parent_id", String(36), nullable=True, index=True),
        Column("path", String(400), nullable=False, index=True),
        Column("status", String(10), nullable=False),
        Column("merged_into", String(36), nullable=True),
    )


metadata = MetaData()
units = unit_table("registry_units", metadata)


def info(row: Any) -> UnitInfo:
    return UnitInfo(row.unit_id, row.path, row.kind, row.name, row.parent_id)


async def repath(conn: AsyncConnection, table: Table, old: str, new: str) -> None:
    """Re-path a unit and everything under it (paths are prefixes of their descendants')."""
    if old == new:
        return
    under = (table.c.path == old) | table.c.path.like(old + ".%")
    await conn.execute(
        update(table).where(under).values(path=literal(new).concat(func.substr(table.c.path, len(old) + 1)))
    )


async def apply_unit_event(conn: AsyncConnection, table: Table, event_type: str, d: dict[str, Any]) -> None:
    """The tree's changes, for any table made by ``unit_table`` that holds the units concerned."""
    t = table
    if event_type == "UnitRegistered":
        if (await conn.execute(select(t.c.unit_id).where(t.c.unit_id == d["unit_id"]))).first() is None:
            keys = ("unit_id", "code", "name", "kind", "parent_id", "path")
            await conn.execute(t.insert().values(status=ACTIVE, **{k: d[k] for k in keys}))
    elif event_type == "UnitRenamed":
        await conn.execute(update(t).where(t.c.unit_id == d["unit_id"]).values(name=d["name"]))
    elif event_type == "UnitMovedIn":
        row = (await conn.execute(select(t.c.path).where(t.c.unit_id == d["unit_id"]))).first()
        if row is not None:
            await repath(conn, t, row.path, d["to_path"])
            await conn.execute(update(t).where(t.c.unit_id == d["unit_id"]).values(parent_id=d["new_parent_id"]))
    elif event_type == "UnitMerged":
        await conn.execute(
            update(t).where(t.c.unit_id == d["unit_id"]).values(status=MERGED, merged_into=d["into_unit_id"])
        )
    elif event_type == "UnitAbsorbed":
        into = (await conn.execute(select(t.c.path).where(t.c.unit_id == d["unit_id"]))).first()
        if into is None:
            return
        children = select(t.c.unit_id, t.c.path).where(t.c.parent_id == d["absorbed_unit_id"], t.c.status == ACTIVE)
        for child_id, child_path in list(await conn.execute(children)):
            await repath(conn, t, child_path, f"{into.path}.{child_path.rsplit('.', 1)[1]}")
            await conn.execute(update(t).where(t.c.unit_id == child_id).values(parent_id=d["unit_id"]))


class UnitTreeProjection:
    """The service-wide copy of the tree: every directory event, whatever its path."""

    name = "registry_units"
    services = ("directory",)
    metadata = metadata

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext) -> None:
        env = message.envelope
        await apply_unit_event(conn, units, env.event_type, env.data)


# -- lookups ------------------------------------------------------------------------------------------


_BY_PATH = select(units).where(units.c.path == bindparam("path"), units.c.status == ACTIVE)  # built once


async def unit_by_path(conn: AsyncConnection, path: str) -> UnitInfo | None:
    row = (await conn.execute(_BY_PATH, {"path": path})).first()
    return None if row is None else info(row)


async def unit_by_id(conn: AsyncConnection, unit_id: str) -> UnitInfo | None:
    row = (await conn.execute(select(units).where(units.c.unit_id == unit_id))).first()
    return None if row is None else info(row)


async def lineage(conn: AsyncConnection, unit: UnitInfo) -> list[UnitInfo]:
    """The unit's ancestors, outermost first."""
    paths = ancestors(unit.path)
    if not paths:
        return []
    rows = await conn.execute(select(units).where(units.c.path.in_(paths), units.c.status == ACTIVE))
    return sorted((info(row) for row in rows), key=lambda u: len(u.path))
