"""A service's own copy of the directory's unit tree, kept from the directory's events.

Every service but the directory needs to know where a unit sits now (its path, parent, kind, status)
and to follow moves and merges. This is that mechanism, once: a table shape and how each directory event
changes it. A service makes its table with ``unit_table`` (for its service-wide copy, kept by
``shared.service.consumer_task``, or inside a level projection) and applies events with
``apply_unit_event``; lookups stay with the service, in its own domain types.
"""

from typing import Any

from sqlalchemy import Column, MetaData, String, Table, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

UNIT_EVENTS = frozenset({"UnitRegistered", "UnitRenamed", "UnitMovedIn", "UnitMerged", "UnitAbsorbed"})

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
