"""The service's own copy of the directory tree: units (path, parent, kind, status), members and the
roles officials hold. Kept from the directory's events by ``shared.service.consumer_task``; handlers
use it to find a unit's path and children, and to check that signatories are the unit's officials.
"""

from typing import Any

from sqlalchemy import Column, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pledges.domain.rules import UnitRef
from shared.db import Database
from shared.projections import ApplyContext, ProjectedMessage
from shared.unit_tree import UNIT_EVENTS, apply_unit_event, unit_table

metadata = MetaData()

# The unit table and how directory events change it are the shared mechanism (shared/unit_tree.py).
units = unit_table("pledges_units", metadata)
members = Table(
    "pledges_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("full_name", String(200), nullable=False),
)
roles = Table(
    "pledges_roles",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("role", String(40), primary_key=True),
)


class UnitsCopy:
    """The projection (for ``consumer_task``, scope ``*``) and the reads handlers need."""

    name = "pledges_units"
    services = ("directory",)
    metadata = metadata

    def __init__(self, db: Database | None = None) -> None:
        self.db = db

    async def create_tables(self) -> None:
        assert self.db is not None
        async with self.db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)

    # -- projection ------------------------------------------------------------------------------

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext | None = None) -> None:
        d = message.envelope.data
        event_type = message.envelope.event_type
        if event_type in UNIT_EVENTS:
            await apply_unit_event(conn, units, event_type, d)
        match event_type:
            case "UnitAbsorbed":  # the absorbed unit's members now belong to the absorbing unit
                await conn.execute(
                    update(members).where(members.c.unit_id == d["absorbed_unit_id"]).values(unit_id=d["unit_id"])
                )
            case "MemberEnrolled":
                await conn.execute(delete(members).where(members.c.member_id == d["member_id"]))
                await conn.execute(
                    insert(members).values(member_id=d["member_id"], unit_id=d["unit_id"], full_name=d["full_name"])
                )
            case "RoleAssigned":
                await conn.execute(delete(roles).where(*_role(d)))
                await conn.execute(insert(roles).values(member_id=d["member_id"], unit_id=d["unit_id"], role=d["role"]))
            case "RoleRevoked":
                await conn.execute(delete(roles).where(*_role(d)))

    # -- reads -----------------------------------------------------------------------------------

    async def unit(self, unit_id: str) -> UnitRef | None:
        rows = await self._rows(select(units).where(units.c.unit_id == unit_id))
        return _ref(rows[0]) if rows else None

    async def by_path(self, path: str) -> UnitRef | None:
        rows = await self._rows(select(units).where(units.c.path == path, units.c.status == "active"))
        return _ref(rows[0]) if rows else None

    async def children(self, unit_id: str) -> list[UnitRef]:
        rows = await self._rows(select(units).where(units.c.parent_id == unit_id, units.c.status == "active"))
        return sorted((_ref(r) for r in rows), key=lambda u: u.path)

    async def paths(self, unit_ids: list[str]) -> dict[str, str]:
        if not unit_ids:
            return {}
        return dict(await self._rows(select(units.c.unit_id, units.c.path).where(units.c.unit_id.in_(unit_ids))))

    async def member(self, member_id: str) -> dict[str, Any] | None:
        rows = await self._rows(select(members).where(members.c.member_id == member_id))
        if not rows:
            return None
        held = await self._rows(
            select(roles.c.role).where(roles.c.member_id == member_id, roles.c.unit_id == rows[0].unit_id)
        )
        return {**rows[0]._mapping, "roles": sorted(r for (r,) in held)}

    async def officials(self, unit_id: str) -> list[str]:
        """Member ids of the unit's officials (who may sign for it), chairs first."""
        rows = await self._rows(
            select(roles.c.member_id, roles.c.role).where(roles.c.unit_id == unit_id, roles.c.role != "member")
        )
        order = ("chair", "standing_committee", "executive_committee", "emulation_officer")
        ranked = sorted(rows, key=lambda r: order.index(r.role) if r.role in order else len(order))
        return list(dict.fromkeys(r.member_id for r in ranked if r.role in order))

    async def officials_ready(self, paths: list[str]) -> bool:
        """Every unit at these paths has a chair."""
        stmt = (
            select(units.c.path)
            .join(roles, roles.c.unit_id == units.c.unit_id)
            .where(units.c.path.in_(paths), roles.c.role == "chair")
        )
        return len({p for (p,) in await self._rows(stmt)}) == len(set(paths))

    async def _rows(self, stmt: Any) -> list[Any]:
        assert self.db is not None
        async with self.db.reader.connect() as conn:
            return list(await conn.execute(stmt))


def _role(d: dict[str, Any]) -> tuple[Any, ...]:
    return (roles.c.member_id == d["member_id"], roles.c.unit_id == d["unit_id"], roles.c.role == d["role"])


def _ref(row: Any) -> UnitRef:
    return UnitRef(row.unit_id, row.path, row.parent_id, row.kind, row.name, row.status)
