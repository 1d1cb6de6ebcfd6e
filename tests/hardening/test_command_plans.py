"""Every statement a command runs in each service — handler reads, the store, the inline read models —
uses an index (issue 8 defect 10). The commands run over HTTP against real SQLite; each statement they
ran is explained and a full scan of a growing table fails, naming the statement."""

from datetime import timedelta
from pathlib import Path

import pytest

from services.inspections.domain.rulesets import HD_1294_2019
from tests.hardening.plans import capture, sqlite_full_scans
from tests.hardening.services import SERVICES, Running, running
from tests.hardening.test_numbers import launch_body
from tests.people import bearer, person_id
from tests.registry.api_helpers import APPLICATION, DECISION, REGISTRATION, SCORE


async def ok(service: Running, url: str, body: dict, unit: str, *roles: str, sub: str | None = None) -> dict:
    headers = service.headers(unit, *roles)
    if sub in service.ids.values():  # the token names exactly this member (a member registering themself)
        headers = {**headers, **bearer(service.settings, unit, *roles, subject=sub)}
    elif sub:  # a person of their own: the mentor who claimed an idea acts on it
        headers = {**headers, **bearer(service.settings, unit, *roles, who=sub)}
    response = await service.client.post(url, json=body, headers=headers)
    assert response.status_code in (200, 201), (url, response.text)
    return response.json()


async def directory_commands(service: Running) -> None:
    ids = service.ids
    unit = await ok(service, "/units", {"code": "ceo", "name": "Công đoàn CEO", "kind": "grassroots_union",
                                        "parent_id": ids["hn.ntl"]}, "hn")  # fmt: skip
    uid = unit["unit_id"]
    await ok(service, f"/units/{uid}/rename", {"name": "Công đoàn Tập đoàn CEO"}, "hn")
    member = await ok(service, f"/units/{uid}/members", {"full_name": "Phạm Thu Hà", "birth_year": 1990}, "hn")
    await ok(service, f"/members/{member['member_id']}/roles", {"role": "chair"}, "hn")
    dd = await ok(service, "/units", {"code": "dd", "name": "Đống Đa", "kind": "upper_level_union",
                                      "parent_id": ids["hn"]}, "hn")  # fmt: skip
    await ok(service, f"/units/{uid}/move", {"parent_id": dd["unit_id"]}, "hn")
    await ok(service, f"/units/{ids['hn.ntl.fecon']}/merge", {"into_unit_id": uid}, "hn")


async def registry_commands(service: Running) -> None:
    fecon, bch, btv = "hn.ntl.fecon", "executive_committee", "standing_committee"
    idea = await ok(service, "/ideas", {"text": "Số hoá sổ theo dõi đoàn viên"}, fecon, "member")
    await ok(service, f"/ideas/{idea['idea_id']}/claim", {}, fecon, "incubator_mentor", sub="mentor")
    await ok(service, f"/ideas/{idea['idea_id']}/comments", {"comment": "Cần lượng hoá"}, fecon, "incubator_mentor",
             sub="mentor")  # fmt: skip
    initiative = (await ok(service, "/initiatives", REGISTRATION, fecon, "member"))["initiative_id"]
    url = f"/initiatives/{initiative}"
    await ok(service, f"{url}/scores", SCORE, fecon, bch)
    await ok(service, f"{url}/recognise", DECISION, fecon, bch)
    await ok(service, f"{url}/applications", APPLICATION, fecon, "member")
    await ok(service, f"{url}/escalation", {"summary": "Đề nghị công nhận cấp quận"}, fecon, bch)
    await ok(service, f"{url}/escalation/forward", {"note": "Chuyển Thành phố"}, "hn.ntl", btv)
    await ok(service, f"{url}/recognise", DECISION, "hn", btv)
    await ok(service, f"{url}/replication", {"target_paths": ["hn.ntl.fecon.thi-cong"]}, fecon, bch)
    await ok(service, f"{url}/replication/reports", {"evidence": "Đã áp dụng"}, "hn.ntl.fecon.thi-cong", "chair")


