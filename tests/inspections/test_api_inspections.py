"""Upper-level inspections over HTTP: plans, proposals (random and risk-based), scheduling, notice and
decision, findings, corrective actions, fixes, verification; every refusal with its status, field and
code."""

from datetime import date
from typing import Any

import httpx
import pytest

from tests.inspections.api_helpers import Clock, World
from tests.inspections.test_api_selfinspection import (
    NTL_CHAIR,
    full_answers,
    key,
    open_round,
    post,
    problem,
)
from tests.people import bearer, person_id

UBKT = bearer(None, "hn.ntl", "inspection_committee")
FECON = bearer(None, "hn.ntl.fecon", "executive_committee")
PROOF = {"text": "Biên bản làm việc của đoàn kiểm tra"}


@pytest.fixture
async def team(world: World) -> list[str]:
    member = await world.person("hn.ntl", ("inspection_committee",))
    assert member is not None
    return [member]


def schedule_body(world: World, team: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "by_unit_id": world.ids["hn.ntl"],
        "purpose": "Kiểm tra thực hiện giao ước thi đua",
        "content": "pledge_fulfilment",
        "period_from": "2025-01-01",
        "period_to": "2025-06-30",
        "team": team,
        "units": [world.ids["hn.ntl.fecon"]],
    } | overrides


async def decided(client: httpx.AsyncClient, world: World, team: list[str], **overrides: Any) -> str:
    scheduled = await post(client, "/inspections", schedule_body(world, team, **overrides), UBKT, 201)
    iid = scheduled["inspection_id"]
    await post(
        client,
        f"/inspections/{iid}/notice",
        {"number": "05/TB-UBKT", "issued_on": "2025-06-05", "starts_on": "2025-06-10"},
        UBKT,
    )
    await post(client, f"/inspections/{iid}/decision", {"number": "07/QĐ-UBKT", "decided_on": "2025-06-08"}, UBKT)
    return iid


async def test_a_plan_is_adopted_then_revised_with_a_reason(client: httpx.AsyncClient, world: World) -> None:
    item = {"content": "finance", "purpose": "Kiểm tra tài chính", "from_month": 3, "to_month": 5, "units_planned": 4}
    body = {
        "unit_id": world.ids["hn.ntl"],
        "year": 2025,
        "programme": "first_half",
        "title": "Chương trình",
        "items": [item],
    }
    adopted = await post(client, "/plans", body, UBKT, 201)
    assert adopted["revision"] == 1
    problem(await client.post("/plans", json=body, headers={**UBKT, **key()}), 409, "plan.exists")
    outside = body | {"programme": "second_half", "items": [item]}
    problem(
        await client.post("/plans", json=outside, headers={**UBKT, **key()}),
        422,
        "plan.months_outside_programme",
        "items.0.from_month",
    )
    problem(
        await client.post("/plans", json=body | {"unit_id": world.ids["hn.ntl"]}, headers={**FECON, **key()}),
        403,
        "forbidden",
        "unit_id",
    )
    revised = await post(
        client,
        f"/plans/{adopted['plan_id']}/revise",
        {"title": "Chương trình (sửa)", "items": [item, item], "reason": "Thêm kiểm tra"},
        UBKT,
    )
    assert revised["revision"] == 2 and len(revised["items"]) == 2


async def test_a_random_sample_is_reproducible_and_recorded_with_its_seed(
    client: httpx.AsyncClient, world: World, team: list[str]
) -> None:
    for n in range(8):
        await world.unit(f"hn.ntl.u{n}", "grassroots_union", "hn.ntl")
    params = {"by_unit_id": world.ids["hn.ntl"], "method": "random", "size": 3, "seed": 20250601}
    first = (await client.get("/proposals", params=params, headers=UBKT)).json()
    assert first == (await client.get("/proposals", params=params, headers=UBKT)).json()
    assert first["population"] == 10 and len(first["units"]) == 3 and first["seed"] == 20250601
    no_seed = await client.get("/proposals", params={k: v for k, v in params.items() if k != "seed"}, headers=UBKT)
    problem(no_seed, 422, "sample.seed_required", "seed")
    body = schedule_body(world, team, units=[], selection={"method": "random", "seed": 20250601, "size": 3})
    scheduled = await post(client, "/inspections", body, UBKT, 201)
    assert sorted(u["unit_id"] for u in scheduled["units"]) == sorted(u["unit_id"] for u in first["units"])
    assert scheduled["selection"] == {
        "method": "random",
        "seed": 20250601,
        "population": 10,
        "population_digest": first["population_digest"],
        "rule_set": None,
    }
    other = [world.ids["hn.ntl.fecon"], world.ids["hn.ntl.ceo"], world.ids["hn.ntl.u0"]]
    if sorted(other) != sorted(u["unit_id"] for u in first["units"]):
        refused = await client.post("/inspections", json=body | {"units": other}, headers={**UBKT, **key()})
        problem(refused, 422, "sample.not_the_draw", "units")


