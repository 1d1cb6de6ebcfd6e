"""The awards part of the demo city: a year (2025) of proposals in every state — one escalated from a
grassroots union to the city and decided there, one returned with reasons, one refused over quota before
it left, one objected to (objection upheld), one conferred then revoked — and others filed, public or
passed. It goes through the command handlers like real use, on a demo clock that walks the year
(publicity windows are working days). Deterministic; does nothing if proposals exist already.

The service learns the units and people from the directory's events, so the loader waits until its copy
of the directory holds the demo city's grassroots unions with their members (``demo_task``).
"""

import asyncio
import contextlib
import dataclasses
import logging
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from services.awards.adapters.records import proposals
from services.awards.application import proposals as handlers
from services.awards.application import rulebook
from services.awards.application.deps import Deps
from services.awards.domain import commands as c
from shared.commands import CommandContext
from shared.directory_copy import members
from shared.errors import Conflict
from shared.identity import Caller

log = logging.getLogger(__name__)

LOADER = Caller.system("demo-loader")
FECON, CEO, MARRIOTT, HANDICO, BV_DONG_DA = (
    "hn.ntl.fecon",
    "hn.ntl.ceo",
    "hn.ntl.jw-marriott",
    "hn.dd.handico",
    "hn.dd.bv-dong-da",
)
APPRAISAL = b"%PDF-1.4\n% Ban nhan xet danh gia vien chuc nam 2025\n%%EOF\n"


class DemoClock:
    def __init__(self, start: date) -> None:
        self.today = start

    def __call__(self) -> date:
        return self.today

    def after(self, days: int) -> date:
        self.today += timedelta(days=days)
        return self.today


def _ctx() -> CommandContext:
    return CommandContext(caller=LOADER)


async def _people(deps: Deps, path: str, count: int) -> list[str]:
    unit = await deps.directory.by_path(path)
    if unit is None:
        return []
    async with deps.db.reader.connect() as conn:
        rows = await conn.execute(
            select(members.c.member_id).where(members.c.unit_id == unit.unit_id).order_by(members.c.member_id)
        )
        return [r.member_id for r in rows][-count:]  # not the first enrolled: those hold the unit's offices


async def _file(deps: Deps, path: str, member_id: str, code: str, summary: str, **extra: Any) -> str:
    unit = await deps.directory.by_path(path)
    assert unit is not None
    stored = (
        deps.evidence.put(APPRAISAL, "nhan-xet-2025.pdf", "application/pdf", unit.unit_id) if deps.evidence else None
    )
    evidence = [c.EvidenceIn(kind="appraisal", file={"sha256": stored.sha256})] if stored else []  # type: ignore[arg-type]
    cmd = c.FileProposal(
        unit_path=path,
        nominee=c.NomineeIn(kind="individual", member_id=member_id),
        award_code=code,
        year=2025,
        achievement=c.AchievementIn(kind="year", ref="2025", summary=summary),
        summary=summary,
        evidence=evidence,
        attested=["good_work"],
        **extra,
    )
    return (await handlers.file_proposal(deps, _ctx(), cmd))["proposal_id"]


async def _public_and_voted(deps: Deps, clock: DemoClock, ids: list[str], minutes: str, total: int = 9) -> None:
    await handlers.publicise(deps, _ctx(), c.Publicise(proposal_ids=ids))
    clock.after(10)
    meeting = c.MeetingIn(
        minutes_number=minutes,
        held_on=clock.today,
        place="Hội trường",
        chair="Chủ tịch công đoàn",
        secretary="Ủy viên Ban Chấp hành",
        members_total=total,
        members_present=total,
    )
    votes = [c.VoteIn(proposal_id=pid, votes_for=total, votes_against=0, votes_abstain=0) for pid in ids]
    await handlers.record_vote(deps, _ctx(), c.RecordVote(meeting=meeting, votes=votes))
    clock.after(1)


