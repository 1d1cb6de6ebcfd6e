"""The registry's HTTP API: every error case of the issue, idempotency, pagination and subtree rules."""

import unicodedata

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from shared.eventstore.schema import events
from tests.registry.api_helpers import APPLICATION, DECISION, REGISTRATION, SCORE, Api

FECON, BCH, BTV = "hn.ntl.fecon", "executive_committee", "standing_committee"


async def event_count(app: FastAPI) -> int:
    async with app.state.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


async def test_a_bearer_token_is_required(client: httpx.AsyncClient) -> None:
    response = await client.post("/initiatives", json=REGISTRATION)
    assert response.status_code == 401


async def test_registration_reports_every_invalid_field_together(api: Api) -> None:
    body = {**REGISTRATION, "title": "", "estimated_benefit_vnd": -5, "authors": [{"name": "An", "share": 60}]}
    del body["objective"]
    response = await api.post("/initiatives", body, FECON, "member")
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"title", "objective", "estimated_benefit_vnd", "authors"} <= fields
    assert any("sum to 100 (they sum to 60)" in e["message"] for e in response.json()["errors"])


async def test_text_is_stored_nfc(api: Api) -> None:
    decomposed = unicodedata.normalize("NFD", "Sáng kiến số hoá hồ sơ")
    initiative_id = await api.register(title=decomposed)
    body = (await api.get(f"/initiatives/{initiative_id}", FECON, "member")).json()
    assert body["title"] == unicodedata.normalize("NFC", "Sáng kiến số hoá hồ sơ")
    assert body["registration"]["authors"][0]["share"] == 70 and body["status"] == "registered"


async def test_the_unit_is_the_callers_or_below_and_must_be_known(api: Api) -> None:
    outside = await api.post("/initiatives", {**REGISTRATION, "unit_path": "hn.dd.handico"}, FECON, "member")
    assert outside.status_code == 403 and outside.json()["field"] == "unit_path"
    below = await api.post("/initiatives", {**REGISTRATION, "unit_path": "hn.ntl.fecon.thi-cong"}, FECON, "member")
    assert below.status_code == 201 and below.json()["unit_path"] == "hn.ntl.fecon.thi-cong"
    unknown = await api.post("/initiatives", {**REGISTRATION, "unit_path": "hn.ntl.fecon.moi"}, FECON, "member")
    assert unknown.status_code == 404 and "not known to the registry yet" in unknown.json()["detail"]


async def test_unknown_initiative_is_404(api: Api) -> None:
    response = await api.post("/initiatives/nope/recognise", DECISION, FECON, BCH)
    assert response.status_code == 404 and "initiative nope not found" in response.json()["detail"]


async def test_recognising_before_the_council_or_a_draft_is_409(api: Api) -> None:
    initiative_id = await api.register()
    response = await api.post(f"/initiatives/{initiative_id}/recognise", DECISION, FECON, BCH)
    assert response.status_code == 409 and "score it in council" in response.json()["detail"]
    idea = await api.ok("/ideas", {"text": "Số hoá sổ theo dõi đoàn viên"}, FECON, "member")
    mentor = ("incubator_mentor",)
    await api.ok(f"/ideas/{idea['idea_id']}/claim", {}, FECON, *mentor, sub="mentor")
    draft = await api.ok(
        f"/ideas/{idea['idea_id']}/convert", {"title": "Sổ đoàn viên số", "authors": [{"name": "An", "share": 100}]},
        FECON, *mentor, sub="mentor",
    )  # fmt: skip
    response = await api.post(f"/initiatives/{draft['initiative_id']}/recognise", DECISION, FECON, BCH)
    assert response.status_code == 409 and "allowed next: complete and register it" in response.json()["detail"]


async def test_deciding_outside_your_unit_or_without_the_role_is_403(api: Api) -> None:
    initiative_id = await api.register()
    await api.ok(f"/initiatives/{initiative_id}/scores", SCORE, FECON, BCH)
    other_unit = await api.post(f"/initiatives/{initiative_id}/recognise", DECISION, "hn.ntl.ceo", BCH)
    assert other_unit.status_code == 403 and "only officials of hn.ntl.fecon" in other_unit.json()["detail"]
    above = await api.post(f"/initiatives/{initiative_id}/recognise", DECISION, "hn.ntl", BTV)
    assert above.status_code == 403  # the upper level decides only what is escalated to it
    no_role = await api.post(f"/initiatives/{initiative_id}/recognise", DECISION, FECON, "emulation_officer")
    assert no_role.status_code == 403 and "executive_committee" in no_role.json()["detail"]
    scorer = await api.post(f"/initiatives/{initiative_id}/scores", SCORE, FECON, "member")
    assert scorer.status_code == 403
    done = await api.ok(f"/initiatives/{initiative_id}/recognise", DECISION, FECON, BCH)
    assert done["status"] == "recognised" and done["scope"] == "grassroots"
    detail = (await api.get(f"/initiatives/{initiative_id}", FECON, "member")).json()
    assert [h["event"] for h in detail["history"]][-1] == "InitiativeRecognised"
    deciders = await api.people.subject(FECON, (BCH,))  # the member the token names
    assert detail["history"][-1]["by"] == deciders  # every decision names who took it


