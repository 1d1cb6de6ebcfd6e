"""The directory's records: the tree of units, members and roles as they are now.

Updated in the append's own transaction (``shared.records``), so handlers validate commands against
exactly what is committed, and the partial unique index on active siblings' codes turns a racing
duplicate registration or move into a failed append. Who is calling (``caller``) is read from here too:
the directory is the system of record of people and their roles. Who is calling, and where a unit sits
with its ancestors, are kept in memory per generation of the tree and roles (``shared.generation_cache``).
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
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
from shared.generation_cache import MISSING, GenerationCache
from shared.identity import MEMBER, Caller
from shared.projection import Context, on
from shared.records import Records
from shared.subjects import ancestors
from shared.subtree import at_or_below, below
from shared.units import ACTIVE, MERGED, UnitRef

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

# One row: bumped by every event that can change who a caller is or where a unit sits (``GenerationCache``).
generation = Table(
    "directory_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
)
_BUMP = update(generation).where(generation.c.id == 1).values(generation=generation.c.generation + 1)
_GENERATION = select(generation.c.generation).where(generation.c.id == 1)
_INSERT_MEMBERS = insert(members)  # built once, so SQLAlchemy works out its cache key once, not per batch


def _ref(row: Any) -> UnitRef:
    return UnitRef(
        unit_id=row.unit_id,
        name=row.name,
        kind=row.kind,
        parent_id=row.parent_id,
        path=row.path,
        status=row.status,
        merged_into=row.merged_into,
        version=row.version,
    )


def _active_subtree(path: str) -> Any:
    return (units.c.status == ACTIVE) & at_or_below(units.c.path, path)


async def _repath(conn: AsyncConnection, old: str, new: str, *, include_root: bool = True) -> None:
    """Rewrite the paths of the active units at ``old`` (and below) to sit at ``new``."""
    where = _active_subtree(old) if include_root else (units.c.status == ACTIVE) & below(units.c.path, old)
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


async def _set_version(conn: AsyncConnection, unit_id: str, version: int) -> None:
    await conn.execute(update(units).where(units.c.unit_id == unit_id).values(version=version))


async def _set_member_version(conn: AsyncConnection, member_id: str, version: int) -> None:
    await conn.execute(update(members).where(members.c.member_id == member_id).values(version=version))


# Built once: who is calling is read on every request.
_CALLER = (
    select(units, roles.c.role)
    .select_from(members.join(units, units.c.unit_id == members.c.unit_id))
    .outerjoin(roles, (roles.c.member_id == members.c.member_id) & (roles.c.unit_id == members.c.unit_id))
    .where(members.c.member_id == bindparam("subject"))
)


class DirectoryRecords(Records):
    """The records (updated inline) and the reads handlers, queries and callers need."""

    metadata = metadata

    def __init__(self, db: Any, *, operators: Collection[str] = (), recheck_seconds: float = 0.05) -> None:
        """``operators``: the platform's admin subjects (``settings.admin_subjects``, read as it is now),
        callers that may be no member."""
        super().__init__(db)
        # Enrolments are the bulk of a busy batch: a run of them is inserted in one statement. Any other
        # event flushes the run first, so a role assigned in the same batch finds its member.
        self._enrolled: list[dict[str, Any]] = []
        self.operators = operators
        self.cache = GenerationCache(self._generation, recheck_seconds=recheck_seconds)

    async def create_tables(self) -> None:
        await super().create_tables()
        async with self.db.writer.begin() as conn:
            if await conn.scalar(_GENERATION) is None:
                await conn.execute(insert(generation).values(id=1, generation=0))

    async def handle(self, conn: AsyncConnection, event: Any, ctx: Context) -> None:
        if not isinstance(event, MemberEnrolled):
            await self.flush(conn, ctx.level)
        if self._changes_callers_or_places(event):
            self.cache.changing()
            await conn.execute(_BUMP)
        await super().handle(conn, event, ctx)

    def _changes_callers_or_places(self, event: Any) -> bool:
        """A new unit or a new member changes nothing read before, but an operator (cached as no member)
        may become one."""
        if isinstance(event, MemberEnrolled):
            return event.member_id in self.operators
        return not isinstance(event, UnitRegistered)

    async def _generation(self) -> int:
        async with self.db.reader.connect() as conn:
            return int(await conn.scalar(_GENERATION) or 0)

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        if self._enrolled:
            rows, self._enrolled = self._enrolled, []
            await conn.execute(_INSERT_MEMBERS, rows)

    def reset(self) -> None:
        self._enrolled = []

    @on(MemberEnrolled)
    async def enrolled(self, conn: AsyncConnection, event: MemberEnrolled, ctx: Context) -> None:
        self._enrolled.append({**event.model_dump(), "version": ctx.message.envelope.version})

    @on(UnitRegistered)
    async def registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        await conn.execute(
            insert(units).values(
                unit_id=event.unit_id,
                code=event.code,
                name=event.name,
                kind=event.kind,
                parent_id=event.parent_id,
                parent_key=event.parent_id or "",
                path=event.path,
                status=ACTIVE,
                version=ctx.message.envelope.version,
            )
        )
        await conn.execute(insert(unit_paths).values(unit_id=event.unit_id, path=event.path))

    @on(UnitRenamed)
    async def renamed(self, conn: AsyncConnection, event: UnitRenamed, ctx: Context) -> None:
        values = {"name": event.name, "version": ctx.message.envelope.version}
        await conn.execute(update(units).where(units.c.unit_id == event.unit_id).values(**values))

    @on(UnitMovedOut)
    async def moved_out(self, conn: AsyncConnection, event: UnitMovedOut, ctx: Context) -> None:
        await _set_version(conn, event.unit_id, ctx.message.envelope.version)

    @on(UnitMovedIn)
    async def moved_in(self, conn: AsyncConnection, event: UnitMovedIn, ctx: Context) -> None:
        await _repath(conn, event.from_path, event.to_path)
        await conn.execute(
            update(units)
            .where(units.c.unit_id == event.unit_id)
            .values(parent_id=event.new_parent_id, parent_key=event.new_parent_id, version=ctx.message.envelope.version)
        )

    @on(UnitMerged)
    async def merged(self, conn: AsyncConnection, event: UnitMerged, ctx: Context) -> None:
        await conn.execute(
            update(units)
            .where(units.c.unit_id == event.unit_id)
            .values(status=MERGED, merged_into=event.into_unit_id, version=ctx.message.envelope.version)
        )

    @on(UnitAbsorbed)
    async def absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        into, gone = event.unit_id, event.absorbed_unit_id
        into_path = await conn.scalar(select(units.c.path).where(units.c.unit_id == into))
        await conn.execute(
            update(units)
            .where(units.c.parent_key == gone, units.c.status == ACTIVE)  # the sibling-code index
            .values(parent_id=into, parent_key=into)
        )
        await _repath(conn, event.absorbed_path, into_path, include_root=False)
        await conn.execute(update(members).where(members.c.unit_id == gone).values(unit_id=into))
        await _set_version(conn, into, ctx.message.envelope.version)

    @on(RoleAssigned)
    async def assigned(self, conn: AsyncConnection, event: RoleAssigned, ctx: Context) -> None:
        await conn.execute(insert(roles).values(member_id=event.member_id, unit_id=event.unit_id, role=event.role))
        await _set_member_version(conn, event.member_id, ctx.message.envelope.version)

    @on(RoleRevoked)
    async def revoked(self, conn: AsyncConnection, event: RoleRevoked, ctx: Context) -> None:
        await conn.execute(
            delete(roles).where(
                roles.c.member_id == event.member_id, roles.c.unit_id == event.unit_id, roles.c.role == event.role
            )
        )
        await _set_member_version(conn, event.member_id, ctx.message.envelope.version)

    # -- who is calling ----------------------------------------------------------------------------

    async def caller(self, subject: str) -> Caller | None:
        """The person as recorded now: their unit, and the roles they hold in it."""
        seen = await self.cache.current()
        cached = self.cache.get(("caller", subject))
        if cached is not MISSING:
            return cached
        rows = await self._rows(_CALLER, {"subject": subject})
        if not rows:
            if subject in self.operators:  # their enrolment bumps the generation; anyone else's does not
                self.cache.put(("caller", subject), None, seen)
            return None
        held = {row.role for row in rows if row.role is not None}
        found = Caller(subject, _ref(rows[0]), frozenset({MEMBER, *held}))
        self.cache.put(("caller", subject), found, seen)
        return found

    # -- reads -----------------------------------------------------------------------------------

    async def _rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        async with self.db.reader.connect() as conn:
            return list(await conn.execute(stmt, params or {}))

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
        seen = await self.cache.current()
        cached = self.cache.get(("locate", unit_id))
        if cached is not MISSING:
            ref, lineage = cached
            return ref, list(lineage)
        async with self.db.reader.connect() as conn:
            row = (await conn.execute(select(units).where(units.c.unit_id == unit_id))).first()
            if row is None:  # not kept: a unit registered next is no bump
                return None, []
            found = _ref(row), await self._ancestors(conn, row.path)
        self.cache.put(("locate", unit_id), (found[0], tuple(found[1])), seen)
        return found

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
