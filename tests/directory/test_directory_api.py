"""The directory's HTTP API against a real SQLite file: commands, queries, every refusal and its effects."""

import asyncio
import unicodedata
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.settings import Settings
from tests.directory.directory_helpers import Driver, bearer, event_count

MANAGER = ("chair",)


@pytest.fixture
async def city(driver: Driver) -> dict[str, str]:
    """hn → ntl (fecon → kt, ceo → vp), dd (handico); members in fecon and ceo."""
    tree = [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.dd", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
        ("hn.ntl.ceo", "grassroots_union"),
        ("hn.dd.handico", "grassroots_union"),
        ("hn.ntl.fecon.kt", "sub_unit"),
        ("hn.ntl.ceo.vp", "sub_unit"),
    ]
    ids = {path: await driver.register(path, kind) for path, kind in tree}
    await driver.enrol("hn.ntl.fecon", "Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Cường")
    await driver.enrol("hn.ntl.ceo", "Phạm Thu Hà", "Hoàng Đức Hải")
    return ids


def auth(settings: Settings, path: str, *roles: str) -> dict[str, str]:
    return bearer(settings, path, *(roles or MANAGER))


async def refused(app: FastAPI, call: Any, status: int) -> dict[str, Any]:
    """Run a request that must be refused with ``status`` and must write no event."""
    before = await event_count(app)
    response = await call
    assert response.status_code == status, response.text
    assert await event_count(app) == before
    return response.json()


# -- register ---------------------------------------------------------------------------------------


async def test_only_admin_registers_a_root(app: FastAPI, client: httpx.AsyncClient, settings: Settings) -> None:
    body = {"code": "hn", "name": "Liên đoàn Lao động Thành phố Hà Nội", "kind": "city_federation"}
    await refused(app, client.post("/units", json=body, headers=auth(settings, "hn")), 403)
    response = await client.post("/units", json=body, headers=auth(settings, "hn", "admin"))
    assert response.status_code == 201
    assert response.json() | {"unit_id": None} == {
        "unit_id": None,
        "code": "hn",
        "name": "Liên đoàn Lao động Thành phố Hà Nội",
        "kind": "city_federation",
        "parent_id": None,
        "path": "hn",
        "status": "active",
        "version": 1,
    }


