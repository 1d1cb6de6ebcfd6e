"""Members and roles over HTTP, pagination and health."""

import httpx
import pytest
from fastapi import FastAPI

from demo.city import demo_people
from shared.settings import Settings
from tests.directory.directory_helpers import Driver, bearer
from tests.directory.test_directory_api import refused


@pytest.fixture
async def fecon(driver: Driver) -> str:
    for path, kind in [("hn", "city_federation"), ("hn.ntl", "upper_level_union"), ("hn.dd", "upper_level_union")]:
        await driver.register(path, kind)
    await driver.register("hn.dd.handico", "grassroots_union")
    return await driver.register("hn.ntl.fecon", "grassroots_union", "Công đoàn Công ty Cổ phần Fecon")


async def test_enrol_returns_the_member_and_reads_back(
    client: httpx.AsyncClient, settings: Settings, fecon: str
) -> None:
    headers = bearer(settings, "hn.ntl", "emulation_officer")
    body = {
        "full_name": "Bùi Thị Thu Trang",
        "gender": "female",
        "birth_year": 1988,
        "job_title": "Kỹ sư địa kỹ thuật",
        "email": "trang.bt@fecon.example.vn",
    }
    response = await client.post(f"/units/{fecon}/members", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created | {"member_id": None} == {
        "member_id": None,
        "unit_id": fecon,
        "path": "hn.ntl.fecon",
        **body,
        "version": 1,
    }
    read = (await client.get(f"/members/{created['member_id']}", headers=headers)).json()
    assert read["full_name"] == "Bùi Thị Thu Trang" and read["roles"] == [] and read["path"] == "hn.ntl.fecon"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"full_name": ""}, "full_name"), ({"full_name": "A", "email": "no-at"}, "email"),
     ({"full_name": "A", "birth_year": 1850}, "birth_year"), ({"full_name": "A", "extra": 1}, "extra")],
)  # fmt: skip
async def test_invalid_member_input_is_422(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, fecon: str, body: dict, field: str
) -> None:
    call = client.post(f"/units/{fecon}/members", json=body, headers=bearer(settings, "hn", "chair"))
    assert (await refused(app, call, 422))["field"] == field


async def test_roles_are_assigned_and_revoked_in_the_members_unit(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, driver: Driver, fecon: str
) -> None:
    (member_id,) = await driver.enrol("hn.ntl.fecon", "Nguyễn Văn Hùng")
    headers = bearer(settings, "hn.ntl.fecon", "chair")
    url = f"/members/{member_id}/roles"
    response = await client.post(url, json={"role": "emulation_officer"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "member_id": member_id,
        "unit_id": fecon,
        "roles": ["emulation_officer"],
        "version": 2,
    }
    second = await client.post(url, json={"role": "executive_committee", "unit_id": fecon}, headers=headers)
    assert second.json()["roles"] == ["emulation_officer", "executive_committee"]
    await refused(app, client.post(url, json={"role": "emulation_officer"}, headers=headers), 409)
    admin = bearer(settings, "hn", "admin")
    handico = (await client.get("/units/by-path/hn.dd.handico", headers=admin)).json()["unit_id"]
    other = await refused(app, client.post(url, json={"role": "chair", "unit_id": handico}, headers=admin), 409)
    assert other["field"] == "unit_id"
    assert (await refused(app, client.post(url, json={"role": "admin"}, headers=headers), 422))["field"] == "role"

    revoked = await client.delete(f"{url}/emulation_officer", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["roles"] == ["executive_committee"]
    await refused(app, client.delete(f"{url}/emulation_officer", headers=headers), 409)
    page = (await client.get(f"/units/{fecon}/members", headers=headers)).json()
    assert page["items"][0]["roles"] == ["executive_committee"]


async def test_after_a_merge_roles_in_the_merged_unit_lapse(
    client: httpx.AsyncClient, settings: Settings, driver: Driver, fecon: str
) -> None:
    await driver.register("hn.ntl.ceo", "grassroots_union")
    (member_id,) = await driver.enrol("hn.ntl.ceo", "Trịnh Văn Quân")
    await driver.assign(member_id, "chair")
    await driver.merge("hn.ntl.ceo", "hn.ntl.fecon")
    headers = bearer(settings, "hn.ntl", "chair")
    member = (await client.get(f"/members/{member_id}", headers=headers)).json()
    assert (member["unit_id"], member["path"], member["roles"]) == (fecon, "hn.ntl.fecon", [])
    again = await client.post(f"/members/{member_id}/roles", json={"role": "chair"}, headers=headers)
    assert again.status_code == 200 and again.json()["unit_id"] == fecon


async def test_members_are_paginated(client: httpx.AsyncClient, settings: Settings, driver: Driver, fecon: str) -> None:
    people = demo_people("pagination", 12)
    await driver.enrol("hn.ntl.fecon", *(p["full_name"] for p in people))
    headers = bearer(settings, "hn.ntl", "member")  # a reader above: a Fecon reader would be a 13th member
    seen = []
    for offset in (0, 5, 10):
        page = (await client.get(f"/units/{fecon}/members?limit=5&offset={offset}", headers=headers)).json()
        assert page["total"] == 12 and (page["limit"], page["offset"]) == (5, offset)
        seen += [m["member_id"] for m in page["items"]]
    assert len(seen) == len(set(seen)) == 12
    bad = await client.get(f"/units/{fecon}/members?limit=0", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "limit"


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"
