"""A small city for the inspections API tests, fed to the service's copy of the directory and of the
facts as the producers' contract events (the directory, registry and pledges publish those types; the
tests never register them), a controllable clock, and the people tokens name."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from contracts.directory import (
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
)
from contracts.pledges import CampaignLaunched, Commitment, Indicator, PledgeSigned, ProgressReported, TargetAssigned
from contracts.registry import Author, InitiativeApplied, InitiativeRegistered, PossibleDuplicate, Registration
from services.inspections.adapters.level import InspectionsProjection
from shared.events import Event, EventMetadata, new_envelope
from shared.projection import Context, Message
from shared.subjects import event_subject
from tests.copies import copied_person

FOUNDED = datetime(2015, 1, 5, tzinfo=UTC)
CITY = [
    ("hn", "city_federation", None),
    ("hn.ntl", "upper_level_union", "hn"),
    ("hn.dd", "upper_level_union", "hn"),
    ("hn.ntl.fecon", "grassroots_union", "hn.ntl"),
    ("hn.ntl.ceo", "grassroots_union", "hn.ntl"),
    ("hn.dd.handico", "grassroots_union", "hn.dd"),
    ("hn.ntl.fecon.thi-cong", "sub_unit", "hn.ntl.fecon"),
]
CAMPAIGN = "c0000000-0000-4000-8000-000000000018"
INDICATORS = (
    Indicator(
        code="registered",
        name="Sáng kiến đăng ký",
        unit_of_measure="sáng kiến",
        direction="at_least",
        method="counted",
        source="initiatives_registered",
    ),
    Indicator(
        code="activities",
        name="Hoạt động đổi mới",
        unit_of_measure="hoạt động",
        direction="at_least",
        method="reported",
        evidence_required="Biên bản",
    ),
)


@dataclass
class Clock:
    now: datetime = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, day: date) -> None:
        self.now = datetime.combine(day, self.now.timetz())


def registration(title: str, campaign_id: str | None = CAMPAIGN) -> Registration:
    return Registration(
        title=title,
        objective="Nâng cao hiệu quả hoạt động công đoàn",
        steps="Khảo sát; thử nghiệm; áp dụng",
        scope_of_application="Toàn đơn vị",
        expected_effectiveness="Tiết kiệm thời gian",
        pillar="sang_tao",
        field="Công tác tổ chức",
        campaign_id=campaign_id,
        authors=(Author(name="Nguyễn Văn An", share=100),),
        estimated_benefit_vnd=10_000_000,
        first_applied_on=date(2025, 3, 1),
    )


class World:
    """The service's view of the platform: what its consumers would have copied from the stream."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.ids: dict[str, str] = {}
        self.sequence = 0
        self.facts = InspectionsProjection()
        self.own_position = 0  # how far the service's own events were fed to its facts copy

    @property
    def deps(self) -> Any:
        return self.app.state.deps

    async def feed(self, event: Event, path: str, at: datetime | None = None, service: str = "directory") -> None:
        self.sequence += 1
        envelope = new_envelope(f"test-{self.sequence}", 1, event, EventMetadata(actor="test", unit_path=path))
        envelope = envelope.model_copy(update={"occurred_at": at or self.deps.clock()})
        message = Message(event_subject(service, event.event_type, path), self.sequence, path, envelope)
        copy = self.app.state.directory
        async with self.app.state.db.writer.begin() as conn:
            for projection in (copy, self.facts):
                if projection.handles(event.event_type):
                    await projection.handle(conn, event, Context("*", message))
            await self.facts.flush(conn, "*")

    async def sync_own(self) -> None:
        """The service's own stored events, as its consumer of the stream would copy them to its facts."""
        for envelope in await self.app.state.store.read_after(self.own_position, limit=100_000):
            self.own_position = envelope.position or self.own_position
            event = envelope.to_event()
            if not self.facts.handles(event.event_type):
                continue
            self.sequence += 1
            path = envelope.metadata.unit_path
            message = Message(event_subject("inspections", event.event_type, path), self.sequence, path, envelope)
            async with self.app.state.db.writer.begin() as conn:
                await self.facts.handle(conn, event, Context("*", message))
                await self.facts.flush(conn, "*")

    async def city(self, founded: datetime = FOUNDED) -> "World":
        for path, kind, parent in CITY:
            await self.unit(path, kind, parent, founded)
        return self

    async def unit(self, path: str, kind: str, parent: str | None, founded: datetime = FOUNDED) -> str:
        unit_id = self.ids.setdefault(path, str(uuid.uuid5(uuid.NAMESPACE_URL, path)))
        event = UnitRegistered(
            unit_id=unit_id,
            code=path.rsplit(".", 1)[-1],
            name=f"Công đoàn {path}",
            kind=kind,
            parent_id=self.ids[parent] if parent else None,
            path=path,
        )
        await self.feed(event, path, founded)
        return unit_id

    async def person(self, path: str, roles: tuple[str, ...], who: str = "") -> str | None:
        """A member of the unit at ``path`` holding ``roles`` in the service's copy (``tests.people``)."""
        return await copied_person(self.app.state.directory, path, roles, who)

    async def move(self, path: str, to_parent: str) -> str:
        unit_id, new_path = self.ids[path], f"{to_parent}.{path.rsplit('.', 1)[1]}"
        data = {
            "unit_id": unit_id,
            "from_path": path,
            "to_path": new_path,
            "old_parent_id": self.ids[path.rsplit(".", 1)[0]],
            "new_parent_id": self.ids[to_parent],
            "previous_paths": (path,),
        }
        await self.feed(UnitMovedOut(**data), path)
        await self.feed(UnitMovedIn(**data), new_path)
        for old in [p for p in self.ids if p == path or p.startswith(path + ".")]:
            self.ids[new_path + old[len(path) :]] = self.ids.pop(old)
        return new_path

    async def merge(self, path: str, into: str) -> None:
        gone, kept = self.ids[path], self.ids[into]
        await self.feed(UnitMerged(unit_id=gone, into_unit_id=kept, from_path=path, into_path=into), path)
        await self.feed(
            UnitAbsorbed(unit_id=kept, absorbed_unit_id=gone, absorbed_path=path, absorbed_paths=(path,)), into
        )

    # -- facts ---------------------------------------------------------------------------------------------

    async def campaign(self, *, fecon_target: float = 10, activities: float = 2) -> None:
        launched = CampaignLaunched(
            campaign_id=CAMPAIGN,
            launcher_unit_id=self.ids["hn"],
            launcher_path="hn",
            title="Đổi mới, sáng tạo, hiệu quả",
            plan_number="18/KH-LĐLĐ",
            pillars=("đổi mới",),
            starts_on=date(2025, 1, 1),
            ends_on=date(2025, 12, 31),
            report_deadlines=(date(2025, 6, 30),),
            indicators=INDICATORS,
        )
        await self.feed(launched, "hn", datetime(2025, 1, 2, tzinfo=UTC), "pledges")
        for path in ("hn.ntl.fecon", "hn.ntl.ceo"):
            targets = {"registered": fecon_target, "activities": activities}
            await self.feed(
                TargetAssigned(
                    campaign_id=CAMPAIGN, unit_id=self.ids[path], by_unit_id=self.ids["hn.ntl"], targets=targets
                ),
                path,
                datetime(2025, 1, 10, tzinfo=UTC),
                "pledges",
            )
            pledge = PledgeSigned(
                pledge_id=f"pledge-{path}",
                campaign_id=CAMPAIGN,
                unit_id=self.ids[path],
                signed_on=date(2025, 1, 15),
                commitments=(
                    Commitment(indicator="registered", target=fecon_target, deadline=date(2025, 11, 30)),
                    Commitment(indicator="activities", target=activities, deadline=date(2025, 11, 30)),
                ),
                signatories=(),
            )
            await self.feed(pledge, path, datetime(2025, 1, 15, tzinfo=UTC), "pledges")

    async def initiative(
        self,
        path: str,
        number: int,
        *,
        on: date = date(2025, 3, 10),
        applied: date | None = None,
        duplicate_of: tuple[str, str] | None = None,
        campaign: str | None = CAMPAIGN,
    ) -> str:
        initiative_id = f"{path}-{number}"
        dups = (
            ()
            if duplicate_of is None
            else (
                PossibleDuplicate(
                    initiative_id=duplicate_of[0],
                    unit_id=self.ids[duplicate_of[1]],
                    title="Bản gốc",
                    score=0.93,
                    other_unit=True,
                ),
            )
        )
        registered = InitiativeRegistered(
            initiative_id=initiative_id,
            unit_id=self.ids[path],
            campaign_id=campaign,
            registration=registration(f"Sáng kiến {number} của {path}", campaign),
            registered_by="m",
            possible_duplicates=dups,
        )
        await self.feed(registered, path, datetime.combine(on, datetime.min.time(), UTC), "registry")
        if applied is not None:
            done = InitiativeApplied(
                initiative_id=initiative_id,
                unit_id=self.ids[path],
                where="Toàn đơn vị",
                since=applied,
                evidence="Biên bản áp dụng",
                actual_benefit_vnd=1,
                reported_by="m",
            )
            await self.feed(done, path, datetime.combine(applied, datetime.min.time(), UTC), "registry")
        return initiative_id

    async def report(self, path: str, value: float, evidence: tuple[str, ...], on: date = date(2025, 5, 20)) -> None:
        at = datetime.combine(on, datetime.min.time(), UTC)
        event = ProgressReported(
            campaign_id=CAMPAIGN,
            unit_id=self.ids[path],
            indicator="activities",
            value=value,
            delta=value,
            evidence=evidence,
            reported_at=at,
        )
        await self.feed(event, path, at, "pledges")