async def test_a_risk_based_sample_proposes_units_with_their_reasons(
    client: httpx.AsyncClient, world: World, team: list[str], clock: Clock
) -> None:
    await open_round(client, world)
    view = (await client.get(f"/checklists/{world.ids['hn.ntl.fecon']}-2025-half_year", headers=FECON)).json()
    await post(
        client,
        f"/checklists/{world.ids['hn.ntl.fecon']}-2025-half_year/submit",
        {"answers": full_answers(world, view)},
        FECON,
    )
    clock.set(date(2025, 7, 2))
    await post(client, f"/rounds/{view['round_id']}/overdue-check", {}, NTL_CHAIR)
    await world.sync_own()  # the service's copy of its own events, as its consumer would have it
    proposal = (
        await client.get(
            "/proposals", params={"by_unit_id": world.ids["hn.ntl"], "method": "risk", "size": 5}, headers=UBKT
        )
    ).json()
    proposed = {u["path"]: u for u in proposal["units"]}
    assert set(proposed) == {"hn.ntl.fecon", "hn.ntl.ceo"}
    assert any(r.startswith("Tự đánh giá trái với số liệu") for r in proposed["hn.ntl.fecon"]["reasons"])
    assert proposed["hn.ntl.ceo"]["reasons"] == ["Tự kiểm tra chậm hoặc không nộp: 1"]
    body = schedule_body(world, team, units=[world.ids["hn.ntl.ceo"]], selection={"method": "risk", "size": 5})
    scheduled = await post(client, "/inspections", body, UBKT, 201)
    assert scheduled["units"][0]["reasons"] == ["Tự kiểm tra chậm hoặc không nộp: 1"]
    assert scheduled["selection"]["method"] == "risk" and scheduled["selection"]["rule_set"] == "1294-2019.1"
    await world.unit("hn.ntl.calm", "grassroots_union", "hn.ntl")
    calm = body | {"units": [world.ids["hn.ntl.calm"]]}
    problem(
        await client.post("/inspections", json=calm, headers={**UBKT, **key()}), 422, "sample.not_proposed", "units.0"
    )


async def test_scheduling_refusals(client: httpx.AsyncClient, world: World, team: list[str]) -> None:
    outside = schedule_body(world, team, units=[world.ids["hn.dd.handico"]])
    problem(
        await client.post("/inspections", json=outside, headers={**UBKT, **key()}),
        403,
        "inspection.unit_outside",
        "units.0",
    )
    itself = schedule_body(world, team, units=[world.ids["hn.ntl"]])
    problem(await client.post("/inspections", json=itself, headers={**UBKT, **key()}), 403, "inspection.unit_outside")
    stranger = await world.person("hn.ntl.fecon", ("chair",))
    not_official = schedule_body(world, [stranger])
    problem(
        await client.post("/inspections", json=not_official, headers={**UBKT, **key()}),
        422,
        "inspection.team_not_official",
        "team.0",
    )
    unknown = schedule_body(world, team, units=["00000000-0000-4000-8000-000000000000"])
    problem(
        await client.post("/inspections", json=unknown, headers={**UBKT, **key()}), 404, "unit.not_found", "units.0"
    )
    problem(
        await client.post("/inspections", json=schedule_body(world, team), headers={**FECON, **key()}),
        403,
        "forbidden",
        "by_unit_id",
    )
    reversed_ = schedule_body(world, team, period_to="2024-12-31")
    problem(
        await client.post("/inspections", json=reversed_, headers={**UBKT, **key()}),
        422,
        "inspection.period_reversed",
        "period_to",
    )