async def test_register_under_a_parent(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    body = {"code": "jw-marriott", "name": "Công đoàn Khách sạn JW Marriott Hà Nội", "kind": "grassroots_union"}
    response = await client.post("/units", json={**body, "parent_id": city["hn.ntl"]}, headers=auth(settings, "hn.ntl"))
    assert response.status_code == 201
    assert response.json()["path"] == "hn.ntl.jw-marriott"
    unit = (await client.get(f"/units/{response.json()['unit_id']}", headers=auth(settings, "hn.ntl"))).json()
    assert unit["name"] == body["name"] and unit["parent_id"] == city["hn.ntl"]


async def test_unknown_parent_is_404(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any) -> None:
    body = {"code": "x", "name": "X", "kind": "grassroots_union", "parent_id": "00000000-0000-0000-0000-000000000000"}
    error = await refused(app, client.post("/units", json=body, headers=auth(settings, "hn", "admin")), 404)
    assert error["field"] == "parent_id"


async def test_duplicate_code_is_409(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any) -> None:
    body = {"code": "fecon", "name": "Fecon lần hai", "kind": "grassroots_union", "parent_id": city["hn.ntl"]}
    error = await refused(app, client.post("/units", json=body, headers=auth(settings, "hn.ntl")), 409)
    assert error["field"] == "code"


async def test_racing_duplicates_leave_exactly_one(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any
) -> None:
    body = {"code": "ceo-2", "name": "CEO 2", "kind": "grassroots_union", "parent_id": city["hn.ntl"]}
    headers = auth(settings, "hn.ntl")
    responses = await asyncio.gather(*(client.post("/units", json=body, headers=headers) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]


async def test_wrong_kind_is_409(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any) -> None:
    body = {"code": "x", "name": "X", "kind": "sub_unit", "parent_id": city["hn.ntl"]}
    error = await refused(app, client.post("/units", json=body, headers=auth(settings, "hn")), 409)
    assert "grassroots_union" in error["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"code": "Fecon 2"}, "code"), ({"name": "   "}, "name"), ({"kind": "ministry"}, "kind")],
)
async def test_invalid_input_is_422_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any, change: dict[str, str], field: str
) -> None:
    body = {"code": "ok", "name": "Tên hợp lệ", "kind": "grassroots_union", "parent_id": city["hn.ntl"]} | change
    error = await refused(app, client.post("/units", json=body, headers=auth(settings, "hn")), 422)
    assert error["field"] == field and field in error["detail"]


async def test_oversized_body_is_413(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any) -> None:
    body = {"code": "big", "name": "x" * 20_000, "kind": "grassroots_union", "parent_id": city["hn.ntl"]}
    await refused(app, client.post("/units", json=body, headers=auth(settings, "hn")), 413)


async def test_a_token_is_required(app: FastAPI, client: httpx.AsyncClient, city: dict[str, str]) -> None:
    await refused(app, client.post("/units", json={}), 401)
    assert (await client.get(f"/units/{city['hn']}")).status_code == 401


# -- idempotency and text ---------------------------------------------------------------------------


async def test_an_idempotent_retry_returns_the_same_response_and_writes_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    headers = {**auth(settings, "hn.ntl"), "Idempotency-Key": "enrol-1"}
    body = {"full_name": "Đỗ Thị Mai", "gender": "female", "birth_year": 1990}
    url = f"/units/{city['hn.ntl.fecon']}/members"
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == 201
    count = await event_count(app)
    again = await client.post(url, json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await event_count(app) == count
    other = await refused(app, client.post(url, json={"full_name": "Người khác"}, headers=headers), 409)
    assert other["field"] == "Idempotency-Key"


async def test_vietnamese_text_is_stored_nfc(
    client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    name = "Công đoàn Trường Mầm non Trung Văn"
    nfd = unicodedata.normalize("NFD", name)
    assert nfd != name
    body = {"code": "mn-trung-van", "name": nfd, "kind": "grassroots_union", "parent_id": city["hn.ntl"]}
    created = (await client.post("/units", json=body, headers=auth(settings, "hn"))).json()
    read = (await client.get(f"/units/{created['unit_id']}", headers=auth(settings, "hn"))).json()
    assert read["name"] == name
    member = {"full_name": unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung ")}
    await client.post(f"/units/{created['unit_id']}/members", json=member, headers=auth(settings, "hn"))
    page = (await client.get(f"/units/{created['unit_id']}/members", headers=auth(settings, "hn"))).json()
    assert [m["full_name"] for m in page["items"]] == ["Nguyễn Thị Hồng Nhung"]


# -- authority --------------------------------------------------------------------------------------


async def test_dong_da_cannot_read_nam_tu_liem(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    dd = auth(settings, "hn.dd")
    fecon = city["hn.ntl.fecon"]
    for url in [f"/units/{fecon}", f"/units/{fecon}/subtree", f"/units/{fecon}/ancestors",
                f"/units/{fecon}/members", "/units/by-path/hn.ntl.fecon"]:  # fmt: skip
        error = await refused(app, client.get(url, headers=dd), 404)
        assert "not found in your unit's subtree" in error["detail"]
    member_id = (await client.get(f"/units/{fecon}/members", headers=auth(settings, "hn"))).json()["items"][0]
    await refused(app, client.get(f"/members/{member_id['member_id']}", headers=dd), 404)


async def test_dong_da_cannot_change_nam_tu_liem(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    dd = auth(settings, "hn.dd")
    fecon, ntl = city["hn.ntl.fecon"], city["hn.ntl"]
    unit = {"code": "x", "name": "X", "kind": "grassroots_union", "parent_id": ntl}
    members = (await client.get(f"/units/{fecon}/members", headers=auth(settings, "hn"))).json()["items"]
    for call in [
        client.post("/units", json=unit, headers=dd),
        client.post(f"/units/{fecon}/rename", json={"name": "Tên mới"}, headers=dd),
        client.post(f"/units/{fecon}/move", json={"parent_id": city["hn.dd"]}, headers=dd),
        client.post(f"/units/{city['hn.dd.handico']}/move", json={"parent_id": ntl}, headers=dd),
        client.post(f"/units/{city['hn.dd.handico']}/merge", json={"into_unit_id": fecon}, headers=dd),
        client.post(f"/units/{fecon}/members", json={"full_name": "Vũ Văn Long"}, headers=dd),
        client.post(f"/members/{members[0]['member_id']}/roles", json={"role": "chair"}, headers=dd),
    ]:
        await refused(app, call, 403)


async def test_roles_gate_commands(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    fecon = city["hn.ntl.fecon"]
    officer, member = auth(settings, "hn.ntl", "emulation_officer"), auth(settings, "hn.ntl", "member")
    await refused(app, client.post(f"/units/{fecon}/rename", json={"name": "Mới"}, headers=officer), 403)
    await refused(app, client.post(f"/units/{fecon}/members", json={"full_name": "Ngô Văn B"}, headers=member), 403)
    enrolled = await client.post(f"/units/{fecon}/members", json={"full_name": "Ngô Văn B"}, headers=officer)
    assert enrolled.status_code == 201
    role = {"role": "chair"}
    await refused(app, client.post(f"/members/{enrolled.json()['member_id']}/roles", json=role, headers=officer), 403)
    # Reading is open to anyone in the subtree, whatever their role.
    assert (await client.get(f"/units/{fecon}", headers=auth(settings, "hn.ntl.fecon", "member"))).status_code == 200


async def test_commands_on_unknown_units_are_404(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: Any
) -> None:
    ghost = "00000000-0000-0000-0000-000000000001"
    admin = auth(settings, "hn", "admin")
    await refused(app, client.post(f"/units/{ghost}/rename", json={"name": "X"}, headers=admin), 404)
    await refused(app, client.post(f"/units/{ghost}/members", json={"full_name": "X"}, headers=admin), 404)
    await refused(app, client.post(f"/members/{ghost}/roles", json={"role": "chair"}, headers=admin), 404)
    await refused(app, client.get(f"/units/{ghost}", headers=admin), 404)
