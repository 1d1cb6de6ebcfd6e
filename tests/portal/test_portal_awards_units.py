"""The awards pages' own logic, without a platform: the public search, which awards a level is offered,
the form → the service's body, a refusal put beside the form's fields, the public feed kept public."""

import asyncio

import httpx
from starlette.datastructures import FormData

from services.portal.adapters.platform import Platform, Problem, Topology
from services.portal.entrypoints import awards
from services.portal.entrypoints.problems import Said, explain
from services.portal.entrypoints.settings import PortalSettings

GOOD_WORK = {"code": "good_work", "label": "Hoàn thành tốt nhiệm vụ", "check": "attested"}
UNITY = {"code": "unity", "label": "Nội bộ đoàn kết", "check": "attested"}
GRADE = {"code": "graded_excellent", "label": "Xếp loại xuất sắc", "check": "grade"}
BOOK = {
    "awards": {
        "gk_cdcs": {"code": "gk_cdcs", "name": "Giấy khen CĐCS", "authority": "grassroots", "family": "union",
                    "nominee_kind": "individual", "criteria": [GOOD_WORK]},
        "gk_ctt": {"code": "gk_ctt", "name": "Giấy khen cấp trên", "authority": "upper_level", "family": "union",
                   "nominee_kind": "individual", "criteria": [GOOD_WORK]},
        "co_ldld": {"code": "co_ldld", "name": "Cờ thi đua", "authority": "city", "family": "union",
                    "nominee_kind": "collective", "criteria": [GRADE, UNITY]},
    },
    "names": {},
}  # fmt: skip


def test_the_public_search_finds_a_name_with_or_without_diacritics_and_every_word_must_match() -> None:
    items = [
        {"nominee_name": "Phạm Thu Anh", "unit_name": "Công đoàn Fecon", "award_name": "Giấy khen", "year": 2026},
        {"nominee_name": "Lê Văn Bình", "unit_name": "Công đoàn Handico", "award_name": "Bằng khen", "year": 2025},
    ]
    assert [i["nominee_name"] for i in awards.search(items, "pham thu")] == ["Phạm Thu Anh"]
    assert [i["nominee_name"] for i in awards.search(items, "BẰNG KHEN handico")] == ["Lê Văn Bình"]
    assert awards.search(items, "pham handico") == []
    assert awards.search(items, "   ") == items


def test_a_level_is_offered_only_the_awards_decided_at_it_or_above() -> None:
    assert [a["code"] for a in awards.offered(BOOK, "hn.ntl.fecon")] == ["gk_cdcs", "gk_ctt", "co_ldld"]
    assert [a["code"] for a in awards.offered(BOOK, "hn.ntl")] == ["gk_ctt", "co_ldld"]
    assert [a["code"] for a in awards.offered(BOOK, "hn")] == ["co_ldld"]
    assert [c["code"] for c in awards.attestable(awards.offered(BOOK, "hn.ntl"))] == ["good_work", "unity"]


def test_the_form_becomes_the_services_body_attesting_only_the_chosen_awards_criteria() -> None:
    form = FormData(
        [("nominee_kind", "collective"), ("nominee_unit", "hn.ntl.fecon"), ("nominee_member", "m-1"),
         ("award_code", "co_ldld"), ("year", "2026"), ("summary", "Tốt"), ("campaign_id", ""),
         ("achievement_kind", "year"), ("achievement_ref", "2026"), ("achievement_summary", "Cả năm"),
         ("attested", "good_work"), ("attested", "unity")]
    )  # fmt: skip
    body = awards.proposal_body(form, BOOK)
    assert body["nominee"] == {"kind": "collective", "unit_path": "hn.ntl.fecon"}
    assert body["year"] == 2026 and "campaign_id" not in body  # blank: not given (the service says if needed)
    assert body["attested"] == ["unity"]  # good_work is not a criterion of the flag
    assert body["achievement"] == {"kind": "year", "ref": "2026", "summary": "Cả năm"}


