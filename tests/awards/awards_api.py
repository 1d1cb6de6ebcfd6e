"""Helpers of the awards API tests: the city fed to the directory copy, facts fed to the facts consumer
in-process (as its runner would), a clock the test moves, and a client speaking as a given official."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from contracts.registry import (
    Author,
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeRecognised,
    InitiativeRegistered,
    Registration,
)
from services.awards.adapters.consumer import AwardFacts
from services.awards.application.reevaluation import reevaluate_dirty
from shared.directory_copy import DirectoryCopy
from shared.events import Event, EventMetadata, new_envelope
from shared.projection import Context, Message
from shared.settings import Settings
from shared.subjects import event_subject
from shared.tokens import issue_token

CITY = [
    ("hn", "city_federation", "Liên đoàn Lao động Thành phố Hà Nội"),
    ("hn.ntl", "upper_level_union", "Liên đoàn Lao động quận Nam Từ Liêm"),
    ("hn.dd", "upper_level_union", "Liên đoàn Lao động quận Đống Đa"),
    ("hn.ntl.fecon", "grassroots_union", "Công đoàn Công ty Cổ phần Fecon"),
    ("hn.ntl.fecon.thi-cong", "sub_unit", "Tổ công đoàn Khối thi công"),
    ("hn.ntl.ceo", "grassroots_union", "Công đoàn Công ty Cổ phần Tập đoàn CEO"),
    ("hn.dd.handico", "grassroots_union", "Công đoàn Handico"),
]
AN, BINH = "m-an", "m-binh"


def unit_id(path: str) -> str:
    return "u-" + path.replace(".", "-")  # ids are file-name safe (evidence is stored per unit id)


class Clock:
    """Today, as the service sees it; tests move it forward (publicity windows are working days)."""

    def __init__(self, today: date = date(2025, 11, 3)) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today

    def advance(self, days: int) -> date:
        self.today += timedelta(days=days)
        return self.today


async def feed(copy: DirectoryCopy, events: list[tuple[Event, str]], service: str = "directory") -> None:
    """Apply contract events (each with the path it is published on) to a projection, as its runner would."""
    async with copy.db.writer.begin() as conn:  # type: ignore[union-attr]
        for sequence, (event, path) in enumerate(events, 1):
            envelope = new_envelope(f"dir-{uuid.uuid4()}", 1, event, EventMetadata(actor=service, unit_path=path))
            message = Message(event_subject(service, event.event_type, path), sequence, path, envelope)
            await copy.handle(conn, event, Context("*", message))


async def seed_units(app: FastAPI, units: list[tuple[str, str, str]]) -> None:
    events: list[tuple[Event, str]] = []
    for path, kind, name in units:
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=unit_id(path), code=path.rsplit(".", 1)[-1], name=name, kind=kind,  # type: ignore[arg-type]
            parent_id=unit_id(parent) if parent else None, path=path,
        )  # fmt: skip
        events.append((registered, path))
    await feed(app.state.directory, events)
    await enrol(app, AN, "hn.ntl.fecon.thi-cong", "Nguyễn Văn An")
    await enrol(app, BINH, "hn.ntl.fecon", "Trần Thị Bình", "chair")


async def enrol(app: FastAPI, member_id: str, path: str, name: str, *roles: str) -> None:
    uid = unit_id(path)
    events: list[tuple[Event, str]] = [(MemberEnrolled(member_id=member_id, unit_id=uid, full_name=name), path)]
    events += [(RoleAssigned(member_id=member_id, unit_id=uid, role=role), path) for role in roles]
    await feed(app.state.directory, events)


async def facts(
    app: FastAPI, *events: tuple[Event, str], service: str = "registry", on: date = date(2025, 6, 1)
) -> int:
    """Feed other services' events to the awards facts consumer, then judge the touched proposals again."""
    projection = AwardFacts()
    async with app.state.db.writer.begin() as conn:
        for sequence, (event, path) in enumerate(events, 1):
            envelope = new_envelope(f"{service}-{uuid.uuid4()}", 1, event, EventMetadata(actor=service, unit_path=path))
            envelope = envelope.model_copy(
                update={"occurred_at": envelope.occurred_at.replace(year=on.year, month=on.month, day=on.day)}
            )
            message = Message(event_subject(service, event.event_type, path), sequence, path, envelope)
            await projection.handle(conn, event, Context("*", message))
    return await reevaluate_dirty(app.state.deps)


