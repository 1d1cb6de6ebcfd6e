"""The inspections part of the demo city: the half-year self-inspection round the city opened in June,
most checklists submitted (two late, one amended with its reason), three never submitted and so overdue,
four self-assessments the facts contradict; two upper-level inspections — Nam Từ Liêm's of the units its
radar proposed, the city's of a reproducible random sample under its yearly plan — with findings and
corrective actions in every state (open, fix reported, verified, reopened, overdue); last year's
grades, self-assessed and confirmed or changed by the parent level; and, for the radar's awards signal,
a grassroots union whose last year's awards went to its officials (through the awards API).

Through the inspections API with the platform admin's token, like any client. The round ran months ago,
so the operator enters it as it happened on paper: the opening, the submissions and the early actions
carry their own past day (``opened_on``, ``submitted_on``, ``assigned_on``, which only the platform
operator may give). Lateness is never entered: the service's overdue check finds the checklists nobody
submitted, and an action's due date passing makes it overdue. Deterministic; does nothing if the round is
there already; every step's Idempotency-Key is stable, so an interrupted load resumes.
"""

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import httpx

from demo.awards import Demo as AwardsDemo
from demo.city import CITY

COPY_WAIT = 180.0  # seconds the service may take to copy the city, the campaign and the initiatives
NEVER_SUBMITTED = ("hn.ntl.chi-cuc-thue", "hn.dd.ttbdct", "hn.gl.ttyt-gia-lam")
LATE = {"hn.cdvc.so-noi-vu": 9, "hn.xd.vlxd": 4}  # days after the due date they submitted
CLAIM_ALL_DONE = ("hn.ntl.ceo", "hn.dd.handico", "hn.gl.thanh-hung", "hn.xd.nha-ha-noi")  # the facts disagree
AMENDED = "hn.ntl.jw-marriott"
TO_OFFICIALS = "hn.gl.bv-gia-lam"  # its Giấy khen of last year went to its chair and an executive
FECON = "hn.ntl.fecon"
MINUTES = b"%PDF-1.4\n% Bien ban tu kiem tra 6 thang dau nam\n%%EOF\n"
# Last year's grading: (union, union type, points per indicator, the parent's change or None). The unions
# are older than the demo's directory, which knows them from their registration today: the operator enters
# each one's founding date (FOUNDED) with its grading, and the service counts the months from it.
ENTERPRISE = {
    "collective_agreement": 14, "workplace_dialogue": 9, "wages_safety": 14, "welfare": 9, "membership": 9,
    "executive_activity": 9, "finance": 10, "reporting": 5, "propaganda": 7, "emulation": 7,
}  # fmt: skip
PUBLIC = {
    "democracy": 13, "policies": 12, "welfare": 12, "membership": 8, "executive_activity": 8, "finance": 8,
    "reporting": 4, "propaganda": 8, "emulation": 7,
}  # fmt: skip
GRADES: list[tuple[str, str, dict[str, int], str | None]] = [
    (FECON, "enterprise", ENTERPRISE, None),
    ("hn.ntl.ceo", "enterprise", {**ENTERPRISE, "collective_agreement": 10, "wages_safety": 10}, None),
    ("hn.ntl.jw-marriott", "enterprise", {**ENTERPRISE, "welfare": 10}, None),
    ("hn.dd.handico", "enterprise", ENTERPRISE, "good"),  # the district lowers it: see REASON
    ("hn.ntl.mn-trung-van", "public_sector", PUBLIC, None),
    ("hn.dd.bv-dong-da", "public_sector", {**PUBLIC, "finance": 4, "reporting": 2, "democracy": 8}, None),
]
FOUNDED = {
    FECON: "2008-04-10", "hn.ntl.ceo": "2009-09-15", "hn.ntl.jw-marriott": "2012-12-01",
    "hn.dd.handico": "2005-06-20", "hn.ntl.mn-trung-van": "2011-08-30", "hn.dd.bv-dong-da": "2003-03-26",
}  # fmt: skip
REASON = "Kết quả kiểm tra tài chính quý IV cho thấy chứng từ chi chưa đầy đủ; xếp loại hoàn thành tốt nhiệm vụ"


def round_year(today: date) -> int:
    """The year whose half-year round and inspections have all run by ``today`` (their last day entered is
    15 October): this year's from November, last year's before (its checklists then list no commitment of
    this year's campaign; the contradictions are the initiatives claimed applied)."""
    return today.year if today >= date(today.year, 11, 1) else today.year - 1


