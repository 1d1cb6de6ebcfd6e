"""The registry's own copy of the directory's unit tree (unit id → path, parent, kind, name, status).

Kept from the directory's events by ``shared.service.consumer_task`` (scope ``*``): eventually
consistent, so a unit the copy does not know yet is reported as such, never guessed. Moves and merges
re-path the unit's subtree. The same table shape and helpers serve the level projections.
"""

from typing import Any

from sqlalchemy import MetaData, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.domain.rules import UnitInfo
from shared.projections import ApplyContext, ProjectedMessage
from shared.subjects import ancestors
from shared.unit_tree import ACTIVE, apply_unit_event, unit_table

metadata = MetaData()
units = unit_table("registry_units", metadata)


def info(row: Any) -> UnitInfo:
    return UnitInfo(row.unit_id, row.path, row.kind, row.name, row.parent_id)


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