async def test_findings_actions_fixes_and_verification(
    client: httpx.AsyncClient, world: World, team: list[str]
) -> None:
    scheduled = await post(client, "/inspections", schedule_body(world, team), UBKT, 201)
    iid, fecon = scheduled["inspection_id"], world.ids["hn.ntl.fecon"]
    finding = {
        "severity": "moderate",
        "description": "Chưa tổ chức đối thoại định kỳ",
        "recommendation": "Tổ chức đối thoại trong quý III",
        "evidence": PROOF,
    }
    early = await client.post(f"/inspections/{iid}/units/{fecon}/findings", json=finding, headers={**UBKT, **key()})
    assert problem(early, 409, "inspection.illegal_transition")["allowed_next"] == ["issue_notice"]
    iid = await decided(client, world, team)
    found = await post(client, f"/inspections/{iid}/units/{fecon}/findings", finding, UBKT, 201)
    problem(
        await client.post(
            f"/inspections/{iid}/units/{world.ids['hn.ntl.ceo']}/findings", json=finding, headers={**UBKT, **key()}
        ),
        404,
        "inspection.unit_not_inspected",
    )
    problem(
        await client.post(f"/inspections/{iid}/units/{fecon}/findings", json=finding, headers={**FECON, **key()}),
        403,
        "forbidden",
    )
    action = {
        "finding_id": found["finding_id"],
        "description": "Tổ chức đối thoại",
        "owner": "Chủ tịch CĐCS",
        "due_on": "2025-09-30",
    }
    past = action | {"due_on": "2025-06-01"}
    problem(
        await client.post(f"/inspections/{iid}/units/{fecon}/actions", json=past, headers={**UBKT, **key()}),
        422,
        "action.due_in_past",
        "due_on",
    )
    nowhere = action | {"finding_id": "f-none"}
    problem(
        await client.post(f"/inspections/{iid}/units/{fecon}/actions", json=nowhere, headers={**UBKT, **key()}),
        422,
        "finding.not_found",
        "finding_id",
    )
    assigned = await post(client, f"/inspections/{iid}/units/{fecon}/actions", action, UBKT, 201)
    base = f"/inspections/{iid}/units/{fecon}/actions/{assigned['action_id']}"
    unverified = await client.post(f"{base}/verify", json={}, headers={**UBKT, **key()})
    assert problem(unverified, 409, "action.illegal_transition")["allowed_next"] == ["report_fix"]
    fix = {"description": "Đã tổ chức đối thoại ngày 15/8", "evidence": {"links": ["https://fecon.vn/doi-thoai.pdf"]}}
    problem(await client.post(f"{base}/fix", json=fix, headers={**UBKT, **key()}), 403, "forbidden")
    problem(
        await client.post(f"{base}/fix", json=fix | {"evidence": {}}, headers={**FECON, **key()}),
        422,
        "action.evidence_required",
        "evidence",
    )
    await post(client, f"{base}/fix", fix, FECON)
    problem(await client.post(f"{base}/verify", json={}, headers={**FECON, **key()}), 403, "forbidden")
    reopened = await post(client, f"{base}/reopen", {"reason": "Thiếu chữ ký", "due_on": "2025-10-31"}, UBKT)
    assert reopened["due_on"] == "2025-10-31"
    await post(client, f"{base}/fix", fix | {"description": "Bổ sung biên bản có chữ ký"}, FECON)
    verified = await post(client, f"{base}/verify", {"note": "Đạt"}, UBKT)
    assert verified["by_path"] == "hn.ntl"
    again = await client.post(f"{base}/reopen", json={"reason": "x", "due_on": "2025-12-01"}, headers={**UBKT, **key()})
    assert problem(again, 409, "action.illegal_transition")["allowed_next"] == []
    view = (await client.get(f"/inspections/{iid}", headers=FECON)).json()
    assert view["units"][0]["actions"][0]["status"] == "verified"
    assert [h["event"] for h in view["units"][0]["actions"][0]["history"]] == [
        "CorrectiveActionFixReported",
        "CorrectiveActionReopened",
        "CorrectiveActionFixReported",
        "CorrectiveActionVerified",
    ]
    concluded = await post(client, f"/inspections/{iid}/conclusion", {"conclusion": "Đơn vị đã khắc phục"}, UBKT)
    assert concluded["concluded_on"] == "2025-06-02"
    # The inspection's own view says at once what was announced and decided (no level host in between).
    view = (await client.get(f"/inspections/{iid}", headers=FECON)).json()
    assert view["selection"]["method"] == "manual" and view["purpose"] and view["period_from"] <= view["period_to"]
    assert (view["notice"]["number"], view["notice"]["starts_on"]) == ("05/TB-UBKT", "2025-06-10")
    assert (view["decision"]["number"], view["decision"]["decided_on"]) == ("07/QĐ-UBKT", "2025-06-08")
    assert (view["status"], view["conclusion"]["conclusion"]) == ("concluded", "Đơn vị đã khắc phục")
    assert person_id(world.ids["hn.ntl"], ("inspection_committee",)) == team[0]


async def test_an_action_assigned_on_paper_is_entered_by_the_operator_and_turns_overdue(
    client: httpx.AsyncClient, world: World, team: list[str], clock: Clock
) -> None:
    iid = await decided(client, world, team)
    fecon = world.ids["hn.ntl.fecon"]
    finding = {"severity": "serious", "description": "Không tổ chức hội nghị người lao động", "evidence": PROOF}
    found = await post(client, f"/inspections/{iid}/units/{fecon}/findings", finding, UBKT, 201)
    clock.set(date(2025, 8, 1))
    paper = {
        "finding_id": found["finding_id"],
        "description": "Tổ chức hội nghị",
        "owner": "Chủ tịch CĐCS",
        "assigned_on": "2025-06-20",
        "due_on": "2025-07-20",
    }
    url = f"/inspections/{iid}/units/{fecon}/actions"
    by_inspector = await client.post(url, json=paper, headers={**UBKT, **key()})
    problem(by_inspector, 403, "date.backdated", "assigned_on", says="only the platform operator")
    early = await client.post(
        url, json=paper | {"due_on": "2025-06-20"}, headers={**bearer(None, "hn", "admin"), **key()}
    )
    problem(early, 422, "action.due_in_past", "due_on", says="after the day it is assigned (2025-06-20)")
    assigned = await post(client, url, paper, bearer(None, "hn", "admin"), 201)
    assert assigned["due_on"] == "2025-07-20"
    view = (await client.get(f"/inspections/{iid}", headers=UBKT)).json()
    action = view["units"][0]["actions"][0]
    assert action["status"] == "open" and action["due_on"] == "2025-07-20"
