"""The pledges HTTP API against a real SQLite file: commands, lists, and every refusal (with no event
written), Idempotency-Key replays and subtree auth."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.settings import Settings
from tests.pledges.pledges_helpers import END, INDICATORS, START, City, Clock, bearer, event_count


async def refused(app: FastAPI, call: Any, status: int, says: str = "") -> dict[str, Any]:
    before = await event_count(app)
    response = await call
    assert response.status_code == status, response.text
    assert await event_count(app) == before
    assert says in response.json()["detail"], response.json()
    return response.json()


def launch_body(city: City, **change: Any) -> dict[str, Any]:
    body = {
        "unit_id": city.ids["hn"],
        "title": "Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn",
        "plan_number": "18/KH-LĐLĐ",
        "pillars": ["Đổi mới", "Sáng tạo", "Hiệu quả"],
        "starts_on": START.isoformat(),
        "ends_on": END.isoformat(),
        "report_deadlines": ["2025-06-30", "2025-12-31"],
        "indicators": INDICATORS,
        "targets": {city.ids["hn.ntl"]: {"registered": 1789, "applied": 100, "activities": 2},
                    city.ids["hn.dd"]: {"registered": 500, "applied": 50, "activities": 1}},
    }  # fmt: skip
    return body | change


@pytest.fixture
async def campaign(client: httpx.AsyncClient, settings: Settings, city: City) -> dict[str, Any]:
    response = await client.post("/campaigns", json=launch_body(city), headers=bearer(settings, "hn"))
    assert response.status_code == 201, response.text
    return response.json()


# -- campaigns ----------------------------------------------------------------------------------------


async def test_launch_and_read_a_campaign(
    client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any]
) -> None:
    assert campaign["launcher_path"] == "hn" and campaign["version"] == 3
    assert campaign["targets"][city.ids["hn.ntl"]]["registered"] == 1789
    read = (await client.get(f"/campaigns/{campaign['campaign_id']}", headers=bearer(settings, "hn.ntl"))).json()
    assert read["plan_number"] == "18/KH-LĐLĐ" and not read["overdue"]
    assert [t["path"] for t in read["targets"]] == ["hn.ntl"]  # Nam Từ Liêm does not see Đống Đa's target
    listed = (await client.get("/campaigns", headers=bearer(settings, "hn.ntl.fecon"))).json()
    assert listed["total"] == 1 and listed["items"][0]["campaign_id"] == campaign["campaign_id"]


async def test_an_unmeasurable_indicator_is_refused_saying_what_is_missing(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    broken = [{**INDICATORS[0], "unit_of_measure": None, "method": None}]
    body = await refused(
        app,
        client.post(
            "/campaigns", json=launch_body(city, indicators=broken, targets={}), headers=bearer(settings, "hn")
        ),
        422,
    )
    assert "no a unit of measure" in body["detail"] and "no a method" in body["detail"]
    assert body["field"] == "indicators.0"


@pytest.mark.parametrize(
    ("who", "roles", "status"),
    [("hn", ("member",), 403), ("hn.ntl", ("chair",), 403), ("hn", ("emulation_officer",), 403)],
)
async def test_only_the_units_leaders_launch(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    city: City,
    who: str,
    roles: tuple[str, ...],
    status: int,
) -> None:
    await refused(app, client.post("/campaigns", json=launch_body(city), headers=bearer(settings, who, *roles)), status)


async def test_launch_refusals(app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City) -> None:
    h = bearer(settings, "hn")
    await refused(
        app,
        client.post("/campaigns", json=launch_body(city, unit_id="00000000-0000-0000-0000-000000000000"), headers=h),
        404,
    )
    await refused(
        app, client.post("/campaigns", json=launch_body(city, ends_on="2024-01-01"), headers=h), 422, "ends after"
    )
    fecon_target = {city.ids["hn.ntl.fecon"]: {"registered": 1}}
    await refused(
        app, client.post("/campaigns", json=launch_body(city, targets=fecon_target), headers=h), 422, "direct child"
    )
    await refused(app, client.post("/campaigns", json=launch_body(city), headers={}), 401)


async def test_a_split_must_cover_the_parents_target(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any]
) -> None:
    url = f"/campaigns/{campaign['campaign_id']}/targets"
    short = {"unit_id": city.ids["hn.ntl"], "targets": {
        city.ids["hn.ntl.fecon"]: {"registered": 1000, "applied": 60, "activities": 1},
        city.ids["hn.ntl.ceo"]: {"registered": 700, "applied": 40, "activities": 1}}}  # fmt: skip
    body = await refused(
        app,
        client.post(url, json=short, headers=bearer(settings, "hn.ntl")),
        409,
        "89 short of hn.ntl's target of 1,789",
    )
    assert body["field"] == "targets"
    await refused(app, client.post(url, json=short, headers=bearer(settings, "hn.dd")), 403)  # not Đống Đa's to split
    covering = {
        **short,
        "targets": {**short["targets"], city.ids["hn.ntl.ceo"]: {"registered": 789, "applied": 40, "activities": 1}},
    }
    response = await client.post(url, json=covering, headers=bearer(settings, "hn.ntl"))
    assert response.status_code == 200, response.text
    assert response.json()["targets"][city.ids["hn.ntl.ceo"]]["registered"] == 789


async def test_close_with_a_review_and_overdue(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any], clock: Clock
) -> None:
    cid = campaign["campaign_id"]
    clock.advance(days=400)
    read = (await client.get(f"/campaigns/{cid}", headers=bearer(settings, "hn"))).json()
    assert read["overdue"]
    url = f"/campaigns/{cid}/close"
    review = {
        "results": "2.107 sáng kiến, đạt 117,78%",
        "lessons": "Chỉ tiêu phải đo được",
        "commended": [city.ids["hn.ntl.fecon"]],
    }
    await refused(app, client.post(url, json=review, headers=bearer(settings, "hn.ntl")), 403)
    await refused(
        app,
        client.post(url, json={**review, "commended": [city.ids["hn"]] * 0 + ["nope"]}, headers=bearer(settings, "hn")),
        422,
    )
    headers = {**bearer(settings, "hn"), "Idempotency-Key": "close-1"}
    first = await client.post(url, json=review, headers=headers)
    assert first.status_code == 200 and first.json()["status"] == "closed"
    again = await client.post(url, json=review, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    await refused(app, client.post(url, json=review, headers=bearer(settings, "hn")), 409, "closed")
    read = (await client.get(f"/campaigns/{cid}", headers=bearer(settings, "hn"))).json()
    assert read["status"] == "closed" and not read["overdue"] and read["review"]["lessons"] == "Chỉ tiêu phải đo được"


async def test_a_campaign_outside_the_callers_reach_is_404(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    body = launch_body(city, unit_id=city.ids["hn.dd"], targets={})
    launched = (await client.post("/campaigns", json=body, headers=bearer(settings, "hn.dd"))).json()
    assert (
        await client.get(f"/campaigns/{launched['campaign_id']}", headers=bearer(settings, "hn.ntl"))
    ).status_code == 404
    assert (
        await client.get(f"/campaigns/{launched['campaign_id']}", headers=bearer(settings, "hn"))
    ).status_code == 200


# -- pledges ------------------------------------------------------------------------------------------


def pledge_body(city: City, campaign: dict[str, Any], path: str = "hn.ntl", **change: Any) -> dict[str, Any]:
    return {
        "campaign_id": campaign["campaign_id"],
        "unit_id": city.ids[path],
        "commitments": [{"indicator": "registered", "target": 1800, "deadline": "2025-11-30"}],
        "signatories": [city.officials[path]],
    } | change


async def test_sign_list_amend_and_read_history(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any]
) -> None:
    h = bearer(settings, "hn.ntl")
    signed = await client.post("/pledges", json=pledge_body(city, campaign), headers=h)
    assert signed.status_code == 201, signed.text
    assert signed.json()["signatories"][0] == {
        "member_id": city.officials["hn.ntl"],
        "full_name": "Nguyễn Thị Lan",
        "role": "chair",
    }
    cid, uid = campaign["campaign_id"], city.ids["hn.ntl"]
    amend = {"reason": "Bổ sung chỉ tiêu áp dụng", "commitments": [
        {"indicator": "registered", "target": 1900, "deadline": "2025-11-30"},
        {"indicator": "applied", "target": 120, "deadline": "2025-12-15"}]}  # fmt: skip
    amended = await client.post(f"/campaigns/{cid}/pledges/{uid}/amend", json=amend, headers=h)
    assert amended.status_code == 200 and amended.json()["amendment"] == 2
    history = (await client.get(f"/campaigns/{cid}/pledges/{uid}", headers=bearer(settings, "hn"))).json()
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert history["versions"][1]["reason"] == "Bổ sung chỉ tiêu áp dụng"
    listed = (await client.get(f"/campaigns/{cid}/pledges?limit=1", headers=bearer(settings, "hn"))).json()
    assert listed["total"] == 1 and listed["items"][0]["amendment"] == 2 and listed["items"][0]["path"] == "hn.ntl"
    assert (await client.get(f"/campaigns/{cid}/pledges", headers=bearer(settings, "hn.dd"))).json()["total"] == 0


async def test_pledge_refusals(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any]
) -> None:
    h = bearer(settings, "hn.ntl")
    body = pledge_body(city, campaign)
    await refused(
        app, client.post("/pledges", json=body, headers=bearer(settings, "hn")), 403, "only officials of hn.ntl"
    )
    await refused(app, client.post("/pledges", json=body, headers=bearer(settings, "hn.ntl", "member")), 403)
    low = body | {"commitments": [{"indicator": "registered", "target": 100, "deadline": "2025-11-30"}]}
    await refused(app, client.post("/pledges", json=low, headers=h), 409, "falls short of the target 1,789")
    stranger = body | {"signatories": [city.members["hn.ntl"]]}
    await refused(app, client.post("/pledges", json=stranger, headers=h), 422, "not an official")
    late = body | {"commitments": [{"indicator": "registered", "target": 1800, "deadline": "2026-02-01"}]}
    await refused(app, client.post("/pledges", json=late, headers=h), 422, "outside the campaign")
    await refused(
        app,
        client.post("/pledges", json=body | {"campaign_id": "00000000-0000-0000-0000-000000000000"}, headers=h),
        404,
    )
    assert (await client.post("/pledges", json=body, headers=h)).status_code == 201
    await refused(app, client.post("/pledges", json=body, headers=h), 409, "already signed")
    url = f"/campaigns/{campaign['campaign_id']}/pledges/{city.ids['hn.ntl']}/amend"
    await refused(
        app, client.post(url, json={"reason": " ", "commitments": body["commitments"]}, headers=h), 422, "reason"
    )
    await refused(
        app, client.post(url, json={"reason": "x", "commitments": body["commitments"]}, headers=h), 409, "changes no"
    )


# -- registrations ------------------------------------------------------------------------------------


async def test_a_member_registers_and_an_official_lists(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    member = city.members["hn.ntl.fecon"]
    body = {"member_id": member, "year": 2025, "target_titles": ["lao_dong_tien_tien", "chien_si_thi_dua_co_so"],
            "topics": [{"title": "Số hóa sổ đoàn viên", "kind": "initiative"}]}  # fmt: skip
    own = bearer(settings, "hn.ntl.fecon", "member", sub=member)
    response = await client.post("/registrations", json=body, headers=own)
    assert response.status_code == 201, response.text
    await refused(app, client.post("/registrations", json=body, headers=own), 409, "already registered")
    other = {**body, "member_id": city.members["hn.ntl.ceo"]}
    await refused(app, client.post("/registrations", json=other, headers=own), 403)
    await refused(
        app,
        client.post("/registrations", json={**other, "target_titles": ["x"]}, headers=bearer(settings, "hn.ntl.ceo")),
        422,
        "unknown titles",
    )
    listed = (
        await client.get(
            f"/units/{city.ids['hn.ntl.fecon']}/registrations?year=2025", headers=bearer(settings, "hn.ntl")
        )
    ).json()
    assert listed["total"] == 1 and listed["items"][0]["topics"][0]["kind"] == "initiative"
    assert (
        await client.get(f"/units/{city.ids['hn.ntl.fecon']}/registrations", headers=bearer(settings, "hn.dd"))
    ).status_code == 404


# -- progress reports ---------------------------------------------------------------------------------


async def test_an_official_reports_a_value_with_evidence(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, campaign: dict[str, Any]
) -> None:
    url = f"/campaigns/{campaign['campaign_id']}/reports"
    body = {"unit_id": city.ids["hn.ntl"], "indicator": "activities", "value": 2, "evidence": ["Biên bản số 12/BB"]}
    h = bearer(settings, "hn.ntl", "emulation_officer")
    first = await client.post(url, json=body, headers=h)
    assert first.status_code == 201 and first.json()["delta"] == 2
    second = await client.post(url, json=body | {"value": 3}, headers=h)
    assert second.json()["delta"] == 1 and second.json()["version"] == 2
    await refused(app, client.post(url, json=body | {"evidence": []}, headers=h), 422, "needs its evidence")
    await refused(
        app, client.post(url, json=body | {"indicator": "registered"}, headers=h), 409, "counted automatically"
    )
    await refused(app, client.post(url, json=body, headers=bearer(settings, "hn")), 403)
    await refused(app, client.post(url, json=body, headers=bearer(settings, "hn.ntl", "member")), 403)
