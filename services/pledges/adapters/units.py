"""The service's own copy of the directory tree: units (path, parent, kind, status), members and the
roles officials hold. Kept from the directory's events by ``shared.service.consumer_task``; handlers
use it to find a unit's path and children, and to check that signatories are the unit's officials.
"""

from typing import Any

from sqlalchemy import Column, MetaData, String, Table, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pledges.domain.rules import UnitRef
from shared.db import Database
from shared.projections import ApplyContext, ProjectedMessage

metadata = MetaData()

units = Table(
    "pledges_units",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("parent_id", String(36), nullable=True, index=True),
    Column("path", String(400), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("merged_into", String(36), nullable=True),
)
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
        match message.envelope.event_type:
            case "UnitRegistered":
                row = {k: d[k] for k in ("unit_id", "name", "kind", "parent_id", "path")}
                await conn.execute(delete(units).where(units.c.unit_id == d["unit_id"]))
                await conn.execute(insert(units).values(**row, status="active"))
            case "UnitRenamed":
                await conn.execute(update(units).where(units.c.unit_id == d["unit_id"]).values(name=d["name"]))
            case "UnitMovedIn":
                await _repath(conn, d["from_path"], d["to_path"])
                await conn.execute(
                    update(units).where(units.c.unit_id == d["unit_id"]).values(parent_id=d["new_parent_id"])
                )
            case "UnitMerged":
                await conn.execute(
                    update(units)
                    .where(units.c.unit_id == d["unit_id"])
                    .values(status="merged", merged_into=d["into_unit_id"])
                )
            case "UnitAbsorbed":
                into, gone = d["unit_id"], d["absorbed_unit_id"]
                into_path = await conn.scalar(select(units.c.path).where(units.c.unit_id == into))
                await conn.execute(
                    update(units).where(units.c.parent_id == gone, units.c.status == "active").values(parent_id=into)
                )
                if into_path is not None:
                    await _repath(conn, d["absorbed_path"], into_path, include_root=False)
                await conn.execute(update(members).where(members.c.unit_id == gone).values(unit_id=into))
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


async def _repath(conn: AsyncConnection, old: str, new: str, *, include_root: bool = True) -> None:
    below = units.c.path.like(old + ".%")
    where = ((units.c.path == old) | below) if include_root else below
    await conn.execute(
        update(units)
        .where(where, units.c.status == "active")
        .values(path=literal(new).concat(func.substr(units.c.path, len(old) + 1)))
    )
