"""Moving and merging units over HTTP: refusals, and what the subtree, ancestors and members show after."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.directory.adapters.records import DirectoryRecords
from services.directory.application import members
from services.directory.application.deps import Deps
from services.directory.domain.commands import EnrolMember
from shared.errors import ConcurrencyError
from shared.eventstore.schema import events
from shared.settings import Settings
from tests.directory.directory_helpers import Driver, bearer, event_count
from tests.directory.test_directory_api import refused


@pytest.fixture
async def city(driver: Driver) -> dict[str, str]:
    """hn → ntl (fecon → kt, vp; ceo → bv), dd (handico); members in fecon, fecon.kt and ceo."""
    tree = [
        ("hn", "city_federation"),
        ("hn.ntl", "upper_level_union"),
        ("hn.dd", "upper_level_union"),
        ("hn.ntl.fecon", "grassroots_union"),
        ("hn.ntl.ceo", "grassroots_union"),
        ("hn.dd.handico", "grassroots_union"),
        ("hn.ntl.fecon.kt", "sub_unit"),
        ("hn.ntl.fecon.vp", "sub_unit"),
        ("hn.ntl.ceo.bv", "sub_unit"),
    ]
    ids = {path: await driver.register(path, kind) for path, kind in tree}
    await driver.enrol("hn.ntl.fecon", "Nguyễn Văn An", "Trần Thị Bình")
    await driver.enrol("hn.ntl.fecon.kt", "Lê Minh Cường")
    await driver.enrol("hn.ntl.ceo", "Phạm Thu Hà", "Hoàng Đức Hải", "Vũ Thị Lan")
    return ids


def city_chair(settings: Settings) -> dict[str, str]:
    return bearer(settings, "hn", "chair")


async def paths(client: httpx.AsyncClient, headers: dict[str, str], unit_id: str) -> list[str]:
    response = await client.get(f"/units/{unit_id}/subtree", headers=headers)
    assert response.status_code == 200, response.text
    return [unit["path"] for unit in response.json()["units"]]


async def stored(app: FastAPI, *types: str) -> list[Any]:
    async with app.state.store.db.reader.connect() as conn:
        rows = await conn.execute(select(events).where(events.c.event_type.in_(types)).order_by(events.c.position))
        return list(rows)


# -- move -----------------------------------------------------------------------------------------


async def test_move_changes_the_paths_of_the_whole_subtree(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    headers = city_chair(settings)
    fecon = city["hn.ntl.fecon"]
    response = await client.post(f"/units/{fecon}/move", json={"parent_id": city["hn.dd"]}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "unit_id": fecon,
        "from_path": "hn.ntl.fecon",
        "to_path": "hn.dd.fecon",
        "parent_id": city["hn.dd"],
        "version": 3,
    }
    assert await paths(client, headers, fecon) == ["hn.dd.fecon", "hn.dd.fecon.kt", "hn.dd.fecon.vp"]
    assert await paths(client, headers, city["hn.ntl"]) == ["hn.ntl", "hn.ntl.ceo", "hn.ntl.ceo.bv"]
    assert "hn.dd.fecon.kt" in await paths(client, headers, city["hn.dd"])
    ancestors = (await client.get(f"/units/{city['hn.ntl.fecon.kt']}/ancestors", headers=headers)).json()
    assert [unit["path"] for unit in ancestors["ancestors"]] == ["hn", "hn.dd", "hn.dd.fecon"]
    members = (await client.get(f"/units/{fecon}/members", headers=headers)).json()
    assert members["total"] == 2  # members travel with their unit

    out, in_ = await stored(app, "UnitMovedOut", "UnitMovedIn")
    assert (out.metadata["unit_path"], in_.metadata["unit_path"]) == ("hn.ntl.fecon", "hn.dd.fecon")
    assert out.stream_id == in_.stream_id == f"unit-{fecon}" and in_.version == out.version + 1

    # The losing level no longer sees it; the gaining level does.
    await refused(app, client.get(f"/units/{fecon}", headers=bearer(settings, "hn.ntl")), 404)
    assert (await client.get(f"/units/{fecon}", headers=bearer(settings, "hn.dd"))).json()["path"] == "hn.dd.fecon"
    # New events of the subtree carry the new path.
    enrolled = await client.post(
        f"/units/{city['hn.ntl.fecon.kt']}/members", json={"full_name": "Đinh Văn Tú"}, headers=headers
    )
    assert enrolled.json()["path"] == "hn.dd.fecon.kt"


async def test_move_refusals(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]) -> None:
    headers = city_chair(settings)
    ntl, fecon = city["hn.ntl"], city["hn.ntl.fecon"]

    def move(unit: str, parent: str) -> Any:
        return client.post(f"/units/{unit}/move", json={"parent_id": parent}, headers=headers)

    assert "cycle" in (await refused(app, move(ntl, fecon), 409))["detail"]
    assert "cycle" in (await refused(app, move(fecon, city["hn.ntl.fecon.kt"]), 409))["detail"]
    assert (await refused(app, move(city["hn.ntl.ceo.bv"], ntl), 409))["field"] == "parent_id"  # wrong kind
    await refused(app, move(fecon, ntl), 409)  # already there
    await refused(app, move(fecon, "00000000-0000-0000-0000-000000000000"), 404)
    # Once vp has moved under ceo, a new fecon.vp cannot follow it there.
    assert (await move(city["hn.ntl.fecon.vp"], city["hn.ntl.ceo"])).status_code == 200
    await client.post(
        "/units",
        json={"code": "vp", "name": "Tổ văn phòng mới", "kind": "sub_unit", "parent_id": fecon},
        headers=headers,
    )
    newest = (await client.get("/units/by-path/hn.ntl.fecon.vp", headers=headers)).json()["unit_id"]
    assert (await refused(app, move(newest, city["hn.ntl.ceo"]), 409))["field"] == "code"
    # Moving needs authority over both ends.
    ntl_chair = bearer(settings, "hn.ntl", "chair")
    call = client.post(f"/units/{fecon}/move", json={"parent_id": city["hn.dd"]}, headers=ntl_chair)
    await refused(app, call, 403)


# -- merge ----------------------------------------------------------------------------------------


async def test_merge_moves_children_and_members_and_keeps_history(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    headers = city_chair(settings)
    ceo, fecon = city["hn.ntl.ceo"], city["hn.ntl.fecon"]
    response = await client.post(f"/units/{ceo}/merge", json={"into_unit_id": fecon}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() | {"version": None, "into_version": None} == {
        "unit_id": ceo,
        "status": "merged",
        "into_unit_id": fecon,
        "into_path": "hn.ntl.fecon",
        "moved_child_ids": [city["hn.ntl.ceo.bv"]],
        "version": None,
        "into_version": None,
    }
    assert await paths(client, headers, fecon) == [
        "hn.ntl.fecon",
        "hn.ntl.fecon.bv",
        "hn.ntl.fecon.kt",
        "hn.ntl.fecon.vp",
    ]
    merged = (await client.get(f"/units/{ceo}", headers=headers)).json()
    assert (merged["status"], merged["merged_into"], merged["path"]) == ("merged", fecon, "hn.ntl.ceo")
    assert await paths(client, headers, ceo) == ["hn.ntl.ceo"]  # a merged unit has no subtree
    assert "hn.ntl.ceo" not in await paths(client, headers, city["hn.ntl"])
    names = [m["full_name"] for m in (await client.get(f"/units/{fecon}/members", headers=headers)).json()["items"]]
    assert sorted(names) == ["Hoàng Đức Hải", "Nguyễn Văn An", "Phạm Thu Hà", "Trần Thị Bình", "Vũ Thị Lan"]
    assert (await client.get(f"/units/{ceo}/members", headers=headers)).json()["total"] == 0

    (gone,), (absorbed,) = await stored(app, "UnitMerged"), await stored(app, "UnitAbsorbed")
    assert gone.metadata["unit_path"] == "hn.ntl.ceo" and absorbed.metadata["unit_path"] == "hn.ntl.fecon"
    assert absorbed.position == gone.position + 1  # one append
    # History is kept: the merged unit's stream is intact, and it no longer takes commands.
    assert len(await app.state.store.load(f"unit-{ceo}")) == 2
    await refused(app, client.post(f"/units/{ceo}/rename", json={"name": "Mới"}, headers=headers), 409)
    body = {"code": "x", "name": "X", "kind": "sub_unit", "parent_id": ceo}
    await refused(app, client.post("/units", json=body, headers=headers), 409)
    # The code is free again among the active siblings.
    body = {"code": "ceo", "name": "Công đoàn CEO mới", "kind": "grassroots_union", "parent_id": city["hn.ntl"]}
    assert (await client.post("/units", json=body, headers=headers)).status_code == 201


async def test_merge_refusals(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: dict[str, str]
) -> None:
    headers = city_chair(settings)

    def merge(unit: str, into: str, who: dict[str, str] = headers) -> Any:
        return client.post(f"/units/{unit}/merge", json={"into_unit_id": into}, headers=who)

    fecon, ceo = city["hn.ntl.fecon"], city["hn.ntl.ceo"]
    assert "same kind" in (await refused(app, merge(fecon, city["hn.dd"]), 409))["detail"]
    await refused(app, merge(fecon, fecon), 409)
    await refused(app, merge(fecon, "00000000-0000-0000-0000-000000000000"), 404)
    await refused(app, merge(city["hn.dd.handico"], fecon, bearer(settings, "hn.ntl", "chair")), 403)
    # Children with the same code block the merge until one is renamed or moved.
    body = {"code": "kt", "name": "Tổ kỹ thuật CEO", "kind": "sub_unit", "parent_id": ceo}
    assert (await client.post("/units", json=body, headers=headers)).status_code == 201
    assert "kt" in (await refused(app, merge(ceo, fecon), 409))["detail"]


# -- races ----------------------------------------------------------------------------------------


class StaleRecords(DirectoryRecords):
    """The records as a command read them just before another command moved an ancestor."""

    def __init__(self, records: DirectoryRecords, snapshot: tuple[Any, list[Any]]) -> None:
        super().__init__(records.db)
        self.snapshot = snapshot

    async def locate(self, unit_id: str) -> tuple[Any, list[Any]]:
        return self.snapshot


async def test_a_command_that_read_a_path_before_an_ancestor_moved_loses_the_race(
    app: FastAPI, driver: Driver, city: dict[str, str]
) -> None:
    kt = city["hn.ntl.fecon.kt"]
    snapshot = await driver.records.locate(kt)  # kt at hn.ntl.fecon.kt
    await driver.move("hn.ntl.fecon", "hn.dd")  # kt's own stream does not change; its path does
    before = await event_count(app)
    stale = Deps.build(driver.deps.store, StaleRecords(driver.records, snapshot))
    with pytest.raises(ConcurrencyError):
        await members.enrol_member(stale, driver.ctx, kt, EnrolMember(full_name="Mai Văn Tới"))
    assert await event_count(app) == before  # nothing was published on the old path
    enrolled = await members.enrol_member(driver.deps, driver.ctx, kt, EnrolMember(full_name="Mai Văn Tới"))
    assert enrolled["path"] == "hn.dd.fecon.kt"
