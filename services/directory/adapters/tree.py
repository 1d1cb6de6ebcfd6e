"""The directory's inline tree read model: units, members and roles as they are now.

Updated in the append's own transaction (``InlineProjection``), so handlers validate commands against
exactly what is committed, and the partial unique index on active siblings' codes turns a racing
duplicate registration or move into a failed append. Rebuildable from the events: tables are created
at start-up with ``metadata.create_all``.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory.domain.rules import ACTIVE, MERGED, UnitRef
from shared.db import Database
from shared.events import EventEnvelope
from shared.subjects import ancestors

metadata = MetaData()

units = Table(
    "directory_units",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("parent_id", String(36), nullable=True),
    # parent_id or '' for roots: NULLs never collide in a unique index, roots must.
    Column("parent_key", String(36), nullable=False),
    Column("path", String(400), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("merged_into", String(36), nullable=True),
    Column("version", Integer, nullable=False),
)
# Two active siblings never share a code: a racing duplicate fails inside the append's transaction.
Index(
    "uq_directory_units_active_sibling_code",
    units.c.parent_key,
    units.c.code,
    unique=True,
    sqlite_where=units.c.status == ACTIVE,
    postgresql_where=units.c.status == ACTIVE,
)

members = Table(
    "directory_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),  # the member's unit now
    Column("full_name", String(200), nullable=False),
    Column("gender", String(10), nullable=True),
    Column("birth_year", Integer, nullable=True),
    Column("job_title", String(500), nullable=True),
    Column("email", String(200), nullable=True),
    Column("version", Integer, nullable=False),
)

# Every path each unit has had (its own moves and its ancestors'), so a move can tell the gaining level
# where the unit's history lies.
unit_paths = Table(
    "directory_unit_paths",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("path", String(400), primary_key=True),
)

roles = Table(
    "directory_roles",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("role", String(40), primary_key=True),
)


def _ref(row: Any) -> UnitRef:
    return UnitRef(
        unit_id=row.unit_id,
        code=row.code,
        name=row.name,
        kind=row.kind,
        parent_id=row.parent_id,
        path=row.path,
        status=row.status,
        merged_into=row.merged_into,
        version=row.version,
    )


def _active_subtree(path: str) -> Any:
    return (units.c.status == ACTIVE) & or_(units.c.path == path, units.c.path.like(path + ".%"))


async def _repath(conn: AsyncConnection, old: str, new: str, *, include_root: bool = True) -> None:
    """Rewrite the paths of the active units at ``old`` (and below) to sit at ``new``."""
    where = _active_subtree(old) if include_root else (units.c.status == ACTIVE) & units.c.path.like(old + ".%")
    await conn.execute(
        update(units).where(where).values(path=literal(new).concat(func.substr(units.c.path, len(old) + 1)))
    )
    await _remember_paths(conn, _active_subtree(new))


async def _remember_paths(conn: AsyncConnection, where: Any) -> None:
    current = {(uid, path) for uid, path in await conn.execute(select(units.c.unit_id, units.c.path).where(where))}
    if not current:
        return
    ids = {uid for uid, _ in current}
    known = await conn.execute(select(unit_paths.c.unit_id, unit_paths.c.path).where(unit_paths.c.unit_id.in_(ids)))
    fresh = current - {(uid, path) for uid, path in known}
    if fresh:
        await conn.execute(insert(unit_paths), [{"unit_id": uid, "path": path} for uid, path in sorted(fresh)])


class Tree:
    """The inline projection (``apply``) and the reads handlers and queries need."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_tables(self) -> None:
        async with self.db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)

    # -- projection ------------------------------------------------------------------------------

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        # Enrolments are the bulk of a busy batch: insert a run of them in one statement. Any other
        # event flushes the run first, so a role assigned in the same batch finds its member.
        enrolled: list[dict[str, Any]] = []
        for env in envelopes:
            if env.event_type == "MemberEnrolled":
                enrolled.append({**env.data, "version": env.version})
                continue
            if enrolled:
                await conn.execute(insert(members), enrolled)
                enrolled = []
            handler = getattr(self, f"_on_{env.event_type}", None)
            if handler is not None:
                await handler(conn, env.data, env.version)
        if enrolled:
            await conn.execute(insert(members), enrolled)

    async def _on_UnitRegistered(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await conn.execute(
            insert(units).values(
                unit_id=d["unit_id"],
                code=d["code"],
                name=d["name"],
                kind=d["kind"],
                parent_id=d["parent_id"],
                parent_key=d["parent_id"] or "",
                path=d["path"],
                status=ACTIVE,
                version=version,
            )
        )
        await conn.execute(insert(unit_paths).values(unit_id=d["unit_id"], path=d["path"]))

    async def _on_UnitRenamed(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await conn.execute(update(units).where(units.c.unit_id == d["unit_id"]).values(name=d["name"], version=version))

    async def _on_UnitMovedOut(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await self._set_version(conn, d["unit_id"], version)

    async def _on_UnitMovedIn(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await _repath(conn, d["from_path"], d["to_path"])
        await conn.execute(
            update(units)
            .where(units.c.unit_id == d["unit_id"])
            .values(parent_id=d["new_parent_id"], parent_key=d["new_parent_id"], version=version)
        )

    async def _on_UnitMerged(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await conn.execute(
            update(units)
            .where(units.c.unit_id == d["unit_id"])
            .values(status=MERGED, merged_into=d["into_unit_id"], version=version)
        )

    async def _on_UnitAbsorbed(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        into, gone = d["unit_id"], d["absorbed_unit_id"]
        into_path = await conn.scalar(select(units.c.path).where(units.c.unit_id == into))
        await conn.execute(
            update(units)
            .where(units.c.parent_id == gone, units.c.status == ACTIVE)
            .values(parent_id=into, parent_key=into)
        )
        await _repath(conn, d["absorbed_path"], into_path, include_root=False)
        await conn.execute(update(members).where(members.c.unit_id == gone).values(unit_id=into))
        await self._set_version(conn, into, version)

    async def _on_RoleAssigned(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await conn.execute(insert(roles).values(member_id=d["member_id"], unit_id=d["unit_id"], role=d["role"]))
        await self._set_member_version(conn, d["member_id"], version)

    async def _on_RoleRevoked(self, conn: AsyncConnection, d: dict[str, Any], version: int) -> None:
        await conn.execute(
            delete(roles).where(
                roles.c.member_id == d["member_id"], roles.c.unit_id == d["unit_id"], roles.c.role == d["role"]
            )
        )
        await self._set_member_version(conn, d["member_id"], version)

    @staticmethod
    async def _set_version(conn: AsyncConnection, unit_id: str, version: int) -> None:
        await conn.execute(update(units).where(units.c.unit_id == unit_id).values(version=version))

    @staticmethod
    async def _set_member_version(conn: AsyncConnection, member_id: str, version: int) -> None:
        await conn.execute(update(members).where(members.c.member_id == member_id).values(version=version))

    # -- reads -----------------------------------------------------------------------------------

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self.db.reader.connect() as conn:
            return list(await conn.execute(stmt))

    async def unit(self, unit_id: str) -> UnitRef | None:
        rows = await self._rows(select(units).where(units.c.unit_id == unit_id))
        return _ref(rows[0]) if rows else None

    async def unit_by_path(self, path: str) -> UnitRef | None:
        rows = await self._rows(select(units).where(units.c.path == path, units.c.status == ACTIVE))
        return _ref(rows[0]) if rows else None

    async def ancestors(self, path: str) -> list[UnitRef]:
        """The active units above ``path``, outermost first."""
        async with self.db.reader.connect() as conn:
            return await self._ancestors(conn, path)

    async def locate(self, unit_id: str) -> tuple[UnitRef | None, list[UnitRef]]:
        """The unit and its active ancestors (outermost first), read in one snapshot."""
        async with self.db.reader.connect() as conn:
            row = (await conn.execute(select(units).where(units.c.unit_id == unit_id))).first()
            if row is None:
                return None, []
            return _ref(row), await self._ancestors(conn, row.path)

    @staticmethod
    async def _ancestors(conn: AsyncConnection, path: str) -> list[UnitRef]:
        wanted = ancestors(path)
        if not wanted:
            return []
        rows = await conn.execute(select(units).where(units.c.path.in_(wanted), units.c.status == ACTIVE))
        return sorted((_ref(row) for row in rows), key=lambda ref: len(ref.path))

    async def children(self, parent_id: str | None) -> list[UnitRef]:
        rows = await self._rows(
            select(units)
            .where(units.c.parent_key == (parent_id or ""), units.c.status == ACTIVE)
            .order_by(units.c.code)
        )
        return [_ref(row) for row in rows]

    async def paths_of(self, unit_id: str) -> list[str]:
        rows = await self._rows(select(unit_paths.c.path).where(unit_paths.c.unit_id == unit_id))
        return sorted(path for (path,) in rows)

    async def subtree(self, path: str) -> list[UnitRef]:
        rows = await self._rows(select(units).where(_active_subtree(path)))
        # Sorted here, not in SQL: a PostgreSQL locale collation ignores the dots and interleaves subtrees.
        return sorted((_ref(row) for row in rows), key=lambda ref: ref.path)

    async def member(self, member_id: str) -> dict[str, Any] | None:
        rows = await self._rows(select(members).where(members.c.member_id == member_id))
        if not rows:
            return None
        member = dict(rows[0]._mapping)
        held = await self._roles([member_id], member["unit_id"])
        member["roles"] = held.get(member_id, [])
        return member

    async def members(self, unit_id: str, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        async with self.db.reader.connect() as conn:
            total = await conn.scalar(select(func.count()).where(members.c.unit_id == unit_id)) or 0
            rows = await conn.execute(
                select(members)
                .where(members.c.unit_id == unit_id)
                .order_by(members.c.full_name, members.c.member_id)
                .limit(limit)
                .offset(offset)
            )
            page = [dict(row._mapping) for row in rows]
        held = await self._roles([m["member_id"] for m in page], unit_id)
        for member in page:
            member["roles"] = held.get(member["member_id"], [])
        return total, page

    async def _roles(self, member_ids: list[str], unit_id: str) -> dict[str, list[str]]:
        """Roles the members hold in ``unit_id`` (roles held in a unit since merged have lapsed)."""
        if not member_ids:
            return {}
        rows = await self._rows(
            select(roles.c.member_id, roles.c.role)
            .where(roles.c.member_id.in_(member_ids), roles.c.unit_id == unit_id)
            .order_by(roles.c.role)
        )
        held: dict[str, list[str]] = {}
        for member_id, role in rows:
            held.setdefault(member_id, []).append(role)
        return held