async def load_demo(deps: Deps) -> dict[str, int]:
    """Walk the demo year's proposals; a no-op if the service holds proposals already."""
    async with deps.db.reader.connect() as conn:
        if await conn.scalar(select(func.count()).select_from(proposals)):
            return {}
    clock = DemoClock(date(2025, 10, 6))
    deps = dataclasses.replace(deps, clock=clock)
    fecon, ceo, marriott, handico, hospital = [
        await _people(deps, p, 3) for p in (FECON, CEO, MARRIOTT, HANDICO, BV_DONG_DA)
    ]
    outcome: dict[str, int] = {}

    def count(state: str) -> None:
        outcome[state] = outcome.get(state, 0) + 1

    # 1. From Fecon to the city: a Bằng khen of the city federation, escalated twice and decided there.
    city = await _file(deps, FECON, fecon[0], "bk_ldld", "Hoàn thành xuất sắc nhiệm vụ; tác giả sáng kiến mã QR")
    await _public_and_voted(deps, clock, [city], "12/BB-CĐCS")
    await handlers.escalate(deps, _ctx(), c.Escalate(proposal_ids=[city], submission_number="15/TTr-CĐCS"))
    await handlers.accept(deps, _ctx(), city)
    await _public_and_voted(deps, clock, [city], "31/BB-LĐLĐ")
    await handlers.escalate(deps, _ctx(), c.Escalate(proposal_ids=[city], submission_number="42/TTr-LĐLĐ"))
    await handlers.accept(deps, _ctx(), city)
    await _public_and_voted(deps, clock, [city], "58/BB-LĐLĐ", total=15)
    decision = c.Decide(
        proposal_ids=[city],
        decision_number="1205/QĐ-LĐLĐ",
        decided_on=clock.today,
        signer_name="Phạm Quang Thanh",
        signer_title="CHỦ TỊCH",
    )
    await handlers.decide(deps, _ctx(), decision)
    count("conferred at the city")

    # 2. From CEO to Nam Từ Liêm: returned with reasons.
    returned = await _file(deps, CEO, ceo[0], "gk_ctt", "Hoàn thành tốt nhiệm vụ năm 2025")
    await _public_and_voted(deps, clock, [returned], "07/BB-CĐCS")
    await handlers.escalate(deps, _ctx(), c.Escalate(proposal_ids=[returned], submission_number="09/TTr-CĐCS"))
    reasons = "Đề nghị bổ sung bản nhận xét của thủ trưởng đơn vị và số liệu minh chứng"
    await handlers.return_down(deps, _ctx(), returned, c.Return(reasons=reasons))
    count("returned")

    # 3. JW Marriott: a quota of one Giấy khen of the district; the second is refused before it leaves.
    await rulebook.allocate_quota(
        deps, _ctx(), c.AllocateQuota(unit_path=MARRIOTT, year=2025, award_code="gk_ctt", count=1)
    )
    pair = [await _file(deps, MARRIOTT, m, "gk_ctt", "Hoàn thành xuất sắc nhiệm vụ năm 2025") for m in marriott[:2]]
    await _public_and_voted(deps, clock, pair, "11/BB-CĐCS")
    try:
        await handlers.escalate(deps, _ctx(), c.Escalate(proposal_ids=pair, submission_number="12/TTr-CĐCS"))
    except Conflict as refused:
        log.info("demo: over quota refused as it should be: %s", refused.message)
        count("refused over quota")
    await handlers.escalate(deps, _ctx(), c.Escalate(proposal_ids=pair[:1], submission_number="12/TTr-CĐCS"))
    count("escalated")

    # 4. Bệnh viện Đống Đa: an objection during publicity, upheld — the proposal stops.
    objected = await _file(deps, BV_DONG_DA, hospital[0], "gk_cdcs", "Hoàn thành tốt nhiệm vụ năm 2025")
    await handlers.publicise(deps, _ctx(), c.Publicise(proposal_ids=[objected]))
    text = "Đồng chí chưa hoàn thành chỉ tiêu chuyên môn quý III theo báo cáo của khoa"
    raised = await handlers.object_to(deps, _ctx(), objected, c.Object(text=text))
    p = await deps.proposals.get(raised["proposal_id"])
    (objection_id,) = p.objections
    answer = c.AnswerObjection(answer="Ban Chấp hành xác minh: phản ánh đúng", upheld=True)
    await handlers.answer(deps, _ctx(), objected, objection_id, answer)
    count("objected to")

    # 5. Handico: a Giấy khen of the grassroots union, conferred, then revoked (false declaration).
    revoked = await _file(deps, HANDICO, handico[0], "gk_cdcs", "Hoàn thành xuất sắc nhiệm vụ năm 2025")
    await _public_and_voted(deps, clock, [revoked], "21/BB-CĐCS")
    decided = c.Decide(
        proposal_ids=[revoked], decision_number="05/QĐ-CĐCS", decided_on=clock.today,
        signer_name="Chủ tịch Công đoàn Handico", signer_title="CHỦ TỊCH",
    )  # fmt: skip
    await handlers.decide(deps, _ctx(), decided)
    revoke = c.Revoke(
        reason="false_claims", explanation="Kê khai thành tích không đúng thực tế",
        decision_number="09/QĐ-CĐCS", decided_on=clock.after(14),
        signer_name="Chủ tịch Công đoàn Handico", signer_title="CHỦ TỊCH",
    )  # fmt: skip
    await handlers.revoke(deps, _ctx(), revoked, revoke)
    count("revoked")

    # Others in the early states: filed, public, passed.
    await _file(deps, FECON, fecon[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ năm 2025")
    count("filed")
    public = await _file(deps, CEO, ceo[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ năm 2025")
    await handlers.publicise(deps, _ctx(), c.Publicise(proposal_ids=[public]))
    count("public")
    passed = await _file(deps, HANDICO, handico[1], "gk_cdcs", "Hoàn thành tốt nhiệm vụ năm 2025")
    await _public_and_voted(deps, clock, [passed], "22/BB-CĐCS")
    count("passed")
    return outcome


async def _city_known(deps: Deps) -> bool:
    for path in (FECON, CEO, MARRIOTT, HANDICO, BV_DONG_DA):
        if len(await _people(deps, path, 3)) < 3:
            return False
    return True


async def demo_task(app: FastAPI, stop: asyncio.Event) -> None:
    """Background task: once the directory copy holds the demo city, load the demo year of awards."""
    while not stop.is_set():
        deps: Deps | None = getattr(app.state, "deps", None)
        if deps is not None and await _city_known(deps):
            try:
                log.info("demo awards: %s", await load_demo(deps))
            except Exception:
                log.exception("loading the demo awards failed")
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
