"""The service's inline records of its own events, written in the append's transaction:

- ``awards_proposals``: every proposal's current state (what re-evaluation, quotas and lists read);
- ``awards_decisions``: every conferral with its decision (documents, history, the level's list);
- ``awards_public_feed``: the public record of each conferral and revocation, in commit order (``seq``):
  the feed relay publishes from it and the HTTP feeds page through it;
- the facts of the service's own decisions (``facts.apply_awards``): a conferral counts for a streak the
  moment it commits.

The proposals' row is kept narrow (no JSON of the filing or of the judgement: the events hold them), so
re-judging tens of thousands of proposals rewrites small rows. ``upgrade`` narrows a row of the older shape.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    case,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import (
    AwardConferred,
    AwardRevoked,
    EligibilityReevaluated,
    ProposalAccepted,
    ProposalEscalated,
    ProposalFiled,
    ProposalJustified,
    ProposalReaddressed,
    ProposalRejected,
    ProposalReturned,
    ProposalWithdrawn,
)
from services.awards.adapters import facts
from services.awards.adapters.public_feed import public_award, to_cloudevent
from services.awards.domain.rules import NATIONAL, OPEN, status_after
from shared.events import EventEnvelope

metadata = facts.metadata  # one MetaData: the service database holds its facts and its records

proposals = Table(
    "awards_proposals",
    metadata,
    Column("proposal_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),  # the proposing unit
    Column("level_unit_id", String(36), nullable=False, index=True),  # the level handling it now
    Column("inbox_unit_id", String(36), nullable=True, index=True),  # while escalated
    Column("nominee_id", String(64), nullable=False, index=True),
    Column("nominee_kind", String(12), nullable=False),
    Column("nominee_name", String(200), nullable=False),
    Column("award_code", String(40), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("track", String(10), nullable=False),
    Column("category", String(10), nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("outcome", String(10), nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("rule_set", String(60), nullable=False),
    Column("campaign_id", String(36), nullable=True),
    Column("first_level_unit_id", String(36), nullable=False),  # the level that first handled it
    Column("attested", JSON, nullable=False),  # what re-evaluation needs of the filing, kept small
    Column("evidence", JSON, nullable=False),
    Column("judgement", String(32), nullable=False),  # a digest of the criteria's outcomes and facts
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
decisions = Table(
    "awards_decisions",
    metadata,
    Column("award_id", String(64), primary_key=True),
    Column("proposal_id", String(64), nullable=False, index=True),
    Column("decision_number", String(60), nullable=False, index=True),
    Column("level_unit_id", String(36), nullable=False, index=True),
    Column("decided_on", Date, nullable=False),
    Column("nominee_id", String(64), nullable=False, index=True),
    Column("conferred", JSON, nullable=False),
    Column("revoked", JSON, nullable=True),
)
submissions = Table(
    "awards_submissions",
    metadata,
    Column("unit_id", String(36), primary_key=True),  # the level that sent it
    Column("number", String(60), primary_key=True),
    Column("proposal_id", String(64), primary_key=True),
)
public_feed = Table(
    "awards_public_feed",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("award_id", String(64), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("unit_path", String(400), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("cloudevent", JSON, nullable=False),
)


def judgement(criteria: list[dict[str, Any]]) -> str:
    """A digest of a judgement's criteria (outcomes, reasons, facts): equal digests, equal judgements."""
    return hashlib.blake2b(orjson.dumps(criteria, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


class AwardRecords:
    """The inline projection (``shared.eventstore.InlineProjection``)."""

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        judged = [e for e in envelopes if e.event_type == "EligibilityReevaluated"]
        if judged:  # the bulk path (a rule set changed): one statement, no decoding
            await conn.execute(
                update(proposals)
                .where(proposals.c.proposal_id == bindparam("pid"))
                .values(
                    outcome=bindparam("outcome"),
                    flagged=bindparam("flagged"),
                    rule_set=bindparam("rule_set"),
                    judgement=bindparam("judgement"),
                    version=bindparam("v"),
                    updated_at=bindparam("at"),
                ),
                [
                    {
                        "pid": e.data["proposal_id"],
                        "outcome": e.data["eligibility"]["outcome"],
                        "flagged": e.data["flagged"],
                        "rule_set": e.data["eligibility"]["rule_set"],
                        "judgement": judgement(e.data["eligibility"]["criteria"]),
                        "v": e.version,
                        "at": e.occurred_at,
                    }
                    for e in judged
                ],
            )
        for envelope in envelopes:
            if envelope.event_type == "EligibilityReevaluated":
                continue
            if not envelope.stream_id.startswith("proposal-") and envelope.event_type != "PastAwardRecorded":
                continue
            event = envelope.to_event()
            touched = await facts.apply_awards(conn, event)
            await facts.mark_dirty(conn, touched, f"{envelope.event_type} {getattr(event, 'award_id', '')}")
            await self._proposal(conn, envelope, event)

    async def _proposal(self, conn: AsyncConnection, envelope: EventEnvelope, event: Any) -> None:
        pid = getattr(event, "proposal_id", None)
        if pid is None:
            return
        where = proposals.c.proposal_id == pid
        values: dict[str, Any] = {"version": envelope.version, "updated_at": envelope.occurred_at}
        status = status_after("", event)
        if status:
            values["status"] = status
        match event:
            case ProposalFiled():
                await conn.execute(
                    proposals.insert().values(
                        proposal_id=pid,
                        unit_id=event.unit_id,
                        level_unit_id=event.level.unit_id,
                        inbox_unit_id=None,
                        nominee_id=event.nominee.id,
                        nominee_kind=event.nominee.kind,
                        nominee_name=event.nominee.name,
                        award_code=event.award_code,
                        year=event.year,
                        track=event.track,
                        category=event.category,
                        outcome=event.eligibility.outcome,
                        flagged=event.eligibility.outcome != "met",
                        rule_set=event.eligibility.rule_set,
                        campaign_id=event.campaign_id,
                        first_level_unit_id=event.level.unit_id,
                        attested=envelope.data["attested"],
                        evidence=envelope.data["evidence"],
                        judgement=judgement(envelope.data["eligibility"]["criteria"]),
                        **values,
                    )
                )
                return
            case EligibilityReevaluated():
                values |= {
                    "outcome": event.eligibility.outcome,
                    "flagged": event.flagged,
                    "rule_set": event.eligibility.rule_set,
                    "judgement": judgement(envelope.data["eligibility"]["criteria"]),
                }
            case ProposalJustified():
                pass
            case ProposalEscalated():
                values["inbox_unit_id"] = event.to_level.unit_id
                key = {"unit_id": event.from_level.unit_id, "number": event.submission_number, "proposal_id": pid}
                await conn.execute(submissions.delete().where(*[submissions.c[k] == v for k, v in key.items()]))
                await conn.execute(submissions.insert().values(**key))
            case ProposalAccepted():
                values |= {"level_unit_id": event.level.unit_id, "inbox_unit_id": None}
            case ProposalReturned():
                values |= {"level_unit_id": event.to_level.unit_id, "inbox_unit_id": None}
            case ProposalReaddressed():
                to = event.to_level.unit_id if event.to_level else None
                values |= {"level_unit_id": event.sender.unit_id, "inbox_unit_id": to}
            case AwardConferred():
                values["inbox_unit_id"] = None
                await conn.execute(
                    decisions.insert().values(
                        award_id=event.award_id,
                        proposal_id=pid,
                        decision_number=event.decision.number,
                        level_unit_id=event.decision.level.unit_id,
                        decided_on=event.decision.decided_on,
                        nominee_id=event.nominee.id,
                        conferred=envelope.data,
                        revoked=None,
                    )
                )
                await self._publish(conn, envelope, public_award(event))
            case AwardRevoked():
                await conn.execute(
                    update(decisions).where(decisions.c.award_id == event.award_id).values(revoked=envelope.data)
                )
                row = (
                    await conn.execute(select(decisions.c.conferred).where(decisions.c.award_id == event.award_id))
                ).first()
                conferred = AwardConferred.model_validate(row.conferred) if row is not None else None
                await self._publish(conn, envelope, public_award(event, conferred))
            case ProposalRejected() | ProposalWithdrawn():
                values["inbox_unit_id"] = None
        await conn.execute(update(proposals).where(where).values(**values))

    @staticmethod
    async def _publish(conn: AsyncConnection, envelope: EventEnvelope, data: Any) -> None:
        await conn.execute(
            public_feed.insert().values(
                event_id=envelope.event_id,
                award_id=data.award_id,
                status=data.status,
                unit_path=data.unit_path,
                occurred_at=envelope.occurred_at,
                cloudevent=to_cloudevent(envelope, data),
            )
        )


async def waiting_upward(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """(proposal, proposing unit, level) of every open proposal waiting or handled at a level above the one
    that first handled it (``Proposal.position``): what ``shared.upward`` checks after a change of the tree."""
    at = case((proposals.c.status == "escalated", proposals.c.inbox_unit_id), else_=proposals.c.level_unit_id)
    first = proposals.c.first_level_unit_id
    stmt = select(proposals.c.proposal_id, proposals.c.unit_id, at).where(
        proposals.c.status.in_(OPEN), at.is_not(None), at != first, at != NATIONAL.unit_id
    )
    return [(pid, unit_id, level) for pid, unit_id, level in await conn.execute(stmt)]


def upgrade(conn: Connection) -> None:
    """Narrow ``awards_proposals`` made before 2026-11-30 (it carried the filing's and the judgement's JSON):
    the first level's id is kept in its own column and the two JSON columns are dropped. Nothing to do on a
    table of the current shape; run at start-up after ``create_all``, under the start-up lock."""
    columns = {c["name"] for c in inspect(conn).get_columns(proposals.name)}
    if "filed" not in columns:
        return
    if "first_level_unit_id" not in columns:
        conn.execute(text("ALTER TABLE awards_proposals ADD COLUMN first_level_unit_id VARCHAR(36)"))
    for pid, filed in list(conn.execute(text("SELECT proposal_id, filed FROM awards_proposals"))):
        level = (orjson.loads(filed) if isinstance(filed, str | bytes) else filed)["level"]["unit_id"]
        conn.execute(update(proposals).where(proposals.c.proposal_id == pid).values(first_level_unit_id=level))
    for column in ("filed", "eligibility"):
        if column in columns:
            conn.execute(text(f"ALTER TABLE awards_proposals DROP COLUMN {column}"))