class Demo:
    def __init__(self, inspections: httpx.AsyncClient, directory: httpx.AsyncClient, today: date) -> None:
        self.api, self.directory, self.today = inspections, directory, today
        self.year = round_year(today)
        self.outcome: dict[str, int] = {}

    def count(self, what: str, n: int = 1) -> None:
        self.outcome[what] = self.outcome.get(what, 0) + n

    def day(self, month: int, day: int) -> str:
        return date(self.year, month, day).isoformat()

    def later(self, days: int) -> str:
        return (self.today + timedelta(days=days)).isoformat()

    async def post(self, url: str, body: dict[str, Any], key: str, wait: float = 0) -> httpx.Response:
        """POST with a stable Idempotency-Key; ``wait``: seconds to retry while the service's copies of the
        directory and the facts have not caught up (a 404 or 422 naming what it does not know yet)."""
        deadline = time.monotonic() + wait
        while True:
            response = await self.api.post(url, json=body, headers={"Idempotency-Key": f"demo-inspections-{key}"})
            if response.status_code in (200, 201) or time.monotonic() > deadline:
                return response
            if response.status_code not in (403, 404, 422):
                return response
            await asyncio.sleep(0.5)

    async def ok(self, url: str, body: dict[str, Any], key: str, wait: float = 0) -> dict[str, Any]:
        response = await self.post(url, body, key, wait)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST {url}: {response.status_code} {response.text}")
        return response.json()

    async def unit(self, path: str) -> dict[str, Any]:
        found = await self.directory.get(f"/units/by-path/{path}")
        found.raise_for_status()
        return found.json()

    async def officials(self, unit_id: str, roles: tuple[str, ...]) -> list[str]:
        listing = await self.directory.get(f"/units/{unit_id}/members", params={"limit": 500})
        listing.raise_for_status()
        return [m["member_id"] for m in listing.json()["items"] if set(m["roles"]) & set(roles)]

    async def caught_up(self, seconds: float = 3.0) -> None:
        """Until the service's consumers (its copy of the directory and of the facts) have applied
        everything published and stayed so for ``seconds`` (no consumers without NATS: at once)."""
        deadline, steady_since, last = time.monotonic() + COPY_WAIT, time.monotonic(), None
        while time.monotonic() < deadline:
            consumers = (await self.api.get("/health")).json().get("consumers", [])
            state = [(c.get("applied"), c.get("pending"), c.get("caught_up")) for c in consumers]
            settled = all(pending == 0 and caught for _, pending, caught in state)
            if not settled or state != last:
                steady_since, last = time.monotonic(), state
            elif time.monotonic() - steady_since >= seconds:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError("the inspections service did not catch up with the platform's events")

    async def upload(self, unit_id: str, name: str, content: bytes) -> dict[str, Any]:
        found = await self.api.post(
            "/evidence", data={"unit_id": unit_id}, files={"file": (name, content, "application/pdf")}
        )
        if found.status_code not in (200, 201):
            raise RuntimeError(f"/evidence: {found.status_code} {found.text}")
        return {"sha256": found.json()["sha256"]}


