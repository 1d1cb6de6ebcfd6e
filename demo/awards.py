"""The awards part of the demo city: last year's proposals in every state — one escalated from a grassroots
union to the city and decided there, one returned with reasons, one refused over quota before it left,
one objected to (objection upheld), one conferred then revoked — and others filed, public or passed.

Through the awards API with the platform admin's token, like any client. The year is last year, so every
date is in the past: the admin records a publicity window that ran then (``opens_on`` backdated, which
only the platform operator may do), then the votes held after it, the decisions and the revocation.
Deterministic; does nothing if the service holds proposals already.
"""

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import httpx

FECON, CEO, MARRIOTT, HANDICO, HOSPITAL = (
    "hn.ntl.fecon",
    "hn.ntl.ceo",
    "hn.ntl.jw-marriott",
    "hn.dd.handico",
    "hn.dd.bv-dong-da",
)
COPY_WAIT = 120.0  # seconds the service may take to copy the demo city from the directory's events
APPRAISAL = b"%PDF-1.4\n% Ban nhan xet danh gia nam\n%%EOF\n"


class Demo:
    def __init__(self, awards: httpx.AsyncClient, directory: httpx.AsyncClient, year: int) -> None:
        self.awards, self.directory, self.year = awards, directory, year
        self.day = date(year, 10, 6)  # the demo's calendar: October to December of last year

    def after(self, days: int) -> date:
        self.day += timedelta(days=days)
        return self.day

    async def ok(self, url: str, body: dict[str, Any], key: str, wait: float = 0) -> dict[str, Any]:
        """POST with a stable Idempotency-Key per step (an interrupted load resumes where it stopped);
        ``wait``: seconds to retry while the service's copy of the directory does not know a unit or person
        yet (it learns them from the directory's events)."""
        deadline = time.monotonic() + wait
        while True:
            response = await self.awards.post(url, json=body, headers={"Idempotency-Key": f"demo-awards-{key}"})
            if response.status_code in (200, 201):
                return response.json()
            if time.monotonic() > deadline or response.status_code not in (403, 404, 422):
                raise RuntimeError(f"{url}: {response.status_code} {response.text}")
            await asyncio.sleep(0.25)

    async def people(self, path: str, count: int) -> tuple[str, list[str]]:
        """The unit's id and some of its members who hold no office (direct workers)."""
        unit = (await self.directory.get(f"/units/by-path/{path}")).json()
        listing = (await self.directory.get(f"/units/{unit['unit_id']}/members", params={"limit": 100})).json()
        workers = [m["member_id"] for m in listing["items"] if not m.get("roles")]
        return unit["unit_id"], workers[:count]

    async def file(self, path: str, unit_id: str, member_id: str, code: str, summary: str, key: str) -> str:
        deadline = time.monotonic() + COPY_WAIT
        while True:
            upload = await self.awards.post(
                "/evidence",
                data={"unit_id": unit_id},
                files={"file": ("nhan-xet.pdf", APPRAISAL, "application/pdf")},
            )
            if upload.status_code in (200, 201):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"/evidence: {upload.status_code} {upload.text}")
            await asyncio.sleep(0.25)
        body = {
            "unit_path": path,
            "nominee": {"kind": "individual", "member_id": member_id},
            "award_code": code,
            "year": self.year,
            "achievement": {"kind": "year", "ref": str(self.year), "summary": summary},
            "summary": summary,
            "evidence": [{"kind": "appraisal", "file": {"sha256": upload.json()["sha256"]}}],
            "attested": ["good_work"],
        }
        return (await self.ok("/proposals", body, key, wait=COPY_WAIT))["proposal_id"]

    async def publicise(self, ids: list[str], key: str) -> None:
        await self.ok("/publicity", {"proposal_ids": ids, "opens_on": self.day.isoformat()}, key)

    async def vote(self, ids: list[str], minutes: str, key: str, total: int = 9) -> None:
        self.after(16)  # after the window (10 working days at most)
        meeting = {
            "minutes_number": minutes,
            "held_on": self.day.isoformat(),
            "place": "Hội trường",
            "chair": "Chủ tịch công đoàn",
            "secretary": "Ủy viên Ban Chấp hành",
            "members_total": total,
            "members_present": total,
        }
        votes = [{"proposal_id": p, "votes_for": total, "votes_against": 0, "votes_abstain": 0} for p in ids]
        await self.ok("/votes", {"meeting": meeting, "votes": votes}, key)
        self.after(1)

    async def escalate(self, ids: list[str], number: str, key: str) -> httpx.Response:
        body = {"proposal_ids": ids, "submission_number": number, "submitted_on": self.day.isoformat()}
        return await self.awards.post("/escalations", json=body, headers={"Idempotency-Key": f"demo-awards-{key}"})


