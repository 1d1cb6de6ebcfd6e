"""The awards API: the whole flow in-process (facts fed as their consumer would), every refusal with its
status, field and code, documents and the public feeds."""

import io
import json
from datetime import timedelta
from xml.etree import ElementTree

import docx
import pypdf

from contracts.directory import UnitMovedIn, UnitMovedOut
from services.awards.application.reevaluation import reevaluate_dirty
from tests.awards.awards_api import AN, Api, Clock, facts, feed, initiative_events

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
YEAR = {"kind": "year", "ref": "2025", "summary": "Hoàn thành xuất sắc nhiệm vụ năm 2025"}


def ldtt(**overrides: object) -> dict:
    body = {
        "nominee": {"kind": "individual", "member_id": AN},
        "award_code": "ldtt",
        "year": 2025,
        "achievement": YEAR,
        "summary": "Hoàn thành tốt nhiệm vụ",
    }
    return body | overrides


async def _upload(api: Api, name: str, data: bytes, media_type: str) -> object:
    return await api.client.post(
        "/evidence",
        data={"unit_id": "u-hn-ntl-fecon"},
        files={"file": (name, data, media_type)},
        headers=await api.headers("hn.ntl.fecon", "executive_committee"),
    )


async def _to_city(api: Api, clock: Clock) -> str:
    """A CSTĐ thành phố proposal of Fecon: three CSTĐ cơ sở, a city-scope initiative, escalated twice."""
    for year in (2023, 2024, 2025):
        await api.past_award("cstd_cs", year)
    await facts(api.app, *initiative_events())
    upload = await _upload(api, "xac-nhan.pdf", PDF, "application/pdf")
    assert upload.status_code in (200, 201), upload.text
    evidence = [{"kind": "effect_certificate", "file": {"sha256": upload.json()["sha256"]}}]
    filed = await api.file(evidence=evidence)
    assert filed["eligibility"]["outcome"] == "met", filed["eligibility"]
    pid = filed["proposal_id"]
    await api.walk_level(pid, "hn.ntl.fecon", "executive_committee", clock, "05/BB-CĐCS")
    await api.escalate([pid], "hn.ntl.fecon", "executive_committee", "07/TTr-CĐCS")
    await api.ok(f"/proposals/{pid}/accept", None, "hn.ntl", "standing_committee")
    await api.walk_level(pid, "hn.ntl", "standing_committee", clock, "11/BB-LĐLĐ")
    await api.escalate([pid], "hn.ntl", "standing_committee", "15/TTr-LĐLĐ")
    await api.ok(f"/proposals/{pid}/accept", None, "hn", "standing_committee")
    await api.walk_level(pid, "hn", "standing_committee", clock, "20/BB-LĐLĐ")
    return pid


async def _decide(api: Api, clock: Clock, pid: str) -> dict:
    body = {
        "proposal_ids": [pid],
        "decision_number": "2150/QĐ-UBND",
        "decided_on": clock.today.isoformat(),
        "signer_name": "Trần Sỹ Thanh",
        "signer_title": "CHỦ TỊCH",
    }
    return await api.ok("/decisions", body, "hn", "standing_committee")


async def test_a_proposal_escalated_twice_is_conferred_at_the_city_with_documents_and_feeds(
    api: Api, clock: Clock
) -> None:
    pid = await _to_city(api, clock)
    (award,) = (await _decide(api, clock, pid))["proposals"]
    assert award["status"] == "conferred" and award["award_id"]
    got = (await api.get(f"/proposals/{pid}", "hn.ntl.fecon", "member")).json()
    assert [e["to_level"]["path"] for e in got["escalations"]] == ["hn.ntl", "hn"]
    # The read says where each level published it, and the decision that conferred it.
    windows = got["publicity"]
    assert [w["level"]["path"] for w in windows] == ["hn.ntl.fecon", "hn.ntl", "hn"]
    assert all(w["opens_on"] <= w["closes_on"] and w["working_days"] > 0 for w in windows)
    decision = got["decision"]
    assert (decision["number"], decision["level"]["path"], decision["award_id"]) == (
        "2150/QĐ-UBND",
        "hn",
        award["award_id"],
    )
    assert decision["rule_set"] and decision["amount_vnd"] > 0 and got["revocation"] is None
    radar = (await api.get("/radar/hn", "hn", "standing_committee", year=2025)).json()
    assert radar["by_deciding_level"] == {"city": {"direct_workers": 1, "officials": 0}}
    # The dossier Fecon sent, and the decision, read back with their Vietnamese intact.
    headers = await api.headers("hn.ntl", "standing_committee")
    word = await api.client.get("/submissions/u-hn-ntl-fecon/07/TTr-CĐCS/dossier", headers=headers)
    assert word.status_code == 200, word.text
    text = " ".join(p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs)
    assert "TỜ TRÌNH" in text and "Danh hiệu Chiến sĩ thi đua thành phố" in text
    headers = await api.headers("hn", "chair")
    pdf = await api.client.get("/decisions/u-hn/2150/QĐ-UBND/document", params={"format": "pdf"}, headers=headers)
    assert pdf.status_code == 200, pdf.text
    pages = " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Nguyễn Văn An" in pages and "Chiến sĩ thi đua thành phố" in pages
    # The public feeds, without a token.
    listing = (await api.client.get("/public/awards")).json()
    assert listing["items"][0]["type"] == "vn.thidua.awards.award.conferred.v1"
    assert listing["items"][0]["data"]["nominee_name"] == "Nguyễn Văn An"
    feed_json = await api.client.get("/public/awards/feed.json")
    assert feed_json.headers["content-type"].startswith("application/feed+json")
    assert feed_json.json()["version"] == "https://jsonfeed.org/version/1.1" and feed_json.json()["items"][0]["id"]
    atom = await api.client.get("/public/awards/feed.atom")
    root = ElementTree.fromstring(atom.content)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 1


