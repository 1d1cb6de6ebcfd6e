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
from services.pledges.adapters.units import UnitsCopy
from shared.auth import issue_token
from shared.events import Event, EventEnvelope, EventMetadata, new_envelope
from shared.eventstore.schema import events
from shared.projections import ProjectedMessage
from shared.settings import Settings
from shared.subjects import event_subject

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


def bearer(settings: Settings, unit_path: str, *roles: str, sub: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, sub, unit_path, list(roles or ('chair',)))}"}


async def event_count(app: FastAPI) -> int:
    async with app.state.store.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


def directory_envelope(event: Event, path: str) -> EventEnvelope:
    return new_envelope(f"dir-{uuid.uuid4()}", 1, event, EventMetadata(actor="directory", unit_path=path))


def registry_envelope(
    event_type: str, path: str, data: dict[str, Any], at: datetime | None = None, version: int = 1
) -> EventEnvelope:
    """An event of the registry, as the registry service publishes it (contract in the brief)."""
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        schema_version=1,
        stream_id=f"initiative-{data['initiative_id']}",
        version=version,
        occurred_at=at or datetime(2025, 3, 1, tzinfo=UTC),
        data=data,
        metadata=EventMetadata(actor="registry", unit_path=path),
    )


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
        """Apply the directory events to the service's unit copy (what its consumer does from NATS)."""
        copy = UnitsCopy()
        async with app.state.db.writer.begin() as conn:
            for seq, env in enumerate(self.envelopes, 1):
                subject = event_subject("directory", env.event_type, env.metadata.unit_path)
                await copy.apply(conn, ProjectedMessage(subject, seq, env.metadata.unit_path, env))