def test_a_refused_vote_is_said_beside_the_vote_forms_own_fields() -> None:
    said = awards._said_on_action(
        Said(fields={"meeting.held_on": "late", "votes.0.votes_for": "too many", "proposal_ids.0": "gone"})
    )
    assert said.fields == {"held_on": "late", "votes_for": "too many"}
    assert said.general == ["gone"]


def test_an_award_refusal_is_said_in_vietnamese_with_its_params() -> None:
    problem = Problem(
        409,
        {"code": "award.publicity_not_over", "params": {"closes_on": "2026-11-20"}, "field": "meeting.held_on",
         "detail": "the list is public until 2026-11-20; the council meets after that"},
    )  # fmt: skip
    said = explain(problem)
    assert said.fields["meeting.held_on"] == "Danh sách công khai đến hết ngày 2026-11-20; Hội đồng họp sau ngày đó."


def test_the_public_feed_keeps_only_public_fields_and_leaves_out_revoked_awards() -> None:
    def data(award_id: str, status: str) -> dict:
        return {"data": {"award_id": award_id, "status": status, "nominee_name": "Phạm Thu Anh",
                         "unit_name": "Fecon", "unit_path": "hn.ntl.fecon", "award_name": "Giấy khen", "year": 2026,
                         "decision_number": "1/QĐ", "decided_on": "2026-11-30", "deciding_body": "BCH",
                         "achievement": "private detail", "nominee_kind": "individual"}}  # fmt: skip

    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        assert "authorization" not in request.headers  # the public feed is read without anyone's token
        return httpx.Response(200, json={"items": [data("a2", "revoked"), data("a1", "conferred"),
                                                   data("a2", "conferred")], "next": None})  # fmt: skip

    api = Platform(Topology({"awards": "http://awards"}, {}), PortalSettings(), transport=httpx.MockTransport(answer))
    found = asyncio.run(awards.conferred_feed(api, "hn"))
    assert [a["award_id"] for a in found] == ["a1"]
    assert "achievement" not in found[0] and "nominee_kind" not in found[0]
    assert seen[0].params["unit_path"] == "hn"


def test_what_a_person_types_stays_one_path_segment_of_the_service_url() -> None:
    assert awards.seg("abc?x=1/../../rulebook") == "abc%3Fx%3D1%2F..%2F..%2Frulebook"
    assert awards.seg("hn.ntl") == "hn.ntl"


def test_the_boards_list_form_is_one_publicity_or_one_meetings_votes_for_the_ticked_proposals() -> None:
    common = [("pick", "p1"), ("pick", "p2"), ("votes_for.p1", "9"), ("votes_for.p2", "4"), ("votes_against.p2", "5"),
              ("votes_for.p3", "9"), ("opens_on", ""), ("minutes_number", "12/BB"), ("members_total", "9")]  # fmt: skip
    path, body = awards.list_body(FormData([*common, ("do", "publicise")]))
    assert (path, body) == ("/publicity", {"proposal_ids": ["p1", "p2"]})
    path, body = awards.list_body(FormData([*common, ("do", "vote")]))
    assert path == "/votes" and body["meeting"] == {"minutes_number": "12/BB", "members_total": 9}
    assert body["votes"] == [
        {"proposal_id": "p1", "votes_for": 9, "votes_against": 0, "votes_abstain": 0},
        {"proposal_id": "p2", "votes_for": 4, "votes_against": 5, "votes_abstain": 0},
    ]  # p3 was not ticked


def test_a_refused_proposal_is_said_beside_the_forms_fields_and_what_no_field_shows_above_it() -> None:
    said = awards._said_on_form(
        Said(
            fields={
                "nominee.member_id": "choose",
                "evidence.0.file.sha256": "upload first",
                "nominee.kind": "bad",
                "summary": "required",
            }
        )
    )
    assert said.fields == {"nominee_member": "choose", "evidence": "upload first", "summary": "required"}
    assert said.general == ["bad"]