async def test_revocation_flags_the_streak_that_rested_on_it(api: Api, clock: Clock) -> None:
    await api.past_award("cstd_tinh", 2024)
    pid = await _to_city(api, clock)
    decided = (await _decide(api, clock, pid))["proposals"][0]
    assert decided["status"] == "conferred"
    award_id = decided["award_id"]
    conferred = (await api.client.get(f"/public/awards/{award_id}")).json()  # no token: the public record
    assert (conferred["status"], [i["data"]["status"] for i in conferred["items"]]) == ("conferred", ["conferred"])
    national = await api.file("cstd_tq", justification="Sáng kiến đang được đề nghị công nhận toàn quốc")
    streak = next(c for c in national["eligibility"]["criteria"] if c["code"] == "two_cstd_tinh")
    assert streak["outcome"] == "met"
    body = {
        "reason": "forged_evidence",
        "explanation": "Giấy xác nhận không đúng",
        "decision_number": "30/QĐ-UBND",
        "decided_on": (clock.today + timedelta(days=30)).isoformat(),
        "signer_name": "Trần Sỹ Thanh",
        "signer_title": "CHỦ TỊCH",
    }
    assert (await api.ok(f"/proposals/{pid}/revoke", body, "hn", "standing_committee"))["status"] == "revoked"
    revocation = (await api.get(f"/proposals/{pid}", "hn", "standing_committee")).json()["revocation"]
    assert (revocation["number"], revocation["reason"]) == ("30/QĐ-UBND", "forged_evidence")
    await reevaluate_dirty(api.app.state.deps)
    again = (await api.get(f"/proposals/{national['proposal_id']}", "hn.ntl.fecon", "member")).json()
    assert again["flagged"] is True
    streak = next(c for c in again["eligibility"]["criteria"] if c["code"] == "two_cstd_tinh")
    assert streak["outcome"] == "not_met" and "revoked in 2025" in streak["reason"]
    statuses = [i["data"]["status"] for i in (await api.client.get("/public/awards")).json()["items"]]
    assert statuses == ["revoked", "conferred"]
    one = (await api.client.get(f"/public/awards/{award_id}")).json()
    assert one["award_id"] == award_id and one["status"] == "revoked"
    assert [i["data"]["status"] for i in one["items"]] == ["revoked", "conferred"]
    assert all(i["subject"] == award_id for i in one["items"])
    unknown = await api.client.get("/public/awards/a-none")
    assert unknown.status_code == 404 and unknown.json()["code"] == "award.not_public"
    too_long = await api.client.get("/public/awards/" + "a" * 65)
    assert too_long.status_code == 422 and too_long.json()["field"] == "award_id"


