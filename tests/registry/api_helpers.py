"""Helpers of the registry API tests: the unit tree fed in-process, tokens, and a client that speaks as
a given official with a fresh Idempotency-Key per command."""

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.copies import register_units
from tests.people import People

CITY = [
    ("hn", "city_federation", "Liên đoàn Lao động Thành phố Hà Nội"),
    ("hn.ntl", "upper_level_union", "Liên đoàn Lao động quận Nam Từ Liêm"),
    ("hn.dd", "upper_level_union", "Liên đoàn Lao động quận Đống Đa"),
    ("hn.ntl.fecon", "grassroots_union", "Công đoàn Công ty Cổ phần Fecon"),
    ("hn.ntl.fecon.thi-cong", "sub_unit", "Tổ công đoàn Khối thi công"),
    ("hn.ntl.ceo", "grassroots_union", "Công đoàn Công ty Cổ phần Tập đoàn CEO"),
    ("hn.dd.handico", "grassroots_union", "Công đoàn Handico"),
]


def unit_id(path: str) -> str:
    return f"u-{path}"


async def seed_units(app: FastAPI, units: list[tuple[str, str, str]]) -> None:
    """Feed UnitRegistered events to the registry's copy of the directory, as its consumer would."""
    await register_units(app.state.directory, units, {path: unit_id(path) for path, _, _ in units})


REGISTRATION: dict[str, Any] = {
    "title": "Ứng dụng mã QR trong quản lý hồ sơ đoàn viên",
    "objective": "Rút ngắn thời gian tra cứu và cập nhật hồ sơ đoàn viên công đoàn",
    "steps": "Khảo sát nhu cầu; xây dựng ứng dụng; tập huấn; áp dụng thử tại khối thi công",
    "scope_of_application": "Toàn công ty, từ quý II năm 2025",
    "expected_effectiveness": "Tiết kiệm 200 giờ công mỗi năm",
    "pillar": "sang_tao",
    "field": "Công tác tổ chức",
    "authors": [{"name": "Nguyễn Văn An", "member_id": "m-an", "share": 70}, {"name": "Trần Thị Bình", "share": 30}],
    "estimated_benefit_vnd": 50000000,
    "first_applied_on": "2025-03-01",
}
SCORE = {"scorer_name": "Lê Văn Cường", "novelty": 8, "feasibility": 9, "effectiveness": 8, "influence": 7,
         "comment": "Có tính mới, khả thi"}  # fmt: skip
DECISION = {"decision_number": "12/QĐ-CĐCS", "decision_date": "2025-06-01"}
APPLICATION = {
    "where": "Khối thi công",
    "since": "2025-04-01",
    "evidence": "Biên bản áp dụng",
    "actual_benefit_vnd": 80000000,
}


class Api:
    """Speaks as a person holding ``roles`` in the unit at ``unit`` (``tests.people``)."""

    def __init__(self, client: httpx.AsyncClient, people: People) -> None:
        self.client, self.people = client, people

    async def headers(self, unit: str, *roles: str, sub: str = "", key: str | None = None) -> dict[str, str]:
        """``sub`` tells apart two people of the same unit and roles."""
        return {**await self.people.headers(unit, *roles, who=sub), "Idempotency-Key": key or str(uuid.uuid4())}

    async def post(self, url: str, body: dict[str, Any], unit: str, *roles: str, **kw: Any) -> httpx.Response:
        return await self.client.post(url, json=body, headers=await self.headers(unit, *roles, **kw))

    async def get(self, url: str, unit: str, *roles: str, **params: Any) -> httpx.Response:
        return await self.client.get(url, params=params, headers=await self.headers(unit, *roles))

    async def ok(self, url: str, body: dict[str, Any], unit: str, *roles: str, **kw: Any) -> dict[str, Any]:
        response = await self.post(url, body, unit, *roles, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()

    # A grassroots initiative walked through its lifecycle, step by step.
    async def register(self, unit: str = "hn.ntl.fecon", **overrides: Any) -> str:
        body = {**REGISTRATION, **overrides}
        return (await self.ok("/initiatives", body, unit, "member"))["initiative_id"]

    async def recognised(self, unit: str = "hn.ntl.fecon") -> str:
        initiative_id = await self.register(unit)
        await self.ok(f"/initiatives/{initiative_id}/scores", SCORE, unit, "executive_committee")
        await self.ok(f"/initiatives/{initiative_id}/recognise", DECISION, unit, "executive_committee")
        return initiative_id

    async def applied(self, unit: str = "hn.ntl.fecon") -> str:
        initiative_id = await self.recognised(unit)
        await self.ok(f"/initiatives/{initiative_id}/applications", APPLICATION, unit, "member")
        return initiative_id
