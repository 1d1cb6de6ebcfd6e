"""Reads of the service: a proposal, a level's inbox and review board (tổng hợp bình xét), a nominee's
award history, the rule book. Each read is limited to the caller's subtree (404 outside it)."""

from typing import Any

from sqlalchemy import func, select

from services.awards.adapters.facts import titles
from services.awards.adapters.records import decisions, proposals
from services.awards.application.deps import Deps
from services.awards.application.proposals import view
from shared.identity import Caller
from shared.subjects import in_subtree

BOARD_STATES = (
    "proposed",
    "eligible",
    "not_eligible",
    "escalated",
    "decided_here",
    "decided_above",
    "rejected",
    "revoked",
)


async def get_proposal(deps: Deps, caller: Caller, proposal_id: str) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    home = await deps.unit(p.record.unit_id)
    caller.require_subtree(home.path, hide=True)  # every level a proposal reaches is above its unit
    out = view(p)
    out["unit_path"] = home.path
    out["objections"] = [
        {"objection_id": oid, "text": o.text, "answer": p.answered[oid].answer if oid in p.answered else None}
        for oid, o in p.objections.items()
    ]
    out["votes"] = [v.model_dump(mode="json") for v in p.votes.values()]
    out["escalations"] = [e.model_dump(mode="json") for e in p.escalations]
    out["readdressed"] = [e.model_dump(mode="json") for e in p.readdressed]
    out["publicity"] = [  # each level's window, in the order the levels published it
        {
            "level": w.level.model_dump(mode="json"),
            "opens_on": w.opens_on.isoformat(),
            "closes_on": w.closes_on.isoformat(),
            "working_days": w.working_days,
            "rule_set": w.rule_set,
        }
        for w in p.publicity.values()
    ]
    conferred, revoked = p.conferred, p.revoked
    out["decision"] = (
        conferred.decision.model_dump(mode="json")
        | {"award_id": conferred.award_id, "rule_set": conferred.rule_set, "amount_vnd": conferred.amount_vnd}
        if conferred
        else None
    )
    out["revocation"] = (
        revoked.decision.model_dump(mode="json") | {"reason": revoked.reason, "explanation": revoked.explanation}
        if revoked
        else None
    )
    return out


async def _subtree_units(deps: Deps, caller: Caller, level: str) -> dict[str, str]:
    unit = await deps.unit_at(level, "level")
    caller.require_subtree(unit.path, field="level", hide=True)
    return await deps.subtree(unit.path)


async def inbox(deps: Deps, caller: Caller, level: str) -> dict[str, Any]:
    unit = await deps.unit_at(level, "level")
    caller.require_subtree(unit.path, field="level", hide=True)
    async with deps.db.reader.connect() as conn:
        rows = list(
            await conn.execute(
                select(proposals).where(proposals.c.inbox_unit_id == unit.unit_id).order_by(proposals.c.updated_at)
            )
        )
    return {"level": unit.path, "items": [_row(r) for r in rows]}


def _row(r: Any) -> dict[str, Any]:
    return {
        "proposal_id": r.proposal_id,
        "nominee_name": r.nominee_name,
        "nominee_kind": r.nominee_kind,
        "award_code": r.award_code,
        "year": r.year,
        "status": r.status,
        "outcome": r.outcome,
        "flagged": r.flagged,
        "rule_set": r.rule_set,
    }


def board_state(row: Any, level_unit_id: str) -> str:
    """Where a proposal stands for the board of a level (MISA's bình xét counters, research §4.1)."""
    if row.status == "revoked":
        return "revoked"
    if row.status == "rejected":
        return "rejected"
    if row.status == "conferred":
        return "decided_here" if row.level_unit_id == level_unit_id else "decided_above"
    if row.status == "escalated":
        return "escalated"
    if row.outcome == "met":
        return "eligible"
    if row.outcome == "not_met":
        return "not_eligible"
    return "proposed"


