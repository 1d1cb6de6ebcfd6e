"""What every directory handler works with (``Deps``, built once in ``entrypoints/main.py``) and the
lookups they share: where a unit sits now, and guards that hold its ancestors still."""

from collections.abc import Iterable
from dataclasses import dataclass

from services.directory.adapters.records import DirectoryRecords
from services.directory.domain.member import Member
from services.directory.domain.unit import Unit
from shared.errors import ConcurrencyError, NotFound
from shared.eventstore import EventStore, StreamAppend
from shared.repository import Repository
from shared.units import UnitRef


@dataclass
class Deps:
    store: EventStore
    records: DirectoryRecords
    units: Repository[Unit]
    members: Repository[Member]

    @classmethod
    def build(cls, store: EventStore, records: DirectoryRecords) -> "Deps":
        return cls(store, records, Repository(store, Unit, "unit"), Repository(store, Member, "member"))

    async def locate(
        self, unit_id: str, *, field: str | None = None, what: str = "unit"
    ) -> tuple[UnitRef, list[UnitRef]]:
        """The unit (404 if unknown) and its ancestors, outermost first."""
        ref, lineage = await self.records.locate(unit_id)
        if ref is None:
            raise NotFound(f"{what} {unit_id} not found", field=field)
        return ref, lineage

    async def unit(self, ref: UnitRef) -> Unit:
        """The unit's aggregate, at the version the records showed (its location is theirs)."""
        unit = await self.units.get(ref.unit_id)
        _check_same(unit.version, ref.version, ref.path)
        return unit

    async def member(self, member_id: str, records_version: int) -> Member:
        member = await self.members.get(member_id)
        _check_same(member.version, records_version, f"member {member_id}")
        return member

    def location_guards(self, units: Iterable[UnitRef], *, exclude: Iterable[str] = ()) -> list[StreamAppend]:
        """Empty appends that hold each unit's stream at the version we read.

        A unit's path depends on its ancestors' moves and merges; if any of them commits first, these
        guards make this command lose the race (409) instead of writing events with a stale path.
        """
        skip, seen = set(exclude), set()
        guards = []
        for unit in units:
            if unit.unit_id in skip or unit.unit_id in seen:
                continue
            seen.add(unit.unit_id)
            guards.append(StreamAppend(self.units.stream(unit.unit_id), unit.version, []))
        return guards


def _check_same(stream_version: int, records_version: int, what: str) -> None:
    # The stream and the records were read one after the other; a commit in between means the location
    # we hold may be stale, so refuse rather than publish on a wrong path.
    if stream_version != records_version:
        raise ConcurrencyError(f"{what} changed while this command was read; try again")
