"""Re-evaluation after a rule-set change, through the store: every open proposal is judged again under the
new version, each judgement stored as an event that loads back, the record shows it, and a second pass
records nothing."""

import asyncio
import gc
import uuid
from datetime import date

from contracts.awards import EligibilityReevaluated
from services.awards.application.reevaluation import reevaluate
from services.awards.domain.catalogue import builtin_rulebook
from tests.awards.awards_api import AN, BINH, Api, facts, initiative_events

NEW = "state@2025-11-01"


def _amended() -> dict:
    """The state rule set in force, with CSTĐ cơ sở now also needing an initiative recognised nationwide."""
    current, _ = builtin_rulebook().award("cstd_cs", date(2025, 11, 3))
    rule_set = current.model_dump(mode="json") | {"version": NEW, "effective_from": "2025-11-01"}
    national = {"code": "initiative_national", "label": "Có sáng kiến được công nhận toàn quốc",
                "check": "initiative", "scope_at_least": "national"}  # fmt: skip
    rule_set["awards"] = [
        a | {"criteria": [*a["criteria"], national]} if a["code"] == "cstd_cs" else a for a in rule_set["awards"]
    ]
    return {"rule_set": rule_set}


async def _file(api: Api, member_id: str) -> str:
    filed = await api.file(
        "cstd_cs",
        nominee={"kind": "individual", "member_id": member_id},
        achievement={"kind": "year", "ref": "2025", "summary": "Hoàn thành xuất sắc nhiệm vụ năm 2025"},
        justification="Danh hiệu Lao động tiên tiến đang được xét cùng đợt",
    )
    assert filed["eligibility"]["rule_set"] != NEW
    return filed["proposal_id"]


async def test_a_rule_set_change_judges_every_open_proposal_again_once(api: Api) -> None:
    await facts(api.app, *initiative_events("i-an", "grassroots", AN), *initiative_events("i-binh", "city", BINH))
    pids = [await _file(api, AN), await _file(api, BINH)]
    deps = api.app.state.deps

    await api.ok("/rulebook/rule-sets", _amended(), "hn", "standing_committee")
    await asyncio.gather(*deps.background)  # the re-evaluation the publication started

    judgements = []
    for pid in pids:
        stream = await deps.store.load(f"proposal-{pid}")
        events = [e.to_event() for e in stream]  # every stored event loads
        last = events[-1]
        assert isinstance(last, EligibilityReevaluated), events
        assert last.eligibility.rule_set == NEW and last.eligibility.outcome == "not_met" and last.flagged
        national = next(c for c in last.eligibility.criteria if c.code == "initiative_national")
        assert national.outcome == "not_met" and national.facts  # the initiative behind it, named
        assert stream[-1].metadata.actor == "system:reevaluation"
        judgements.append(stream[-1])
        read = (await api.get(f"/proposals/{pid}", "hn.ntl.fecon", "member")).json()
        assert read["eligibility"]["rule_set"] == NEW and read["flagged"] is True
    # One change, one correlation: the judgements it caused share it (and each has its own event id).
    assert judgements[0].metadata.correlation_id == judgements[1].metadata.correlation_id
    assert judgements[0].event_id != judgements[1].event_id
    assert {uuid.UUID(j.event_id).version for j in judgements} == {7}  # time-ordered: appended at the index's end

    board = (await api.get("/board/hn.ntl.fecon", "hn.ntl.fecon", "executive_committee", year=2025)).json()
    rows = {i["proposal_id"]: i for i in board["items"]}
    assert all(rows[pid]["rule_set"] == NEW and rows[pid]["flagged"] for pid in pids)

    # Idempotent: nothing changed since, so a second pass judges the same and records nothing.
    lengths = [len(await deps.store.load(f"proposal-{pid}")) for pid in pids]
    assert await reevaluate(deps, "again") == 0
    assert gc.get_freeze_count() == 0  # the heap frozen while judging is handed back to the collector
    assert [len(await deps.store.load(f"proposal-{pid}")) for pid in pids] == lengths