async def test_applying_a_rejected_initiative_is_409(api: Api) -> None:
    initiative_id = await api.register()
    await api.ok(f"/initiatives/{initiative_id}/reject", {"reasons": "Không có tính mới"}, FECON, BCH)
    response = await api.post(f"/initiatives/{initiative_id}/applications", APPLICATION, FECON, "member")
    assert response.status_code == 409 and "rejected" in response.json()["detail"]


async def test_return_revise_and_recognise(api: Api) -> None:
    initiative_id = await api.register()
    await api.ok(f"/initiatives/{initiative_id}/return", {"requests": "Bổ sung số liệu"}, FECON, BCH)
    revised = await api.ok(
        f"/initiatives/{initiative_id}/revise", {**REGISTRATION, "title": "Bản sửa: mã QR"}, FECON, "member"
    )
    assert revised["status"] == "registered"
    await api.ok(f"/initiatives/{initiative_id}/scores", SCORE, FECON, BCH)
    assert (await api.ok(f"/initiatives/{initiative_id}/recognise", DECISION, FECON, BCH))["status"] == "recognised"


async def test_a_sub_units_initiative_is_decided_by_its_grassroots_union(api: Api) -> None:
    initiative_id = await api.register(unit_path="hn.ntl.fecon.thi-cong")
    await api.ok(f"/initiatives/{initiative_id}/scores", SCORE, FECON, BCH)
    assert (await api.ok(f"/initiatives/{initiative_id}/recognise", DECISION, FECON, BCH))["scope"] == "grassroots"