def initiative_events(initiative_id: str = "i-qr", scope: str = "city", member_id: str = AN) -> list[tuple[Event, str]]:
    """An initiative of Fecon by ``member_id``: registered, recognised at ``scope``, applied and accepted."""
    path, uid = "hn.ntl.fecon", unit_id("hn.ntl.fecon")
    registration = Registration(
        title="Ứng dụng mã QR trong quản lý đoàn viên",
        objective="Rút ngắn thời gian tra cứu hồ sơ",
        steps="Khảo sát; xây dựng; tập huấn; áp dụng",
        scope_of_application="Toàn công ty",
        expected_effectiveness="Tiết kiệm 200 giờ công mỗi năm",
        pillar="sang_tao",
        field="Công tác tổ chức",
        authors=(Author(name="Nguyễn Văn An", member_id=member_id, share=100),),
        estimated_benefit_vnd=50_000_000,
        first_applied_on=date(2025, 3, 1),
    )
    return [
        (
            InitiativeRegistered(
                initiative_id=initiative_id, unit_id=uid, campaign_id=None, registration=registration, registered_by="m"
            ),
            path,
        ),
        (
            InitiativeRecognised(
                initiative_id=initiative_id,
                unit_id=uid,
                scope=scope,
                by_unit_id=unit_id("hn"),
                by_unit_path="hn",
                decision_number="12/QĐ-LĐLĐ",
                decision_date=date(2025, 4, 2),
                decided_by="btv",
            ),
            path,
        ),
        (
            InitiativeApplied(
                initiative_id=initiative_id,
                unit_id=uid,
                where="Khối thi công",
                since=date(2025, 5, 1),
                evidence="Biên bản",
                actual_benefit_vnd=80_000_000,
                reported_by="m",
            ),
            path,
        ),
        (
            InitiativeAccepted(
                initiative_id=initiative_id,
                unit_id=uid,
                by_unit_path=path,
                actual_benefit_vnd=80_000_000,
                note="Đạt",
                decided_by="bch",
            ),
            path,
        ),
    ]


class Api:
    """Speaks as a person holding ``roles`` in the unit at ``unit``: a test person enrolled there (in the
    service's copy of the directory), named by a signed token."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, app: FastAPI) -> None:
        self.client, self.settings, self.app = client, settings, app
        self.known: set[str] = set()

    async def person(self, unit: str, *roles: str) -> str:
        wanted = sorted(set(roles) - {"member"})
        member_id = f"tp-{unit}-{'+'.join(wanted) or 'member'}"
        if member_id not in self.known:
            copy: DirectoryCopy = self.app.state.directory
            if await copy.by_path(unit) is not None and await copy.member(member_id) is None:
                await enrol(self.app, member_id, unit, "Người Kiểm Thử", *wanted)
            self.known.add(member_id)
        return member_id

    async def headers(self, unit: str, *roles: str, key: str | None = None) -> dict[str, str]:
        subject = "admin" if "admin" in roles else await self.person(unit, *roles)
        token = issue_token(self.settings, subject)
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or str(uuid.uuid4())}

    async def post(self, url: str, body: dict[str, Any] | None, unit: str, *roles: str, **kw: Any) -> httpx.Response:
        return await self.client.post(
            url, json=body if body is not None else {}, headers=await self.headers(unit, *roles, **kw)
        )

    async def get(self, url: str, unit: str, *roles: str, **params: Any) -> httpx.Response:
        return await self.client.get(url, params=params, headers=await self.headers(unit, *roles))

    async def ok(self, url: str, body: dict[str, Any] | None, unit: str, *roles: str, **kw: Any) -> dict[str, Any]:
        response = await self.post(url, body, unit, *roles, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()

    # -- steps of the flow -----------------------------------------------------------------------------

    async def past_award(self, code: str, year: int, member_id: str = AN, unit: str = "hn.ntl.fecon") -> str:
        body = {
            "nominee": {"kind": "individual", "member_id": member_id},
            "award_code": code,
            "year": year,
            "decision_number": f"{year % 100:02d}/QĐ-CT",
            "decided_on": f"{year}-12-20",
            "deciding_body": "Giám đốc Công ty Cổ phần Fecon"
            if code in ("ldtt", "cstd_cs")
            else "Chủ tịch UBND Thành phố",
        }
        return (await self.ok("/past-awards", body, unit, "chair"))["award_id"]

    async def file(self, code: str = "cstd_tinh", unit: str = "hn.ntl.fecon", **overrides: Any) -> dict[str, Any]:
        body = {
            "nominee": {"kind": "individual", "member_id": AN},
            "award_code": code,
            "year": 2025,
            "achievement": {
                "kind": "initiative",
                "ref": "i-qr",
                "summary": "Sáng kiến «Ứng dụng mã QR trong quản lý đoàn viên»",
            },
            "summary": "Tác giả sáng kiến mã QR, tiết kiệm 200 giờ công mỗi năm cho Khối thi công",
            **overrides,
        }
        return await self.ok("/proposals", body, unit, "executive_committee")

    async def publicise(self, ids: list[str], unit: str, *roles: str) -> dict[str, Any]:
        return await self.ok("/publicity", {"proposal_ids": ids}, unit, *roles)

    async def vote(
        self, ids: list[str], unit: str, role: str, held_on: date, number: str = "05/BB-CĐ", total: int = 9
    ) -> dict[str, Any]:
        body = {
            "meeting": {
                "minutes_number": number,
                "held_on": held_on.isoformat(),
                "place": "Hội trường",
                "chair": "Trần Thị Bình",
                "secretary": "Lê Văn Cường",
                "members_total": total,
                "members_present": total,
            },
            "votes": [{"proposal_id": pid, "votes_for": total, "votes_against": 0, "votes_abstain": 0} for pid in ids],
        }
        return await self.ok("/votes", body, unit, role)

    async def escalate(self, ids: list[str], unit: str, role: str, number: str) -> dict[str, Any]:
        return await self.ok("/escalations", {"proposal_ids": ids, "submission_number": number}, unit, role)

    async def walk_level(self, pid: str, unit: str, role: str, clock: Clock, number: str) -> None:
        """Publicise at this level, wait out the window, vote."""
        await self.publicise([pid], unit, role)
        clock.advance(16)
        await self.vote([pid], unit, role, clock.today - timedelta(days=1), number)
