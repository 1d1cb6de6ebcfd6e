"""Which units belong to a level, and what happens when one joins or leaves. Owned by the runner.

A level's projection follows the directory: it keeps the units of its subtree in ``level_units`` (in
the level's own database, beside the projection's tables) and hands the projection only the events of
units it holds. Which units belong is decided by the rows already held, not by the path alone, because
a unit's history is spread over every path it ever had (its own moves and its ancestors').

- A unit registered under the level (not an ancestor's own registration) joins it.
- A unit arriving from outside (moved in, or the absorbed side of a merge) is *adopted*: its history,
  every message under each path it had (``previous_paths`` / ``absorbed_paths``) before the arrival, is
  replayed in stream order. During that replay only the arriving unit and units registered under it
  are accepted, so a stranger that once used the same path, or a unit the level already holds, is never
  counted twice; a unit that joined the arriving one from elsewhere is adopted in turn (nested).
- A unit leaving (moved out, or merged into a unit of another level) takes its active subtree and the
  units merged into them with it: the projection is told once (``units_left``), then they are dropped.

A projection whose handlers never read ``level_units`` (``Projection.reads_level_units``) has the rows of
units joining in a batch written together: whoever drives the membership calls ``written`` before the
batch commits (the runner does), and the membership writes them before any change of its own to the table.

Membership changes first, then the projection sees the event, so its handlers read the new shape
(a move's event still names the old parent). The result depends only on the ordered stream, so a
fresh rebuild gives the same tables.
"""

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.directory import UnitAbsorbed, UnitMerged, UnitMovedIn, UnitMovedOut, UnitRegistered, UnitRenamed
from shared.events import Event, registry
from shared.projection import Context, Message, Projection
from shared.subjects import in_subtree
from shared.unit_tree import unit_table
from shared.units import ACTIVE, MERGED

log = logging.getLogger(__name__)

metadata = MetaData()
level_units = unit_table("level_units", metadata)  # every level database has one
STRUCTURAL = frozenset(
    cls.event_type for cls in (UnitRegistered, UnitRenamed, UnitMovedOut, UnitMovedIn, UnitMerged, UnitAbsorbed)
)
_COLUMNS = ("unit_id", "code", "name", "kind", "parent_id", "path", "status", "merged_into")
_INSERT = insert(level_units)


@dataclass
class LevelUnit:
    unit_id: str
    code: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    status: str = ACTIVE
    merged_into: str | None = None


class LevelUnits:
    """The level's units in memory (mirroring ``level_units``), with the tree walks projections need."""

    def __init__(self) -> None:
        self.rows: dict[str, LevelUnit] = {}

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.rows

    def __iter__(self) -> Iterator[LevelUnit]:
        return iter(self.rows.values())

    def get(self, unit_id: str | None) -> LevelUnit | None:
        return self.rows.get(unit_id) if unit_id is not None else None

    def ancestors(self, unit_id: str) -> list[str]:
        """The held ancestors of a unit, nearest first (by parent links)."""
        found, unit = [], self.rows.get(unit_id)
        while unit is not None and unit.parent_id is not None and unit.parent_id in self.rows:
            found.append(unit.parent_id)
            unit = self.rows[unit.parent_id]
        return found

    def subtree(self, unit_id: str) -> set[str]:
        """The unit and its active descendants, by parent links (paths may be stale mid-replay)."""
        found, frontier = {unit_id}, {unit_id}
        while frontier:
            frontier = {
                u.unit_id
                for u in self.rows.values()
                if u.parent_id in frontier and u.status == ACTIVE and u.unit_id not in found
            }
            found |= frontier
        return found

    def resolve(self, unit_id: str) -> str | None:
        """The unit an event of ``unit_id`` counts for now: itself, or the unit it was merged into."""
        unit = self.rows.get(unit_id)
        while unit is not None and unit.status != ACTIVE and unit.merged_into is not None:
            unit = self.rows.get(unit.merged_into)
        return unit.unit_id if unit is not None else None


@dataclass
class _Adoption:
    """Units being back-filled: whose own history is replayed, and who has been taken in."""

    replaying: set[str] = field(default_factory=set)  # a unit's moves within its own replay never drop it
    adopted: set[str] = field(default_factory=set)


