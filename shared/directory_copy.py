"""A service's own copy of the directory: units (where each sits now), members and the roles they hold.

Every service but the directory keeps one, fed by the directory's contract events (``contracts.directory``)
through the runner at level ``*`` (``shared.service.consumer_task``). Handlers find units in it and
``caller`` resolves a token's person to their unit and roles now, so a revoked role or a moved unit
takes effect as soon as the directory's event arrives. Eventually consistent: a unit or person not
copied yet is reported as such, never guessed. Rebuildable: the tables are created, not migrated.

A caller found is kept in memory per generation of the copy (``shared.generation_cache``): every event
but a new unit or a new member bumps ``copy_generation`` in the transaction that applies it, so the
replica applying it honours it at the next request and the others within ``recheck_seconds``. The row
also holds an epoch drawn when it is created: a rebuild drops and creates the tables, and a counter
starting again can never pass for the one cached before.
"""

import asyncio
import uuid
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
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
    UnitRegistered,
    UnitRenamed,
)
from shared.db import Database
from shared.generation_cache import MISSING, GenerationCache
from shared.identity import MEMBER, Caller
from shared.projection import Context, Projection, on
from shared.subjects import ancestors
from shared.subtree import at_or_below
from shared.unit_tree import unit_table
from shared.units import ACTIVE, MERGED, UnitRef

metadata = MetaData()
units = unit_table("copy_units", metadata)
members = Table(
    "copy_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),  # the member's unit now
    Column("full_name", String(200), nullable=False),
)
roles = Table(
    "copy_roles",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("role", String(40), primary_key=True),
)

# One row: bumped by every applied event that can change a caller read before (``GenerationCache``).
generation = Table(
    "copy_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch", String(36), nullable=False),
    Column("generation", Integer, nullable=False),
)
_BUMP = update(generation).where(generation.c.id == 1).values(generation=generation.c.generation + 1)
_GENERATION = select(generation.c.epoch, generation.c.generation).where(generation.c.id == 1)

# Built once: the hot path of every request (who is calling) and of most commands (a unit by path).
_CALLER = (
    select(units, roles.c.role)
    .select_from(members.join(units, units.c.unit_id == members.c.unit_id))
    .outerjoin(roles, (roles.c.member_id == members.c.member_id) & (roles.c.unit_id == members.c.unit_id))
    .where(members.c.member_id == bindparam("subject"))
)
_BY_PATH = select(units).where(units.c.path == bindparam("path"), units.c.status == ACTIVE)
_BY_ID = select(units).where(units.c.unit_id == bindparam("unit_id"))
# Who may sign for a unit, in the order a pledge lists them.
OFFICIAL_ORDER = ("chair", "standing_committee", "executive_committee", "emulation_officer")


def unit_ref(row: Any) -> UnitRef:
    return UnitRef(
        unit_id=row.unit_id, path=row.path, kind=row.kind, name=row.name, parent_id=row.parent_id,
        status=row.status, merged_into=row.merged_into,
    )  # fmt: skip