async def test_the_same_idempotency_key_replays_and_a_different_body_conflicts(api: Api, app: FastAPI) -> None:
    headers = await api.headers(FECON, "member", sub="an", key="k-1")
    first = await api.client.post("/initiatives", json=REGISTRATION, headers=headers)
    before = await event_count(app)
    again = await api.client.post("/initiatives", json=REGISTRATION, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and await event_count(app) == before
    other = await api.client.post("/initiatives", json={**REGISTRATION, "title": "Khác hẳn"}, headers=headers)
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"


async def test_lists_are_paginated_and_limited_to_the_subtree(api: Api) -> None:
    for _ in range(3):
        await api.register()
    await api.register(unit="hn.dd.handico")
    page = (await api.get("/initiatives", "hn.ntl", BTV, limit=2, offset=0)).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert (await api.get("/initiatives", "hn.ntl", BTV, limit=2, offset=2)).json()["items"][0]["unit_path"] == FECON
    assert (await api.get("/initiatives", "hn", BTV)).json()["total"] == 4
    forbidden = await api.get("/initiatives", "hn.ntl", BTV, under="hn.dd")
    assert forbidden.status_code == 403
    assert (await api.get("/initiatives", "hn.ntl", BTV, limit=0)).status_code == 422
    other = await api.get(f"/initiatives/{page['items'][0]['initiative_id']}", "hn.dd.handico", BCH)
    assert other.status_code == 403


async def test_ideas_flow_and_only_a_mentor_claims(api: Api) -> None:
    idea = await api.ok("/ideas", {"text": "Tổ chức ngày hội ý tưởng sáng tạo"}, FECON, "member")
    assert (await api.post(f"/ideas/{idea['idea_id']}/claim", {}, FECON, "member")).status_code == 403
    await api.ok(f"/ideas/{idea['idea_id']}/claim", {}, FECON, "incubator_mentor", sub="mentor")
    assert (
        await api.post(f"/ideas/{idea['idea_id']}/claim", {}, FECON, "incubator_mentor", sub="m2")
    ).status_code == 409
    await api.ok(
        f"/ideas/{idea['idea_id']}/comments", {"comment": "Cần lượng hoá"}, FECON, "incubator_mentor", sub="mentor"
    )
    body = {"title": "Ngày hội ý tưởng", "authors": [{"name": "An", "share": 50}, {"name": "Bình", "share": 50}]}
    draft = await api.ok(f"/ideas/{idea['idea_id']}/convert", body, FECON, "incubator_mentor", sub="mentor")
    # The draft's authors are read from the service at once (the registration form is filled from them).
    read = (await api.get(f"/initiatives/{draft['initiative_id']}", FECON, "member")).json()
    assert read["status"] == "draft"
    assert [(a["name"], a["share"]) for a in read["authors"]] == [("An", 50), ("Bình", 50)]
    done = await api.ok("/initiatives", {**REGISTRATION, "draft_id": draft["initiative_id"]}, FECON, "member")
    assert done["initiative_id"] == draft["initiative_id"] and done["status"] == "registered"
    listed = (await api.get("/ideas", FECON, "member")).json()
    assert listed["items"][0]["status"] == "converted" and listed["total"] == 1


async def test_a_near_copy_from_another_unit_is_flagged_not_blocked(api: Api) -> None:
    original = await api.register()
    await api.register(title="Tổ chức giải bóng đá công nhân", objective="Tăng cường rèn luyện thể chất",
                       steps="Lập kế hoạch; đăng ký đội; thi đấu vòng bảng")  # fmt: skip
    # the same text without diacritics, typed in another unit of the city
    copy = {k: v for k, v in REGISTRATION.items()}
    from shared.text import fold

    for key in ("title", "objective", "steps"):
        copy[key] = fold(REGISTRATION[key])
    response = await api.post("/initiatives", {**copy, "unit_path": "hn.dd.handico"}, "hn.dd.handico", "member")
    assert response.status_code == 201
    (flag,) = response.json()["possible_duplicates"]
    assert flag["initiative_id"] == original and flag["other_unit"] is True and flag["score"] > 0.8
    detail = (await api.get(f"/initiatives/{response.json()['initiative_id']}", "hn.dd.handico", "member")).json()
    assert detail["possible_duplicates"][0]["initiative_id"] == original  # shown to reviewers


async def test_escalation_over_http_one_level_at_a_time(api: Api) -> None:
    initiative_id = await api.applied()
    url = f"/initiatives/{initiative_id}/escalation"
    sent = await api.ok(url, {"summary": "Đề nghị công nhận cấp quận"}, FECON, BCH)
    assert sent["pending_at"] == "hn.ntl"
    skipped = await api.post(f"{url}/forward", {}, "hn", BTV)
    assert skipped.status_code == 403
    assert (await api.ok(f"{url}/forward", {"note": "Chuyển Thành phố"}, "hn.ntl", BTV))["pending_at"] == "hn"
    recognised = await api.ok(f"/initiatives/{initiative_id}/recognise", DECISION, "hn", BTV)
    assert recognised["scope"] == "city" and recognised["status"] == "applied"
    nothing = await api.post(f"{url}/return", {"reasons": "x"}, "hn", BTV)
    assert nothing.status_code == 409 and "no escalation request is waiting" in nothing.json()["detail"]


async def test_replication_over_http(api: Api) -> None:
    initiative_id = await api.applied()
    url = f"/initiatives/{initiative_id}/replication"
    bad = await api.post(url, {"target_paths": ["hn.dd"]}, FECON, BCH)
    assert bad.status_code == 422 and bad.json()["field"] == "target_paths"
    ordered = await api.ok(url, {"target_paths": ["hn.ntl.fecon.thi-cong"]}, FECON, BCH)
    assert ordered["replication_by"] == FECON
    reported = await api.ok(f"{url}/reports", {"evidence": "Đã áp dụng"}, "hn.ntl.fecon.thi-cong", "chair")
    assert reported["applied_in"] == "hn.ntl.fecon.thi-cong"
    stranger = await api.post(f"{url}/reports", {"evidence": "x"}, "hn.ntl.ceo", "chair")
    assert stranger.status_code == 409


async def test_acceptance_by_the_unit(api: Api) -> None:
    initiative_id = await api.applied()
    body = {"actual_benefit_vnd": 75000000, "note": "Nghiệm thu đạt"}
    assert (await api.post(f"/initiatives/{initiative_id}/accept", body, FECON, "member")).status_code == 403
    assert (await api.ok(f"/initiatives/{initiative_id}/accept", body, FECON, BCH))["status"] == "accepted"
    again = await api.post(f"/initiatives/{initiative_id}/accept", body, FECON, BCH)
    assert again.status_code == 409 and "allowed next" in again.json()["detail"]