async def board(
    deps: Deps, caller: Caller, level: str, year: int | None, campaign_id: str | None = None
) -> dict[str, Any]:
    units = await _subtree_units(deps, caller, level)
    here = await deps.unit_at(level, "level")
    async with deps.db.reader.connect() as conn:
        stmt = select(proposals).where(proposals.c.unit_id.in_(list(units)))
        if year is not None:
            stmt = stmt.where(proposals.c.year == year)
        if campaign_id is not None:
            stmt = stmt.where(proposals.c.campaign_id == campaign_id)
        rows = list(await conn.execute(stmt))
    counts = dict.fromkeys(BOARD_STATES, 0)
    flagged = 0
    items = []
    for row in rows:
        state = board_state(row, here.unit_id)
        counts[state] += 1
        flagged += bool(row.flagged)
        items.append({**_row(row), "board_state": state, "unit_path": units.get(row.unit_id)})
    return {
        "level": level,
        "year": year,
        "campaign_id": campaign_id,
        "counts": counts,
        "flagged": flagged,
        "items": items,
    }


async def radar(deps: Deps, caller: Caller, level: str, year: int | None) -> dict[str, Any]:
    """The formalism radar's award signal: awards conferred in the level's subtree to direct workers and to
    officials, by the level that decided them (seed 001: awards must reach the workers who do the work)."""
    units = await _subtree_units(deps, caller, level)
    async with deps.db.reader.connect() as conn:
        rows = list(await conn.execute(select(decisions.c.conferred, decisions.c.revoked)))
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        award = row.conferred
        nominee = award["nominee"]
        if row.revoked is not None or nominee["unit_id"] not in units or (year is not None and award["year"] != year):
            continue
        if nominee["kind"] != "individual":
            continue
        by = counts.setdefault(award["decision"]["level"]["kind"], {"direct_workers": 0, "officials": 0})
        by["officials" if nominee["is_official"] else "direct_workers"] += 1
    return {"level": level, "year": year, "by_deciding_level": counts}


async def history(deps: Deps, caller: Caller, nominee_id: str) -> dict[str, Any]:
    async with deps.db.reader.connect() as conn:
        rows = list(await conn.execute(select(titles).where(titles.c.nominee_id == nominee_id).order_by(titles.c.year)))
        open_count = await conn.scalar(
            select(func.count()).select_from(proposals).where(proposals.c.nominee_id == nominee_id)
        )
    if rows:
        unit = await deps.unit(rows[0].unit_id)
        caller.require_subtree(unit.path, hide=True)
    elif not caller.is_admin and not open_count:
        caller.require_subtree("", hide=True)
    return {
        "nominee_id": nominee_id,
        "awards": [
            {
                "award_id": r.award_id,
                "award_code": r.award_code,
                "year": r.year,
                "decision_number": r.decision_number,
                "decided_on": r.decided_on.isoformat() if r.decided_on else None,
                "revoked": r.revoked,
            }
            for r in rows
        ],
    }


async def rulebook(deps: Deps) -> dict[str, Any]:
    book = await deps.book()
    return {
        "rule_sets": [
            {"family": family, "versions": [v.model_dump(mode="json") for v in versions]}
            for family, versions in sorted(book.families.items())
        ],
        "base_salaries": [
            {"effective_from": s.effective_from.isoformat(), "amount_vnd": s.amount_vnd, "source": s.source}
            for s in book.salaries
        ],
        "holidays": sorted(d.isoformat() for d in book.calendar.days_off),
        "working_weekend_days": sorted(d.isoformat() for d in book.calendar.working_weekend_days),
    }


async def decisions_of(deps: Deps, unit_id: str, number: str) -> list[Any]:
    async with deps.db.reader.connect() as conn:
        return list(
            await conn.execute(
                select(decisions).where(decisions.c.level_unit_id == unit_id, decisions.c.decision_number == number)
            )
        )


def within(path: str, level: str) -> bool:
    return in_subtree(path, level)
