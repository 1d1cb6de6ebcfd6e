"""The awards projection of a level (served by the level host at ``/levels/{level}/awards/…``):

- the inbox: proposals sent to this level and not yet taken on or returned;
- the review board of a campaign or year (tổng hợp bình xét): every proposal of the level's subtree by
  state — proposed, eligible, not eligible, escalated, decided here, decided above, rejected, revoked;
- each person's and collective's award history across years.

It follows the directory (the runner owns which units the level holds): a unit that moves out takes its
proposals with it, a unit that moves in brings its history (back-filled by the runner), so a pending
proposal of a moving unit is never stranded — it is where its unit is now.
"""

from typing import Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import (
    AwardConferred,
    AwardRevoked,
    CouncilVoted,
    EligibilityReevaluated,
    PastAwardRecorded,
    ProposalAccepted,
    ProposalEscalated,
    ProposalFiled,
    ProposalPublicised,
    ProposalReaddressed,
    ProposalRejected,
    ProposalReturned,
    ProposalWithdrawn,
)
from services.awards.domain.rules import status_after
from shared.events import Event
from shared.level_host import Level
from shared.projection import Context, Projection, on

metadata = MetaData()

level_proposals = Table(
    "awards_level_proposals",
    metadata,
    Column("proposal_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("nominee_id", String(64), nullable=False),
    Column("nominee_name", String(200), nullable=False),
    Column("award_code", String(40), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("year", Integer, nullable=False, index=True),
    Column("campaign_id", String(36), nullable=True),
    Column("status", String(12), nullable=False),
    Column("outcome", String(10), nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("handled_by", String(36), nullable=False),  # the level unit handling it now
    Column("inbox", String(36), nullable=True, index=True),  # the level it waits at, while escalated
    Column("decided_by", String(36), nullable=True),
)
level_awards = Table(
    "awards_level_history",
    metadata,
    Column("award_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("nominee_id", String(64), nullable=False, index=True),
    Column("nominee_name", String(200), nullable=False),
    Column("award_code", String(40), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("year", Integer, nullable=False),
    Column("decision_number", String(60), nullable=False),
    Column("revoked", Boolean, nullable=False),
)

STATES = ("proposed", "eligible", "not_eligible", "escalated", "decided_here", "decided_above", "rejected", "revoked")


class AwardsLevel(Projection):
    name = "awards_level"
    services = ("awards", "directory")
    metadata = metadata

    async def _set(self, conn: AsyncConnection, proposal_id: str, event: Event | None = None, **values: Any) -> None:
        if event is not None and (status := status_after("", event)):
            values["status"] = status
        await conn.execute(update(level_proposals).where(level_proposals.c.proposal_id == proposal_id).values(**values))

    @on(ProposalFiled)
    async def filed(self, conn: AsyncConnection, event: ProposalFiled, ctx: Context) -> None:
        await conn.execute(level_proposals.delete().where(level_proposals.c.proposal_id == event.proposal_id))
        await conn.execute(
            level_proposals.insert().values(
                proposal_id=event.proposal_id,
                unit_id=event.unit_id,
                nominee_id=event.nominee.id,
                nominee_name=event.nominee.name,
                award_code=event.award_code,
                award_name=event.award_name,
                year=event.year,
                campaign_id=event.campaign_id,
                status="filed",
                outcome=event.eligibility.outcome,
                flagged=event.eligibility.outcome != "met",
                handled_by=event.level.unit_id,
                inbox=None,
                decided_by=None,
            )
        )

    @on(EligibilityReevaluated)
    async def judged(self, conn: AsyncConnection, event: EligibilityReevaluated, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, outcome=event.eligibility.outcome, flagged=event.flagged)

    @on(ProposalPublicised)
    async def public(self, conn: AsyncConnection, event: ProposalPublicised, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event)

    @on(CouncilVoted)
    async def voted(self, conn: AsyncConnection, event: CouncilVoted, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event)

    @on(ProposalEscalated)
    async def escalated(self, conn: AsyncConnection, event: ProposalEscalated, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event, inbox=event.to_level.unit_id)

    @on(ProposalAccepted)
    async def accepted(self, conn: AsyncConnection, event: ProposalAccepted, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event, inbox=None, handled_by=event.level.unit_id)

    @on(ProposalReturned)
    async def returned(self, conn: AsyncConnection, event: ProposalReturned, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event, inbox=None, handled_by=event.to_level.unit_id)

    @on(ProposalReaddressed)
    async def readdressed(self, conn: AsyncConnection, event: ProposalReaddressed, ctx: Context) -> None:
        """The old level's inbox loses it; the new level's (same rank, above the unit now) shows it."""
        inbox = event.to_level.unit_id if event.to_level else None
        await self._set(conn, event.proposal_id, event, inbox=inbox, handled_by=event.sender.unit_id)

    @on(ProposalWithdrawn, ProposalRejected)
    async def closed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event, inbox=None)  # type: ignore[attr-defined]

    @on(AwardConferred)
    async def conferred(self, conn: AsyncConnection, event: AwardConferred, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event, inbox=None, decided_by=event.decision.level.unit_id)
        await self._history(conn, event.award_id, event.unit_id, event, event.decision.number)

    @on(PastAwardRecorded)
    async def past(self, conn: AsyncConnection, event: PastAwardRecorded, ctx: Context) -> None:
        await self._history(conn, event.award_id, event.unit_id, event, event.decision_number)

    @on(AwardRevoked)
    async def revoked(self, conn: AsyncConnection, event: AwardRevoked, ctx: Context) -> None:
        await self._set(conn, event.proposal_id, event)
        await conn.execute(update(level_awards).where(level_awards.c.award_id == event.award_id).values(revoked=True))

    @staticmethod
    async def _history(conn: AsyncConnection, award_id: str, unit_id: str, event: Any, number: str) -> None:
        await conn.execute(level_awards.delete().where(level_awards.c.award_id == award_id))
        await conn.execute(
            level_awards.insert().values(
                award_id=award_id,
                unit_id=unit_id,
                nominee_id=event.nominee.id,
                nominee_name=event.nominee.name,
                award_code=event.award_code,
                award_name=event.award_name,
                year=event.year,
                decision_number=number,
                revoked=False,
            )
        )

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        ids = list(unit_ids)
        await conn.execute(level_proposals.delete().where(level_proposals.c.unit_id.in_(ids)))
        await conn.execute(level_awards.delete().where(level_awards.c.unit_id.in_(ids)))


def board_state(row: Any, level_unit_id: str) -> str:
    if row.status in ("revoked", "rejected"):
        return row.status
    if row.status == "conferred":
        return "decided_here" if row.decided_by == level_unit_id else "decided_above"
    if row.status == "escalated":
        return "escalated"
    return {"met": "eligible", "not_met": "not_eligible"}.get(row.outcome, "proposed")


router = APIRouter(prefix="/awards", tags=["awards level"])


async def _level_unit_id(read: Any) -> str | None:
    from shared.membership import level_units

    async with read.db.reader.connect() as conn:
        return await conn.scalar(select(level_units.c.unit_id).where(level_units.c.path == read.level))


@router.get("/inbox")
async def inbox(read: Level) -> dict[str, Any]:
    """Proposals waiting at this level: accept, return with reasons, or (after its vote) forward."""
    read.require_level()
    unit_id = await _level_unit_id(read)
    async with read.db.reader.connect() as conn:
        rows = list(await conn.execute(select(level_proposals).where(level_proposals.c.inbox == unit_id)))
    return {"level": read.level, "items": [dict(r._mapping) for r in rows]}


@router.get("/board")
async def board(read: Level, year: int | None = Query(default=None, ge=2000, le=2100)) -> dict[str, Any]:
    """Every proposal of the level's subtree by state, for a year (or all years)."""
    read.require_level()
    unit_id = await _level_unit_id(read) or ""
    stmt = select(level_proposals)
    if year is not None:
        stmt = stmt.where(level_proposals.c.year == year)
    async with read.db.reader.connect() as conn:
        rows = list(await conn.execute(stmt))
    counts = dict.fromkeys(STATES, 0)
    items = []
    for row in rows:
        state = board_state(row, unit_id)
        counts[state] += 1
        items.append({**dict(row._mapping), "board_state": state})
    return {
        "level": read.level,
        "year": year,
        "counts": counts,
        "flagged": sum(r.flagged for r in rows),
        "items": items,
    }


@router.get("/history/{nominee_id}")
async def history(read: Level, nominee_id: str = Path(max_length=64)) -> dict[str, Any]:
    read.require_level()
    async with read.db.reader.connect() as conn:
        rows = list(
            await conn.execute(
                select(level_awards).where(level_awards.c.nominee_id == nominee_id).order_by(level_awards.c.year)
            )
        )
    return {"level": read.level, "nominee_id": nominee_id, "awards": [dict(r._mapping) for r in rows]}