class DirectoryCopy(Projection):
    """The projection (run at level ``*``) and the reads handlers need."""

    services = ("directory",)
    metadata = metadata

    def __init__(
        self, db: Database | None = None, name: str = "directory_copy", *, recheck_seconds: float = 0.05
    ) -> None:
        self.db, self.name = db, name  # type: ignore[misc]
        self.tree_changed = asyncio.Event()  # set once a move or merge is committed (shared.upward waits on it)
        self._tree_changing = False
        self.cache = GenerationCache(self._generation, recheck_seconds=recheck_seconds)

    async def committed(self) -> None:
        if self._tree_changing:
            self._tree_changing = False
            self.tree_changed.set()

    def reset(self) -> None:
        self._tree_changing = False

    async def create_tables(self) -> None:
        async with self._db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)
            if (await conn.execute(_GENERATION)).first() is None:
                await conn.execute(_new_epoch())

    async def _generation(self) -> Hashable:
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(_GENERATION)).first()
        return object() if row is None else tuple(row)  # no row (tables being rebuilt): equal to nothing

    async def _bump(self, conn: AsyncConnection) -> None:
        """Callers read before may be wrong once this transaction commits."""
        self.cache.changing()
        if (await conn.execute(_BUMP)).rowcount == 0:  # the tables were dropped and created again (a rebuild)
            await conn.execute(_new_epoch())

    async def handle(self, conn: AsyncConnection, event: Any, ctx: Context) -> None:
        # A new unit changes no caller read before; a new member neither (``enrolled`` bumps for one it replaces).
        if not isinstance(event, UnitRegistered | MemberEnrolled):
            await self._bump(conn)
        await super().handle(conn, event, ctx)

    @property
    def _db(self) -> Database:
        assert self.db is not None, "a DirectoryCopy without a database only applies events"
        return self.db

    # -- projection --------------------------------------------------------------------------------

    @on(UnitRegistered)
    async def registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        if await conn.scalar(_BY_ID.with_only_columns(units.c.unit_id), {"unit_id": event.unit_id}) is None:
            await conn.execute(
                insert(units).values(
                    unit_id=event.unit_id, code=event.code, name=event.name, kind=event.kind,
                    parent_id=event.parent_id, path=event.path, status=ACTIVE,
                )
            )  # fmt: skip

    @on(UnitRenamed)
    async def renamed(self, conn: AsyncConnection, event: UnitRenamed, ctx: Context) -> None:
        await conn.execute(update(units).where(units.c.unit_id == event.unit_id).values(name=event.name))

    @on(UnitMovedIn)
    async def moved(self, conn: AsyncConnection, event: UnitMovedIn, ctx: Context) -> None:
        self._tree_changing = True
        path = await conn.scalar(select(units.c.path).where(units.c.unit_id == event.unit_id))
        if path is not None:
            await _repath(conn, path, event.to_path)
            await conn.execute(
                update(units).where(units.c.unit_id == event.unit_id).values(parent_id=event.new_parent_id)
            )

    @on(UnitMerged)
    async def merged(self, conn: AsyncConnection, event: UnitMerged, ctx: Context) -> None:
        self._tree_changing = True
        await conn.execute(
            update(units).where(units.c.unit_id == event.unit_id).values(status=MERGED, merged_into=event.into_unit_id)
        )

    @on(UnitAbsorbed)
    async def absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """The absorbing unit takes over the merged unit's active children and its members."""
        self._tree_changing = True  # the children's chains change here, not at UnitMerged (shared.upward)
        into = await conn.scalar(select(units.c.path).where(units.c.unit_id == event.unit_id))
        if into is None:
            return
        children = select(units.c.unit_id, units.c.path).where(
            units.c.parent_id == event.absorbed_unit_id, units.c.status == ACTIVE
        )
        for child_id, child_path in list(await conn.execute(children)):
            await _repath(conn, child_path, f"{into}.{child_path.rsplit('.', 1)[1]}")
            await conn.execute(update(units).where(units.c.unit_id == child_id).values(parent_id=event.unit_id))
        await conn.execute(
            update(members).where(members.c.unit_id == event.absorbed_unit_id).values(unit_id=event.unit_id)
        )

    @on(MemberEnrolled)
    async def enrolled(self, conn: AsyncConnection, event: MemberEnrolled, ctx: Context) -> None:
        if (await conn.execute(delete(members).where(members.c.member_id == event.member_id))).rowcount:
            await self._bump(conn)  # a member copied before, now elsewhere
        await conn.execute(
            insert(members).values(member_id=event.member_id, unit_id=event.unit_id, full_name=event.full_name)
        )

    @on(RoleAssigned)
    async def assigned(self, conn: AsyncConnection, event: RoleAssigned, ctx: Context) -> None:
        await conn.execute(delete(roles).where(*_role(event)))
        await conn.execute(insert(roles).values(member_id=event.member_id, unit_id=event.unit_id, role=event.role))

    @on(RoleRevoked)
    async def revoked(self, conn: AsyncConnection, event: RoleRevoked, ctx: Context) -> None:
        await conn.execute(delete(roles).where(*_role(event)))

    # -- who is calling ----------------------------------------------------------------------------

    async def caller(self, subject: str) -> Caller | None:
        """The person as the directory records them now: their unit, and the roles they hold in it."""
        seen = await self.cache.current()
        cached = self.cache.get(subject)
        if cached is not MISSING:
            return cached
        rows = await self._rows(_CALLER, {"subject": subject})
        if not rows:
            return None  # not kept: their enrolment, when it arrives, bumps nothing
        held = {row.role for row in rows if row.role is not None}
        found = Caller(subject, unit_ref(rows[0]), frozenset({MEMBER, *held}))
        self.cache.put(subject, found, seen)
        return found

    # -- units -------------------------------------------------------------------------------------

    async def unit(self, unit_id: str) -> UnitRef | None:
        rows = await self._rows(_BY_ID, {"unit_id": unit_id})
        return unit_ref(rows[0]) if rows else None

    async def by_path(self, path: str) -> UnitRef | None:
        """The active unit at ``path`` now."""
        rows = await self._rows(_BY_PATH, {"path": path})
        return unit_ref(rows[0]) if rows else None

    async def chain(self, unit: UnitRef) -> list[UnitRef]:
        """The unit's active ancestors, outermost first, then the unit itself."""
        paths = ancestors(unit.path)
        if not paths:
            return [unit]
        rows = await self._rows(select(units).where(units.c.path.in_(paths), units.c.status == ACTIVE))
        return [*sorted((unit_ref(row) for row in rows), key=lambda u: len(u.path)), unit]

    async def children(self, unit_id: str) -> list[UnitRef]:
        rows = await self._rows(select(units).where(units.c.parent_id == unit_id, units.c.status == ACTIVE))
        return sorted((unit_ref(r) for r in rows), key=lambda u: u.path)

    async def paths(self, unit_ids: Sequence[str]) -> dict[str, str]:
        if not unit_ids:
            return {}
        return dict(await self._rows(select(units.c.unit_id, units.c.path).where(units.c.unit_id.in_(unit_ids))))

    # -- members -----------------------------------------------------------------------------------

    async def member(self, member_id: str) -> dict[str, Any] | None:
        """A member, their unit now and the roles they hold in it."""
        rows = await self._rows(select(members).where(members.c.member_id == member_id))
        if not rows:
            return None
        held = await self._rows(
            select(roles.c.role).where(roles.c.member_id == member_id, roles.c.unit_id == rows[0].unit_id)
        )
        return {**rows[0]._mapping, "roles": sorted(r for (r,) in held)}

    async def officials(self, unit_id: str) -> list[str]:
        """Member ids of the unit's officials who may sign for it, chairs first."""
        rows = await self._rows(select(roles.c.member_id, roles.c.role).where(roles.c.unit_id == unit_id))
        ranked = sorted((r for r in rows if r.role in OFFICIAL_ORDER), key=lambda r: OFFICIAL_ORDER.index(r.role))
        return list(dict.fromkeys(r.member_id for r in ranked))

    async def holding(self, role: str, paths: Sequence[str]) -> set[str]:
        """Which of these units' paths have someone holding ``role``."""
        stmt = (
            select(units.c.path)
            .join(roles, roles.c.unit_id == units.c.unit_id)
            .where(units.c.path.in_(paths), roles.c.role == role)
        )
        return {p for (p,) in await self._rows(stmt)}

    async def _rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        async with self._db.reader.connect() as conn:
            return list(await conn.execute(stmt, params or {}))


def _new_epoch() -> Any:
    return insert(generation).values(id=1, epoch=str(uuid.uuid4()), generation=0)


def _role(event: RoleAssigned | RoleRevoked) -> tuple[Any, ...]:
    return (roles.c.member_id == event.member_id, roles.c.unit_id == event.unit_id, roles.c.role == event.role)


async def _repath(conn: AsyncConnection, old: str, new: str) -> None:
    """Re-path a unit and everything under it (paths are prefixes of their descendants')."""
    if old == new:
        return
    under = at_or_below(units.c.path, old)
    await conn.execute(
        update(units).where(under).values(path=literal(new).concat(func.substr(units.c.path, len(old) + 1)))
    )
