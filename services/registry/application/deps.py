"""What every registry handler works with (``Deps``, built once in ``entrypoints/main.py``) and the
lookups they share: where a unit sits now, from the service's copy of the directory."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.adapters.records import RegistryRecords
from services.registry.domain.idea import Idea
from services.registry.domain.initiative import Initiative
from shared.db import Database
from shared.directory_copy import DirectoryCopy
from shared.errors import Conflict, NotFound
from shared.eventstore import EventStore
from shared.identity import Caller
from shared.repository import Repository
from shared.units import UnitRef


@dataclass
class Deps:
    store: EventStore
    db: Database
    records: RegistryRecords
    directory: DirectoryCopy
    duplicates: DuplicateIndex
    initiatives: Repository[Initiative]
    ideas: Repository[Idea]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @classmethod
    def build(cls, store: EventStore, records: RegistryRecords, directory: DirectoryCopy) -> "Deps":
        initiatives, ideas = Repository(store, Initiative, "initiative"), Repository(store, Idea, "idea")
        return cls(store, store.db, records, directory, DuplicateIndex(), initiatives, ideas)

    async def unit_at(self, caller: Caller, path: str | None, field: str = "unit_path") -> UnitRef:
        """The unit a caller acts for: their own or one below it (403 outside, 404 if unknown yet)."""
        if path is None or path == caller.unit_path:
            if caller.unit is None:
                raise NotFound("name the unit to act for", field=field)
            return caller.unit
        caller.require_subtree(path, field)
        unit = await self.directory.by_path(path)
        if unit is None:
            raise NotFound(unknown(f"unit {path}"), field=field)
        return unit

    async def chain(self, unit_id: str) -> tuple[UnitRef, list[UnitRef]]:
        """The unit and its chain (ancestors outermost first, then the unit)."""
        home = await self.directory.unit(unit_id)
        if home is None:
            raise Conflict(unknown(f"the unit {unit_id} of this initiative"))
        return home, await self.directory.chain(home)


def unknown(what: str) -> str:
    return (
        f"{what} is not known to the registry yet (its copy of the directory follows the directory); try again shortly"
    )