async def load_awards(
    awards: httpx.AsyncClient, directory: httpx.AsyncClient, year: int | None = None
) -> dict[str, int]:
    """Walk the demo year's proposals; a no-op if the service holds proposals already.

    ``awards`` and ``directory``: clients of those services' APIs carrying the platform admin's token.
    """
    board = await awards.get("/board/hn")
    if board.status_code == 200 and board.json()["items"]:
        return {}
    demo = Demo(awards, directory, year or date.today().year - 1)
    units = {path: await demo.people(path, 3) for path in (FECON, CEO, MARRIOTT, HANDICO, HOSPITAL)}
    outcome: dict[str, int] = {}

    def count(state: str) -> None:
        outcome[state] = outcome.get(state, 0) + 1

    (fecon_id, fecon), (ceo_id, ceo) = units[FECON], units[CEO]
    (marriott_id, marriott), (handico_id, handico), (hospital_id, hospital) = (
        units[MARRIOTT],
        units[HANDICO],
        units[HOSPITAL],
    )

    # 1. From Fecon to the city: a Bằng khen of the city federation, escalated twice and decided there.
    city = await demo.file(
        FECON, fecon_id, fecon[0], "bk_ldld", "Hoàn thành xuất sắc nhiệm vụ; tác giả sáng kiến mã QR", "city"
    )
    for level, minutes, number in (("fecon", "12/BB-CĐCS", "15/TTr-CĐCS"), ("ntl", "31/BB-LĐLĐ", "42/TTr-LĐLĐ")):
        await demo.publicise([city], f"city-public-{level}")
        await demo.vote([city], minutes, f"city-vote-{level}")
        sent = await demo.escalate([city], number, f"city-send-{level}")
        assert sent.status_code == 200, sent.text
        await demo.ok(f"/proposals/{city}/accept", {}, f"city-accept-{level}")
    await demo.publicise([city], "city-public-hn")
    await demo.vote([city], "58/BB-LĐLĐ", "city-vote-hn", total=15)
    decision = {
        "proposal_ids": [city],
        "decision_number": "1205/QĐ-LĐLĐ",
        "decided_on": demo.day.isoformat(),
        "signer_name": "Phạm Quang Thanh",
        "signer_title": "TM. BAN THƯỜNG VỤ\nCHỦ TỊCH",
    }
    await demo.ok("/decisions", decision, "city-decide")
    count("conferred at the city")

    # 2. From CEO to Nam Từ Liêm: returned with reasons.
    returned = await demo.file(CEO, ceo_id, ceo[0], "gk_ctt", "Hoàn thành tốt nhiệm vụ trong năm", "returned")
    await demo.publicise([returned], "returned-public")
    await demo.vote([returned], "07/BB-CĐCS", "returned-vote")
    assert (await demo.escalate([returned], "09/TTr-CĐCS", "returned-send")).status_code == 200
    reasons = "Đề nghị bổ sung bản nhận xét của thủ trưởng đơn vị và số liệu minh chứng"
    await demo.ok(f"/proposals/{returned}/return", {"reasons": reasons}, "returned-return")
    count("returned")

    # 3. JW Marriott: a quota of one district Giấy khen; two together are refused before they leave.
    quota = {"unit_path": MARRIOTT, "year": demo.year, "award_code": "gk_ctt", "count": 1}
    await demo.ok("/quotas", quota, "quota")
    pair = [
        await demo.file(MARRIOTT, marriott_id, m, "gk_ctt", "Hoàn thành xuất sắc nhiệm vụ trong năm", f"quota-{i}")
        for i, m in enumerate(marriott[:2])
    ]
    await demo.publicise(pair, "quota-public")
    await demo.vote(pair, "11/BB-CĐCS", "quota-vote")
    refused = await demo.escalate(pair, "12/TTr-CĐCS", "quota-send-both")
    if refused.status_code == 409 and refused.json()["code"] == "award.quota_exceeded":
        count("refused over quota")
    assert (await demo.escalate(pair[:1], "12/TTr-CĐCS", "quota-send-one")).status_code == 200
    count("escalated")

    # 4. Bệnh viện Đống Đa: an objection during the publicity, upheld — the proposal stops.
    objected = await demo.file(
        HOSPITAL, hospital_id, hospital[0], "gk_cdcs", "Hoàn thành tốt nhiệm vụ trong năm", "objected"
    )
    await demo.publicise([objected], "objected-public")
    text = "Đồng chí chưa hoàn thành chỉ tiêu chuyên môn quý III theo báo cáo của khoa"
    await demo.ok(f"/proposals/{objected}/objections", {"text": text}, "objected-object")
    got = (await awards.get(f"/proposals/{objected}")).json()
    objection_id = got["objections"][0]["objection_id"]
    answer = {"answer": "Ban Chấp hành xác minh: phản ánh đúng", "upheld": True}
    await demo.ok(f"/proposals/{objected}/objections/{objection_id}/answer", answer, "objected-answer")
    count("objected to")

    # 5. Handico: a Giấy khen of the grassroots union, conferred, then revoked (a false declaration).
    revoked = await demo.file(
        HANDICO, handico_id, handico[0], "gk_cdcs", "Hoàn thành xuất sắc nhiệm vụ trong năm", "revoked"
    )
    await demo.publicise([revoked], "revoked-public")
    await demo.vote([revoked], "21/BB-CĐCS", "revoked-vote")
    decided = {
        "proposal_ids": [revoked],
        "decision_number": "05/QĐ-CĐCS",
        "decided_on": demo.day.isoformat(),
        "signer_name": "Chủ tịch Công đoàn",
        "signer_title": "TM. BAN CHẤP HÀNH\nCHỦ TỊCH",
    }
    await demo.ok("/decisions", decided, "revoked-decide")
    revoke = {
        "reason": "false_claims",
        "explanation": "Kê khai thành tích không đúng thực tế",
        "decision_number": "09/QĐ-CĐCS",
        "decided_on": demo.after(14).isoformat(),
        "signer_name": "Chủ tịch Công đoàn",
        "signer_title": "TM. BAN CHẤP HÀNH\nCHỦ TỊCH",
    }
    await demo.ok(f"/proposals/{revoked}/revoke", revoke, "revoked-revoke")
    count("revoked")

    # Others in the early states.
    await demo.file(FECON, fecon_id, fecon[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ trong năm", "filed")
    count("filed")
    public = await demo.file(CEO, ceo_id, ceo[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ trong năm", "public")
    await demo.publicise([public], "public-public")
    count("public")
    passed = await demo.file(HANDICO, handico_id, handico[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ trong năm", "passed")
    await demo.publicise([passed], "passed-public")
    await demo.vote([passed], "22/BB-CĐCS", "passed-vote")
    count("passed")
    return outcome