async def test_a_signers_title_keeps_its_lines_at_most_three_into_the_decision(api: Api, clock: Clock) -> None:
    """Decree 30's signature block: TM. (on behalf of the body), KT. (for the chair), then the title."""
    pid = await _to_city(api, clock)
    body = {
        "proposal_ids": [pid], "decision_number": "2150/QĐ-UBND", "decided_on": clock.today.isoformat(),
        "signer_name": "Trần Sỹ Thanh", "signer_title": "TM. BAN THƯỜNG VỤ\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\nTHƯỜNG TRỰC",
    }  # fmt: skip
    four = await api.post("/decisions", body, "hn", "standing_committee")
    assert four.status_code == 422, four.text
    (error,) = four.json()["errors"]
    assert (error["field"], error["code"], error["params"]) == ("signer_title", "too_many_lines", {"max_lines": 3})
    assert "at most 3 lines" in error["message"]
    body["signer_title"] = " TM. BAN THƯỜNG VỤ\r\n\r\n  KT. CHỦ TỊCH \r\nPHÓ CHỦ TỊCH"
    (award,) = (await api.ok("/decisions", body, "hn", "standing_committee"))["proposals"]
    assert award["status"] == "conferred"
    got = (await api.get(f"/proposals/{pid}", "hn", "chair")).json()
    assert got["decision"]["signer_title"] == "TM. BAN THƯỜNG VỤ\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    headers = await api.headers("hn", "chair")
    word = await api.client.get("/decisions/u-hn/2150/QĐ-UBND/document", headers=headers)
    assert word.status_code == 200, word.text
    document = docx.Document(io.BytesIO(word.content))
    cells = [p for t in document.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    lines = [line.strip() for p in [*document.paragraphs, *cells] for line in p.text.split("\n")]
    at = lines.index("TM. BAN THƯỜNG VỤ")  # the signature block prints each line of the title on its own
    assert lines[at + 1 : at + 3] == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


async def test_refusals_name_the_field_and_the_code(api: Api, clock: Clock) -> None:
    await facts(api.app, *initiative_events())
    fecon = ("hn.ntl.fecon", "executive_committee")
    bad = await api.post("/proposals", ldtt(year=1999, summary="\u200b \u200b"), *fecon)
    assert bad.status_code == 422
    fields = {e["field"]: e["code"] for e in bad.json()["errors"]}
    assert fields["year"] == "greater_than_equal" and fields["summary"] == "text_blank"
    raw = (
        b'{"meeting": {"minutes_number": "1", "held_on": "2025-11-01", "place": "x", "chair": "x", '
        b'"secretary": "x", "members_total": NaN, "members_present": 1}, "votes": []}'
    )
    headers = {**await api.headers(*fecon), "Content-Type": "application/json"}
    nan = await api.client.post("/votes", content=raw, headers=headers)
    assert nan.status_code == 422 and "members_total" in nan.text
    mislabelled = await _upload(api, "anh.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "application/pdf")
    assert mislabelled.status_code == 422 and mislabelled.json()["field"] == "file"
    evidence = [{"kind": "appraisal", "file": {"sha256": "a" * 64}}]
    unknown_file = await api.post("/proposals", ldtt(evidence=evidence), *fecon)
    assert unknown_file.status_code == 422 and unknown_file.json()["code"] == "award.evidence_not_found"
    assert unknown_file.json()["field"] == "evidence.0.file.sha256"
    member = await api.post("/proposals", ldtt(), "hn.ntl.fecon", "member")
    assert member.status_code == 403 and member.json()["code"] == "award.role_required"
    pid = (await api.file("ldtt", achievement=YEAR))["proposal_id"]
    twice = await api.post("/proposals", ldtt(summary="Lần hai"), *fecon)
    assert twice.status_code == 409 and twice.json()["code"] == "award.achievement_already_proposed"
    assert twice.json()["params"]["earlier_proposal_id"] == pid
    early = await api.post("/escalations", {"proposal_ids": [pid], "submission_number": "1/TTr"}, *fecon)
    assert early.status_code == 409 and early.json()["allowed_next"] == ["publicise", "vote", "withdraw"]
    assert (await api.get(f"/proposals/{pid}", "hn.dd", "standing_committee")).status_code == 404
    backdated = await api.post("/publicity", {"proposal_ids": [pid], "opens_on": "2025-01-02"}, *fecon)
    assert backdated.status_code == 422 and backdated.json()["field"] == "opens_on"


async def _passed(api: Api, clock: Clock, refs: list[str]) -> list[str]:
    ids = []
    for ref in refs:
        achievement = {"kind": "initiative", "ref": ref, "summary": f"Sáng kiến {ref}"}
        p = await api.file("gk_ctt", attested=["good_work"], achievement=achievement, justification="Đang bổ sung")
        ids.append(p["proposal_id"])
    await api.publicise(ids, "hn.ntl.fecon", "executive_committee")
    clock.advance(10)
    await api.vote(ids, "hn.ntl.fecon", "executive_committee", clock.today - timedelta(days=1))
    return ids


async def test_over_quota_is_refused_before_it_leaves_saying_how_many_remain(api: Api, clock: Clock) -> None:
    await facts(api.app, *initiative_events(), *initiative_events("i-2"))
    quota = {"unit_path": "hn.ntl.fecon", "year": 2025, "award_code": "gk_ctt", "count": 1}
    await api.ok("/quotas", quota, "hn.ntl", "standing_committee")
    ids = await _passed(api, clock, ["i-qr", "i-2"])
    fecon = ("hn.ntl.fecon", "executive_committee")
    over = await api.post("/escalations", {"proposal_ids": ids, "submission_number": "3/TTr"}, *fecon)
    assert over.status_code == 409 and over.json()["code"] == "award.quota_exceeded"
    assert over.json()["params"]["remaining"] == 1 and "1 remain" in over.json()["detail"]
    assert (await api.escalate(ids[:1], *fecon, "3/TTr"))["proposals"][0]["status"] == "escalated"
    wrong = await api.post(f"/proposals/{ids[0]}/accept", None, "hn", "standing_committee")
    assert wrong.status_code == 403 and wrong.json()["code"] == "award.not_your_level"
    returned = await api.ok(
        f"/proposals/{ids[0]}/return", {"reasons": "Bổ sung nhận xét"}, "hn.ntl", "standing_committee"
    )
    assert returned["status"] == "returned"
    again = await api.escalate(ids[1:], *fecon, "4/TTr")  # the returned one gave its place back
    assert again["proposals"][0]["status"] == "escalated"


async def test_a_unit_that_moves_while_its_proposal_waits_upward_strands_nothing(api: Api, clock: Clock) -> None:
    await facts(api.app, *initiative_events())
    (pid,) = await _passed(api, clock, ["i-qr"])
    await api.escalate([pid], "hn.ntl.fecon", "executive_committee", "9/TTr")
    move = {
        "unit_id": "u-hn-ntl-fecon",
        "from_path": "hn.ntl.fecon",
        "to_path": "hn.dd.fecon",
        "old_parent_id": "u-hn-ntl",
        "new_parent_id": "u-hn-dd",
        "previous_paths": ("hn.ntl.fecon",),
    }
    await feed(api.app.state.directory, [(UnitMovedOut(**move), "hn.ntl.fecon"), (UnitMovedIn(**move), "hn.dd.fecon")])
    old = await api.post(f"/proposals/{pid}/accept", None, "hn.ntl", "standing_committee")
    assert old.status_code == 403  # the request follows its unit: Nam Từ Liêm is no longer above it
    taken = await api.ok(f"/proposals/{pid}/accept", None, "hn.dd", "standing_committee")
    assert taken["level"]["path"] == "hn.dd" and taken["status"] == "accepted"
    board = (await api.get("/board/hn.dd", "hn.dd", "standing_committee")).json()
    assert [i["proposal_id"] for i in board["items"]] == [pid] and board["items"][0]["unit_path"] == "hn.dd.fecon"


async def test_a_published_rule_sets_texts_are_the_shared_hardened_text(api: Api) -> None:
    from services.awards.domain.catalogue import builtin_rulebook

    current = next(iter(builtin_rulebook().families["union"]))
    rule_set = current.model_dump(mode="json") | {"version": "union@2026-01-01", "effective_from": "2026-01-01"}
    criterion = "rule_set.awards.0.criteria.0.label"

    def with_label(label: str) -> dict:
        awards = [dict(a) for a in rule_set["awards"]]
        awards[0] = awards[0] | {"criteria": [awards[0]["criteria"][0] | {"label": label}, *awards[0]["criteria"][1:]]}
        return {"rule_set": rule_set | {"awards": awards}}

    for label, code in [("\u200b \u2060", "text_blank"), ("x" * 301, "string_too_long")]:
        refused = await api.post("/rulebook/rule-sets", with_label(label), "hn", "standing_committee")
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["errors"][0]["code"]) == (criterion, code)
    long_title = await api.post("/rulebook/rule-sets", {"rule_set": rule_set | {"title": "t" * 301}}, "hn", "chair")
    assert long_title.status_code == 422 and long_title.json()["field"] == "rule_set.title"
    published = await api.ok("/rulebook/rule-sets", with_label("Hoàn\u200b thành  tốt"), "hn", "standing_committee")
    assert published["version"] == "union@2026-01-01"
    book = (await api.get("/rulebook", "hn", "standing_committee")).json()
    labels = json.dumps(book, ensure_ascii=False)
    assert "Hoàn thành tốt" in labels and "\u200b" not in labels