def _answers(checklist: dict[str, Any], claim_all: bool, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each item answered as the unit sees it: done where the facts bear it out (with evidence), partly
    or not done where they do not — or, for a unit claiming everything, done throughout."""
    answers = []
    for item in checklist["items"]:
        now = item["now"]
        if item["kind"] == "commitment":
            measured, target = now["measured"], now["target"]
            if claim_all or measured >= target:
                answer = "done"
            else:
                answer = "partly" if measured > 0 else "not_done"
            comment = f"Đạt {measured:g}/{target:g} {now['unit_of_measure']}"
            text = f"Báo cáo sơ kết 6 tháng: {measured:g} {now['unit_of_measure']}"
        else:
            answer = "done" if claim_all or now["applied_on"] else "not_done"
            comment = "Đã áp dụng tại đơn vị" if answer == "done" else "Chưa triển khai áp dụng"
            text = f"Biên bản nghiệm thu áp dụng sáng kiến: {now['title']}"
        evidence: dict[str, Any] = {}
        if answer != "not_done":
            evidence = {"text": text, "files": files if item["kind"] == "commitment" else []}
        answers.append({"item": item["key"], "answer": answer, "comment": comment, "evidence": evidence})
    return answers


async def _round(demo: Demo, city: dict[str, Any], grassroots: list[dict[str, Any]]) -> str:
    opened = await demo.ok(
        "/rounds",
        {
            "level_unit_id": city["unit_id"],
            "year": demo.year,
            "period": "half_year",
            "title": f"Tự kiểm tra việc thực hiện giao ước thi đua 6 tháng đầu năm {demo.year}",
            "due_on": demo.day(7, 15),
            "opened_on": demo.day(6, 15),
        },
        "round",
        wait=COPY_WAIT,
    )
    demo.count("checklists issued", opened["unit_count"])
    for index, unit in enumerate(grassroots):
        path = unit["path"]
        if path in NEVER_SUBMITTED:
            continue
        cid = f"{unit['unit_id']}-{demo.year}-half_year"
        checklist = (await demo.api.get(f"/checklists/{cid}")).json()
        files = [await demo.upload(unit["unit_id"], "bien-ban-tu-kiem-tra.pdf", MINUTES)] if path == FECON else []
        answers = _answers(checklist, path in CLAIM_ALL_DONE, files)
        late = LATE.get(path)
        submitted_on = date(demo.year, 7, 15) + timedelta(days=late) if late else date(demo.year, 7, 1 + index % 14)
        findings = ["Một số chỉ tiêu đăng ký chưa sát thực tế của đơn vị"] if index % 3 == 0 else []
        body = {"answers": answers, "findings": findings, "submitted_on": submitted_on.isoformat()}
        sent = await demo.ok(f"/checklists/{cid}/submit", body, f"submit-{path}")
        demo.count("submitted late" if late else "submitted on time")
        if sent["contradictions"]:
            demo.count("contradicted by the facts")
        if path == AMENDED and answers:
            first = {**answers[0], "answer": "not_done", "evidence": {}, "comment": "Số liệu đã rà soát lại"}
            reason = "Rà soát lại số liệu sau hội nghị Ban Chấp hành: chỉ tiêu chưa đạt"
            await demo.ok(f"/checklists/{cid}/amend", {"reason": reason, "answers": [first]}, f"amend-{path}")
            demo.count("amended with a reason")
    checked = await demo.ok(f"/rounds/{opened['round_id']}/overdue-check", {}, "overdue-check")
    demo.count("overdue", checked["overdue_recorded"])
    return str(opened["round_id"])


async def _inspect(
    demo: Demo, inspection: dict[str, Any], dates: tuple[str, str, str], numbers: tuple[str, str], key: str
) -> str:
    iid = inspection["inspection_id"]
    notice = {"number": numbers[0], "issued_on": dates[0], "starts_on": dates[2]}
    await demo.ok(f"/inspections/{iid}/notice", notice, f"{key}-notice")
    await demo.ok(f"/inspections/{iid}/decision", {"number": numbers[1], "decided_on": dates[1]}, f"{key}-decision")
    demo.count("inspections")
    return str(iid)


async def _action(
    demo: Demo, iid: str, unit_id: str, finding: str, spec: dict[str, Any], key: str, state: str
) -> dict[str, Any]:
    base = f"/inspections/{iid}/units/{unit_id}/actions"
    action = await demo.ok(base, {"finding_id": finding, **spec}, f"{key}-action")
    fix = {"description": "Đã bổ sung hồ sơ, chứng từ theo kiến nghị", "evidence": {"text": "Biên bản khắc phục"}}
    if state in ("fix_reported", "verified", "reopened"):
        await demo.ok(f"{base}/{action['action_id']}/fix", fix, f"{key}-fix")
    if state == "verified":
        await demo.ok(f"{base}/{action['action_id']}/verify", {"note": "Đã kiểm tra hồ sơ"}, f"{key}-verify")
    if state == "reopened":
        reopen = {"reason": "Hồ sơ bổ sung chưa có chữ ký của Ban Chấp hành", "due_on": demo.later(30)}
        await demo.ok(f"{base}/{action['action_id']}/reopen", reopen, f"{key}-reopen")
    demo.count(f"actions {state}")
    return action


async def _finding(demo: Demo, iid: str, unit_id: str, severity: str, text: str, key: str) -> str:
    body = {
        "severity": severity,
        "description": text,
        "recommendation": "Khắc phục, báo cáo kết quả về Ủy ban Kiểm tra",
        "evidence": {"text": "Biên bản kiểm tra"},
    }
    found = await demo.ok(f"/inspections/{iid}/units/{unit_id}/findings", body, f"{key}-finding")
    demo.count("findings")
    return str(found["finding_id"])


async def _district_inspection(demo: Demo, district: dict[str, Any]) -> None:
    """Nam Từ Liêm inspects the units its radar proposes (the overdue and contradicted ones first)."""
    team = (await demo.officials(district["unit_id"], ("chair", "standing_committee", "inspection_committee")))[:3]
    query = {"by_unit_id": district["unit_id"], "method": "risk", "size": 2}
    deadline = time.monotonic() + COPY_WAIT
    while not (await demo.api.get("/proposals", params=query)).json()["units"]:  # its own events come back
        if time.monotonic() > deadline:
            raise RuntimeError("the radar proposed no unit of Nam Từ Liêm")
        await asyncio.sleep(0.5)
    body = {
        "by_unit_id": district["unit_id"],
        "purpose": "Kiểm tra việc thực hiện giao ước thi đua của các công đoàn cơ sở có dấu hiệu hình thức",
        "content": "pledge_fulfilment",
        "period_from": demo.day(1, 1),
        "period_to": demo.day(6, 30),
        "team": team,
        "selection": {"method": "risk", "size": 2},
    }
    inspection = await demo.ok("/inspections", body, "district-schedule")
    dates = (demo.day(8, 4), demo.day(8, 8), demo.day(8, 11))
    iid = await _inspect(demo, inspection, dates, ("21/TB-UBKT", "22/QĐ-UBKT"), "district")
    first, second = (u["unit_id"] for u in inspection["units"][:2])
    late = await _finding(
        demo, iid, first, "serious", "Không tổ chức tự kiểm tra 6 tháng, không báo cáo cấp trên", "district-1"
    )
    spec = {"description": "Tổ chức tự kiểm tra, gửi báo cáo", "owner": "Ban Chấp hành công đoàn cơ sở"}
    await _action(demo, iid, first, late, {**spec, "due_on": demo.day(9, 30), "assigned_on": demo.day(8, 20)},
                  "district-1a", "overdue")  # fmt: skip
    await _action(demo, iid, first, late, {**spec, "due_on": demo.later(20), "description": "Rà soát chỉ tiêu"},
                  "district-1b", "fix_reported")  # fmt: skip
    claimed = await _finding(
        demo, iid, second, "moderate", "Tự đánh giá hoàn thành trong khi số liệu chưa đạt chỉ tiêu", "district-2"
    )
    await _action(demo, iid, second, claimed, {**spec, "description": "Đánh giá lại theo số liệu",
                  "due_on": demo.later(15)}, "district-2a", "verified")  # fmt: skip


async def _city_inspection(demo: Demo, city: dict[str, Any]) -> None:
    """The city's inspection committee: a yearly plan, and a reproducible random sample under it."""
    team = (await demo.officials(city["unit_id"], ("chair", "standing_committee", "inspection_committee")))[:3]
    plan = {
        "unit_id": city["unit_id"],
        "year": demo.year,
        "programme": "year",
        "title": f"Kế hoạch kiểm tra, giám sát năm {demo.year}",
        "items": [
            {"content": "charter_compliance", "purpose": "Chấp hành Điều lệ Công đoàn", "from_month": 8,
             "to_month": 10, "units_planned": 3},
            {"content": "finance", "purpose": "Quản lý tài chính, tài sản công đoàn", "from_month": 10,
             "to_month": 12, "units_planned": 2},
        ],
    }  # fmt: skip
    adopted = await demo.ok("/plans", plan, "city-plan")
    body = {
        "by_unit_id": city["unit_id"],
        "purpose": "Kiểm tra việc chấp hành Điều lệ Công đoàn Việt Nam",
        "content": "charter_compliance",
        "period_from": date(demo.year - 1, 7, 1).isoformat(),
        "period_to": demo.day(6, 30),
        "plan_id": adopted.get("plan_id"),
        "team": team,
        "selection": {"method": "random", "seed": 18_2024, "size": 3},
    }
    inspection = await demo.ok("/inspections", body, "city-schedule")
    dates = (demo.day(8, 25), demo.day(9, 1), demo.day(9, 3))
    iid = await _inspect(demo, inspection, dates, ("35/TB-UBKT", "36/QĐ-UBKT"), "city")
    units = [u["unit_id"] for u in inspection["units"]]
    spec = {"description": "Bổ sung sổ sách theo quy định", "owner": "Chủ tịch công đoàn cơ sở"}
    found = await _finding(demo, iid, units[0], "minor", "Sổ ghi biên bản họp Ban Chấp hành ghi chưa đầy đủ", "city-1")
    await _action(demo, iid, units[0], found, {**spec, "due_on": demo.later(45)}, "city-1a", "open")
    found = await _finding(demo, iid, units[1], "moderate", "Chưa ban hành quy chế hoạt động nhiệm kỳ mới", "city-2")
    await _action(demo, iid, units[1], found, {**spec, "due_on": demo.later(10), "description": "Ban hành quy chế"},
                  "city-2a", "reopened")  # fmt: skip
    found = await _finding(demo, iid, units[2], "serious", "Chưa tổ chức hội nghị giữa nhiệm kỳ", "city-3")
    await _action(demo, iid, units[2], found, {**spec, "due_on": demo.day(10, 15), "assigned_on": demo.day(9, 10)},
                  "city-3a", "overdue")  # fmt: skip


async def _grades(demo: Demo) -> None:
    """Last year's grades, entered as they were made: each union's own scoring (with its founding date), then
    its parent's confirmation, or its change with a reason. Were a union too young, the refusal is counted."""
    year = demo.today.year - 1
    for path, union_type, scores, changed in GRADES:
        unit = await demo.unit(path)
        body = {
            "unit_id": unit["unit_id"], "year": year, "union_type": union_type, "scores": scores,
            "founded_on": FOUNDED[path],
        }  # fmt: skip
        graded = await demo.post("/grades", body, f"grade-{path}")
        if graded.status_code == 409 and graded.json().get("code") == "grading.not_eligible":
            demo.count("grades refused: not operating long enough")  # never, with the founding dates
            continue
        if graded.status_code not in (200, 201):
            raise RuntimeError(f"POST /grades: {graded.status_code} {graded.text}")
        confirm: dict[str, Any] = {"grade": changed, "reason": REASON} if changed else {}
        await demo.ok(f"/grades/{unit['unit_id']}/{year}/confirm", confirm, f"confirm-{path}")
        demo.count("grades changed by the parent" if changed else "grades confirmed")


async def _awards_to_officials(demo: Demo, awards: httpx.AsyncClient) -> None:
    """Two Giấy khen of a grassroots union, last year, both to officials: the radar's awards signal (the
    awards service says who held an office; the inspections projection counts the share)."""
    year = demo.today.year - 1
    filing = AwardsDemo(awards, demo.directory, year)
    filing.day = date(year, 11, 2)
    unit = await demo.unit(TO_OFFICIALS)
    officials = (await demo.officials(unit["unit_id"], ("chair", "executive_committee")))[:2]
    summary = "Hoàn thành xuất sắc nhiệm vụ trong năm"
    ids = [
        await filing.file(TO_OFFICIALS, unit["unit_id"], member, "gk_cdcs", summary, f"officials-{n}")
        for n, member in enumerate(officials)
    ]
    await filing.publicise(ids, "officials-public")
    await filing.vote(ids, "17/BB-CĐCS", "officials-vote")
    decision = {
        "proposal_ids": ids,
        "decision_number": "19/QĐ-CĐCS",
        "decided_on": filing.day.isoformat(),
        "signer_name": "Chủ tịch Công đoàn",
        "signer_title": "TM. BAN CHẤP HÀNH\nCHỦ TỊCH",
    }
    await filing.ok("/decisions", decision, "officials-decide")
    demo.count("awards to officials", len(ids))


async def load_inspections(
    inspections: httpx.AsyncClient,
    directory: httpx.AsyncClient,
    today: date | None = None,
    awards: httpx.AsyncClient | None = None,
) -> dict[str, int]:
    """The round, the two inspections and last year's grades (and, given the awards service, the awards
    that feed the radar's awards signal); a no-op if the round is there already.

    ``inspections``, ``directory``, ``awards``: clients of those services' APIs carrying the platform
    admin's token. Call it after the city, its campaign and its initiatives are loaded: checklists are
    pre-filled from them.
    """
    demo = Demo(inspections, directory, today or date.today())
    city = await demo.unit(CITY[0])
    subtree = (await directory.get(f"/units/{city['unit_id']}/subtree")).json()["units"]
    grassroots = sorted((u for u in subtree if u["kind"] == "grassroots_union"), key=lambda u: u["path"])
    probe = await inspections.get(f"/checklists/{grassroots[0]['unit_id']}-{demo.year}-half_year")
    if probe.status_code == 200:
        return {}
    await demo.caught_up()
    await _round(demo, city, grassroots)
    await _district_inspection(demo, await demo.unit("hn.ntl"))
    await _city_inspection(demo, city)
    await _grades(demo)
    if awards is not None:
        await _awards_to_officials(demo, awards)
    return demo.outcome
