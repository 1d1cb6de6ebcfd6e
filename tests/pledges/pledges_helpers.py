"""Helpers of the pledges tests: a controllable clock, a small city fed into the service's unit copy
from real directory events, bearer tokens, and envelopes of the registry's events built by hand (the
registry registers those event types itself; tests must not)."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from contracts.registry import Registration
from shared.events import Event, EventEnvelope, EventMetadata, new_envelope, registry
from shared.eventstore.schema import events
from shared.settings import Settings
from tests.copies import feed
from tests.people import bearer as person

START, END = date(2025, 1, 1), date(2025, 12, 31)

CITY = [
    ("hn", "city_federation"),
    ("hn.ntl", "upper_level_union"),
    ("hn.dd", "upper_level_union"),
    ("hn.ntl.fecon", "grassroots_union"),
    ("hn.ntl.ceo", "grassroots_union"),
    ("hn.dd.handico", "grassroots_union"),
]

INDICATORS: list[dict[str, Any]] = [
    {"code": "registered", "name": "Sáng kiến đăng ký", "unit_of_measure": "sáng kiến",
     "method": "counted", "source": "initiatives_registered"},
    {"code": "applied", "name": "Sáng kiến được áp dụng", "unit_of_measure": "sáng kiến",
     "method": "counted", "source": "initiatives_applied"},
    {"code": "recognised", "name": "Sáng kiến được công nhận", "unit_of_measure": "sáng kiến",
     "method": "counted", "source": "initiatives_recognised"},
    {"code": "activities", "name": "Hoạt động đổi mới, sáng tạo", "unit_of_measure": "hoạt động",
     "method": "reported", "evidence_required": "Biên bản hoặc báo cáo kết quả"},
]  # fmt: skip


@dataclass
class Clock:
    now: datetime = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def bearer(settings: Settings, unit_path: str, *roles: str, sub: str = "") -> dict[str, str]:
    """A chair of the unit unless other roles are named; ``sub`` names a member exactly."""
    return person(settings, unit_path, *(roles or ("chair",)), subject=sub)


async def event_count(app: FastAPI) -> int:
    async with app.state.store.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


def directory_envelope(event: Event, path: str) -> EventEnvelope:
    return new_envelope(f"dir-{uuid.uuid4()}", 1, event, EventMetadata(actor="directory", unit_path=path))


# What the registry's events carry besides what a pledges test cares about (their contract: contracts.registry).
_REGISTRATION = Registration(
    title="Sáng kiến", objective="Mục tiêu", steps="Các bước", scope_of_application="Toàn đơn vị",
    expected_effectiveness="Hiệu quả", pillar="sang_tao", field="Công tác tổ chức", authors=(),
    estimated_benefit_vnd=0, first_applied_on=date(2025, 1, 1),
)  # fmt: skip
_FILLED: dict[str, dict[str, Any]] = {
    "InitiativeRegistered": {"campaign_id": None, "registration": _REGISTRATION, "registered_by": "m"},
    "InitiativeRecognised": {
        "scope": "grassroots", "by_unit_id": "u", "by_unit_path": "hn", "decision_number": "1/QĐ",
        "decision_date": date(2025, 3, 1), "decided_by": "m",
    },
    "InitiativeApplied": {
        "where": "Toàn đơn vị", "since": date(2025, 3, 1), "evidence": "Biên bản", "actual_benefit_vnd": 0,
        "reported_by": "m",
    },
    "InitiativeAccepted": {"by_unit_path": "hn", "actual_benefit_vnd": 0, "note": "", "decided_by": "m"},
}  # fmt: skip


def registry_envelope(
    event_type: str, path: str, data: dict[str, Any], at: datetime | None = None, version: int = 1
) -> EventEnvelope:
    """An event of the registry, typed by its contract, as the registry service publishes it."""
    event = registry.get(event_type).model_validate({**_FILLED.get(event_type, {}), **data})  # type: ignore[union-attr]
    envelope = new_envelope(
        f"initiative-{data['initiative_id']}", version, event, EventMetadata(actor="registry", unit_path=path)
    )
    return envelope.model_copy(update={"occurred_at": at or datetime(2025, 3, 1, tzinfo=UTC)})


@dataclass
class City:
    """Unit ids by path and official member ids by path, as fed into the unit copy."""

    ids: dict[str, str] = field(default_factory=dict)
    officials: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    envelopes: list[EventEnvelope] = field(default_factory=list)

    def build(self, tree: list[tuple[str, str]] = CITY) -> "City":
        for path, kind in tree:
            parent, _, code = path.rpartition(".")
            unit_id = self.ids[path] = str(uuid.uuid4())
            self.envelopes.append(
                directory_envelope(
                    UnitRegistered(
                        unit_id=unit_id, code=code, name=f"Công đoàn {code}", kind=kind,  # type: ignore[arg-type]
                        parent_id=self.ids.get(parent), path=path,
                    ),
                    path,
                )
            )  # fmt: skip
            official, member = str(uuid.uuid4()), str(uuid.uuid4())
            self.officials[path], self.members[path] = official, member
            self.envelopes += [
                directory_envelope(
                    MemberEnrolled(member_id=official, unit_id=unit_id, full_name="Nguyễn Thị Lan"), path
                ),
                directory_envelope(RoleAssigned(member_id=official, unit_id=unit_id, role="chair"), path),
                directory_envelope(MemberEnrolled(member_id=member, unit_id=unit_id, full_name="Trần Văn An"), path),
            ]
        return self

    async def feed(self, app: FastAPI) -> None:
        """Apply the directory events to the service's copy of the directory (what its consumer does)."""
        await feed(app.state.directory, [(env.to_event(), env.metadata.unit_path) for env in self.envelopes])