ReadHistory = Callable[[Sequence[str], int], Awaitable[list[Message]]]


class Membership:
    def __init__(self, level: str, projection: Projection, read_history: ReadHistory) -> None:
        self.level, self.projection, self.read_history = level, projection, read_history
        self.units = LevelUnits()
        self.loaded = False
        self._adoption: _Adoption | None = None
        # Rows of units that joined in this batch, written together (``written``) if the projection's
        # handlers never read ``level_units`` (a city's replay: 13,000 single inserts were 9% of it).
        self._joining: list[dict[str, Any]] = []

    async def load(self, conn: AsyncConnection) -> None:
        if not self.loaded:
            rows = await conn.execute(select(level_units))
            self.units.rows = {row.unit_id: LevelUnit(**{c: getattr(row, c) for c in _COLUMNS}) for row in rows}
            self.loaded = True

    def reset(self) -> None:
        self.loaded, self._adoption = False, None
        self.units.rows = {}
        self._joining = []

    async def written(self, conn: AsyncConnection) -> None:
        """Write the rows of the units that joined and are not written yet (the runner: at a batch's end)."""
        if self._joining:
            rows, self._joining = self._joining, []
            await conn.execute(_INSERT, rows)

    # -- routing -----------------------------------------------------------------------------------

    async def route(self, conn: AsyncConnection, message: Message) -> None:
        """Change the level's units if the event says so, and hand the event on if the level keeps it."""
        event_type = message.event_type
        if event_type in STRUCTURAL:
            event = message.event()
            await self._structural(conn, event, message)
            return
        if not self.projection.handles(event_type):
            return
        cls = registry.get(event_type)
        key = cls.unit_field if cls is not None else None
        if key is not None:
            unit_id = message.data.get(key)
            broadcast_reaches = cls is not None and cls.broadcast and self._adoption is None
            if not broadcast_reaches and not self._present(unit_id):
                return
        await self._deliver(conn, message.event(), message)

    async def _deliver(self, conn: AsyncConnection, event: Event, message: Message) -> None:
        await self.projection.handle(conn, event, Context(self.level, message, self.units))

    def _present(self, unit_id: str | None) -> bool:
        """Does the unit belong to what is being built? (during a back-fill: the adopted units)"""
        if self._adoption is not None:
            return unit_id in self._adoption.adopted
        return unit_id in self.units

    def _stays(self, unit_id: str, destination_id: str) -> bool:
        """Is the unit's new parent (or the unit it merges into) part of the level?"""
        if self._adoption is not None:
            return unit_id in self._adoption.replaying or destination_id in self._adoption.adopted
        return destination_id in self.units

    async def _structural(self, conn: AsyncConnection, event: Event, message: Message) -> None:
        match event:
            case UnitRegistered():
                if event.unit_id in self.units:
                    return  # held already: never counted twice
                if self._adoption is not None:
                    if event.unit_id not in self._adoption.replaying and event.parent_id not in self._adoption.adopted:
                        return
                    self._adoption.adopted.add(event.unit_id)
                elif not in_subtree(event.path, self.level):
                    return  # an ancestor's own registration
                await self._insert(conn, event)
            case UnitRenamed():
                if not self._present(event.unit_id):
                    return
                await self._set(conn, event.unit_id, name=event.name)
            case UnitMovedOut():
                if not self._present(event.unit_id):
                    return
                if not self._stays(event.unit_id, event.new_parent_id):
                    await self._drop(conn, event.unit_id, message)  # it leaves the level with its subtree
                    return
            case UnitMovedIn():
                if not await self._moved_in(conn, event, message):
                    return
            case UnitMerged():
                if not self._present(event.unit_id):
                    return
                if not self._stays(event.unit_id, event.into_unit_id):
                    await self._drop(conn, event.unit_id, message)  # merged into another level's unit
                    return
                await self.projection.flush(conn, self.level)
                await self._set(conn, event.unit_id, status=MERGED, merged_into=event.into_unit_id)
            case UnitAbsorbed():
                if not await self._absorbed(conn, event, message):
                    return
        await self._deliver(conn, event, message)

    async def _moved_in(self, conn: AsyncConnection, event: UnitMovedIn, message: Message) -> bool:
        unit_id, parent_id = event.unit_id, event.new_parent_id
        if not self._present(unit_id):
            if not self._may_arrive(unit_id, parent_id, event.to_path == self.level):
                return False
            await self._adopt(conn, event.previous_paths or (event.from_path,), unit_id, message)
            if unit_id not in self.units:
                log.warning("back-filling %s from %s found no history", unit_id, event.from_path)
                return False
        await self.projection.flush(conn, self.level)
        unit = self.units.rows[unit_id]
        await self._repath(conn, unit_id, unit.path, event.to_path)
        await self._set(conn, unit_id, parent_id=parent_id)
        return True

    def _may_arrive(self, unit_id: str, parent_id: str, is_level: bool) -> bool:
        if unit_id in self.units:
            return False  # held already (outside the current back-fill): never count it twice
        if self._adoption is not None:
            return unit_id in self._adoption.replaying or parent_id in self._adoption.adopted
        # The level's own unit arriving at the level's path has its parent outside the level.
        return is_level or parent_id in self.units

    async def _absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, message: Message) -> bool:
        into_id, gone_id = event.unit_id, event.absorbed_unit_id
        if not self._present(into_id):
            return False
        if not self._present(gone_id) and gone_id not in self.units:
            await self._adopt(conn, event.absorbed_paths or (event.absorbed_path,), gone_id, message)
        gone, into = self.units.get(gone_id), self.units.rows[into_id]
        await self.projection.flush(conn, self.level)
        if gone is not None and self._present(gone_id):
            for child in [u for u in self.units if u.parent_id == gone_id and u.status == ACTIVE]:
                await self._repath(conn, child.unit_id, child.path, into.path + child.path[len(gone.path) :])
                await self._set(conn, child.unit_id, parent_id=into_id)
        return True

    # -- joining and leaving -----------------------------------------------------------------------

    async def _adopt(self, conn: AsyncConnection, paths: Sequence[str], unit_id: str, arrival: Message) -> None:
        """Replay the unit's history: every message under ``paths`` before its arrival, in stream order."""
        outer = self._adoption
        adoption = outer or _Adoption()
        adoption.replaying.add(unit_id)
        self._adoption = adoption
        try:
            for message in await self.read_history(paths, arrival.sequence):
                await self.route(conn, message)
        finally:
            adoption.replaying.discard(unit_id)
            self._adoption = outer

    async def _drop(self, conn: AsyncConnection, unit_id: str, message: Message) -> None:
        """Forget the unit, its active subtree and the units merged into any of them."""
        doomed = self.units.subtree(unit_id)
        frontier = set(doomed)
        while frontier:
            frontier = {u.unit_id for u in self.units if u.merged_into in frontier and u.unit_id not in doomed}
            doomed |= frontier
        await self.projection.flush(conn, self.level)
        await self.projection.units_left(conn, Context(self.level, message, self.units), doomed)
        await self.written(conn)
        await conn.execute(delete(level_units).where(level_units.c.unit_id.in_(doomed)))
        for uid in doomed:
            self.units.rows.pop(uid, None)
        if self._adoption is not None:
            self._adoption.adopted -= doomed

    # -- writes (table and memory together) ----------------------------------------------------------

    async def _insert(self, conn: AsyncConnection, event: UnitRegistered) -> None:
        unit = LevelUnit(event.unit_id, event.code, event.name, event.kind, event.parent_id, event.path)
        self._joining.append(dict(vars(unit)))  # a statement built once: a replay inserts every unit
        self.units.rows[unit.unit_id] = unit
        if self.projection.reads_level_units:
            await self.written(conn)

    async def _set(self, conn: AsyncConnection, unit_id: str, **values: Any) -> None:
        await self.written(conn)
        await conn.execute(update(level_units).where(level_units.c.unit_id == unit_id).values(**values))
        unit = self.units.rows[unit_id]
        for key, value in values.items():
            setattr(unit, key, value)

    async def _repath(self, conn: AsyncConnection, unit_id: str, old: str, new: str) -> None:
        if old == new:
            return
        for uid in self.units.subtree(unit_id):
            await self._set(conn, uid, path=new + self.units.rows[uid].path[len(old) :])