async def pledges_commands(service: Running) -> None:
    ids = service.ids
    body = launch_body(ids) | {"starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    cid = (await ok(service, "/campaigns", body, "hn"))["campaign_id"]
    split = {"unit_id": ids["hn.ntl"], "targets": {ids["hn.ntl.fecon"]: {"registered": 6, "activities": 1},
                                                   ids["hn.ntl.ceo"]: {"registered": 4, "activities": 1}}}  # fmt: skip
    await ok(service, f"/campaigns/{cid}/targets", split, "hn.ntl")
    pledge = {"campaign_id": cid, "unit_id": ids["hn.ntl"], "signatories": [ids["official:hn.ntl"]],
              "commitments": [{"indicator": "registered", "target": 12, "deadline": "2026-12-30"}]}  # fmt: skip
    await ok(service, "/pledges", pledge, "hn.ntl")
    amend = {"reason": "Bổ sung", "commitments": [{"indicator": "registered", "target": 14, "deadline": "2026-12-30"}]}
    await ok(service, f"/campaigns/{cid}/pledges/{ids['hn.ntl']}/amend", amend, "hn.ntl")
    report = {"unit_id": ids["hn.ntl"], "indicator": "activities", "value": 2, "evidence": ["Biên bản số 12/BB"]}
    await ok(service, f"/campaigns/{cid}/reports", report, "hn.ntl", "emulation_officer")
    member = ids["member:hn.ntl.fecon"]
    registration = {"member_id": member, "year": 2026, "target_titles": ["lao_dong_tien_tien"]}
    await ok(service, "/registrations", registration, "hn.ntl.fecon", "member", sub=member)
    await ok(service, f"/campaigns/{cid}/close", {"results": "Đạt"}, "hn")


async def inspections_commands(service: Running) -> None:
    ids, ntl, fecon = service.ids, "hn.ntl", "hn.ntl.fecon"
    round_ = await ok(service, "/rounds", {"level_unit_id": ids[ntl], "year": 2025, "period": "half_year",
                                           "title": "Tự kiểm tra", "due_on": "2100-06-30"}, ntl)  # fmt: skip
    cid = f"{ids[fecon]}-2025-half_year"
    item = {"item": "commitment:c0000000-0000-4000-8000-000000000018:registered", "answer": "not_done"}
    await ok(service, f"/checklists/{cid}/answers", item, fecon, "executive_committee")
    rest = {"answers": [item | {"item": "commitment:c0000000-0000-4000-8000-000000000018:activities"}]}
    await ok(service, f"/checklists/{cid}/submit", rest, fecon, "executive_committee")
    await ok(service, f"/checklists/{cid}/amend", {"reason": "Sửa", "findings": ["Đã rà soát"]}, fecon, "chair")
    await ok(service, f"/rounds/{round_['round_id']}/overdue-check", {}, ntl)
    plan = {
        "unit_id": ids[ntl],
        "year": 2026,
        "programme": "year",
        "title": "Kế hoạch kiểm tra",
        "items": [{"content": "finance", "purpose": "Tài chính", "from_month": 3, "to_month": 5, "units_planned": 2}],
    }
    adopted = await ok(service, "/plans", plan, ntl, "inspection_committee")
    revised = {"title": "Kế hoạch", "items": plan["items"], "reason": "Bổ sung"}
    await ok(service, f"/plans/{adopted['plan_id']}/revise", revised, ntl, "inspection_committee")
    team = person_id(ids[ntl], ("chair",))  # the level's chair the default headers name
    scheduled = await ok(service, "/inspections", {
        "by_unit_id": ids[ntl], "purpose": "Kiểm tra", "content": "finance", "period_from": "2026-01-01",
        "period_to": "2026-06-30", "team": [team], "units": [ids[fecon]]}, ntl)  # fmt: skip
    iid = scheduled["inspection_id"]
    await ok(service, f"/inspections/{iid}/notice", {"number": "1/TB", "issued_on": "2026-07-01",
                                                     "starts_on": "2026-07-02"}, ntl)  # fmt: skip
    await ok(service, f"/inspections/{iid}/decision", {"number": "2/QĐ", "decided_on": "2026-07-01"}, ntl)
    finding = await ok(service, f"/inspections/{iid}/units/{ids[fecon]}/findings",
                       {"severity": "minor", "description": "Sổ chưa cập nhật"}, ntl)  # fmt: skip
    action = await ok(service, f"/inspections/{iid}/units/{ids[fecon]}/actions", {
        "finding_id": finding["finding_id"], "description": "Cập nhật", "owner": "Chủ tịch", "due_on": "2100-01-01"},
        ntl)  # fmt: skip
    base = f"/inspections/{iid}/units/{ids[fecon]}/actions/{action['action_id']}"
    await ok(service, f"{base}/fix", {"description": "Đã cập nhật", "evidence": {"text": "Sổ"}}, fecon)
    await ok(service, f"{base}/reopen", {"reason": "Thiếu", "due_on": "2100-02-01"}, ntl)
    await ok(service, f"{base}/fix", {"description": "Bổ sung", "evidence": {"text": "Sổ"}}, fecon)
    await ok(service, f"{base}/verify", {}, ntl)
    await ok(service, f"/inspections/{iid}/conclusion", {"conclusion": "Đạt"}, ntl)
    scores = {i.code: i.max_points for i in HD_1294_2019.grading_indicators["enterprise"]}
    await ok(service, "/grades", {"unit_id": ids[fecon], "year": 2025, "union_type": "enterprise", "scores": scores},
             fecon)  # fmt: skip
    await ok(service, f"/grades/{ids[fecon]}/2025/confirm", {}, ntl)


async def awards_commands(service: Running) -> None:
    fecon, ntl, bch, btv = "hn.ntl.fecon", "hn.ntl", "executive_committee", "standing_committee"
    clock = service.app.state.deps.clock  # the service's clock (tests.awards.awards_api.Clock): moved below
    an = {"kind": "individual", "member_id": service.ids["member:an"]}
    await ok(service, "/quotas", {"unit_path": fecon, "year": 2025, "award_code": "gk_ctt", "count": 2}, ntl, btv)
    past = {"nominee": an, "award_code": "cstd_cs", "year": 2024, "decision_number": "9/QĐ",
            "decided_on": "2024-12-20", "deciding_body": "Giám đốc"}  # fmt: skip
    await ok(service, "/past-awards", past, fecon, "chair")
    await ok(service, "/rulebook/base-salary", {"effective_from": "2027-07-01", "amount_vnd": 2_700_000,
                                                "source": "Nghị định"}, "hn")  # fmt: skip
    await ok(service, "/rulebook/holidays", {"year": 2026, "days_off": ["2026-09-02"], "source": "Quyết định"}, "hn")
    proposal = {"nominee": an, "year": 2025, "summary": "Hoàn thành tốt nhiệm vụ", "attested": ["good_work"],
                "justification": "Đang bổ sung"}  # fmt: skip
    year = {"kind": "year", "ref": "2025", "summary": "Năm 2025"}
    ldtt = await ok(service, "/proposals", proposal | {"award_code": "ldtt", "achievement": year}, fecon, bch)
    initiative = {"kind": "initiative", "ref": "i-qr", "summary": "Sáng kiến mã QR"}
    gk = await ok(service, "/proposals", proposal | {"award_code": "gk_ctt", "achievement": initiative}, fecon, bch)
    lid, gid = ldtt["proposal_id"], gk["proposal_id"]
    await ok(service, f"/proposals/{gid}/justify", {"justification": "Đã bổ sung nhận xét"}, fecon, bch)
    await ok(service, "/publicity", {"proposal_ids": [gid]}, fecon, bch)
    await ok(service, f"/proposals/{gid}/objections", {"text": "Chưa rõ"}, fecon, "member")
    shown = (await service.client.get(f"/proposals/{gid}", headers=service.headers(fecon, bch))).json()
    await ok(service, f"/proposals/{gid}/objections/{shown['objections'][0]['objection_id']}/answer",
             {"answer": "Đã rõ", "upheld": False}, fecon, bch)  # fmt: skip
    clock.advance(16)
    held_on = (clock.today - timedelta(days=1)).isoformat()
    meeting = {"minutes_number": "5/BB", "held_on": held_on, "place": "Hội trường", "chair": "Trần Thị Bình",
               "secretary": "Lê Văn Cường", "members_total": 9, "members_present": 9}  # fmt: skip
    votes = [{"proposal_id": p, "votes_for": 9, "votes_against": 0, "votes_abstain": 0} for p in (lid, gid)]
    await ok(service, "/votes", {"meeting": meeting, "votes": votes}, fecon, bch)
    decision = {"decision_number": "3/QĐ", "decided_on": clock.today.isoformat(), "signer_name": "Trần Thị Bình",
                "signer_title": "GIÁM ĐỐC"}  # fmt: skip
    await ok(service, "/decisions", decision | {"proposal_ids": [lid]}, fecon, bch)
    await ok(service, f"/proposals/{lid}/revoke", decision | {"reason": "false_claims", "explanation": "Khai sai",
                                                             "decision_number": "4/QĐ"}, fecon, bch)  # fmt: skip
    await ok(service, "/escalations", {"proposal_ids": [gid], "submission_number": "9/TTr"}, fecon, bch)
    await ok(service, f"/proposals/{gid}/accept", {}, ntl, btv)
    await ok(service, f"/proposals/{gid}/return", {"reasons": "Bổ sung"}, ntl, btv)
    await ok(service, f"/proposals/{gid}/withdraw", {"reason": "Rút"}, fecon, bch)


COMMANDS = {
    "directory": directory_commands,
    "registry": registry_commands,
    "pledges": pledges_commands,
    "inspections": inspections_commands,
    "awards": awards_commands,
}


@pytest.mark.parametrize("name", list(SERVICES))
async def test_every_statement_of_a_command_uses_an_index(name: str, tmp_path: Path) -> None:
    async with running(name, tmp_path) as service:
        with capture(service.app.state.db) as captured:
            await COMMANDS[name](service)
        assert len(captured.statements) > 5
        assert await sqlite_full_scans(service.app.state.db.writer, captured) == []
