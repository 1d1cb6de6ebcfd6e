"""What every pledges handler works with (``Deps``, built once in ``entrypoints/main.py``), the clock,
and the lookups they share: where a unit sits now, from the service's copy of the directory."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.pledges.adapters.records import PledgesRecords
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.pledge import Pledge
from services.pledges.domain.progress import Progress
from services.pledges.domain.registration import Registration
from shared.directory_copy import DirectoryCopy
from shared.errors import NotFound
from shared.eventstore import EventStore
from shared.repository import Repository
from shared.units import UnitRef

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    store: EventStore
    records: PledgesRecords
    directory: DirectoryCopy
    clock: Clock
    campaigns: Repository[Campaign]
    pledges: Repository[Pledge]  # one per campaign and unit: ``<campaign id>-<unit id>``
    registrations: Repository[Registration]  # one per year and member: ``<year>-<member id>``
    progress: Repository[Progress]  # one per campaign and unit: ``<campaign id>-<unit id>``

    @classmethod
    def build(cls, store: EventStore, records: PledgesRecords, directory: DirectoryCopy, clock: Clock) -> "Deps":
        return cls(
            store, records, directory, clock,
            Repository(store, Campaign, "campaign"), Repository(store, Pledge, "pledge"),
            Repository(store, Registration, "registration"), Repository(store, Progress, "progress"),
        )  # fmt: skip

    async def locate(self, unit_id: str, field: str = "unit_id") -> UnitRef:
        unit = await self.directory.unit(unit_id)
        if unit is None:
            raise NotFound(f"unit {unit_id} is not known to the pledges service", field=field)
        return unit
