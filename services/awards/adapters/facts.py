"""The awards service's copies of the facts eligibility is judged on, from the other services' events
(registry: initiatives; pledges: pledges and their progress; inspections: confirmed grades) and from its
own (awards conferred, recorded or revoked, for streaks and members' titles).

Each ``apply_*`` changes the tables for one event and returns the nominees whose facts changed (member
ids and unit ids), so the open proposals resting on them are judged again. ``FactsReader`` assembles
``NomineeFacts`` for many nominees in a few queries (re-evaluating tens of thousands of proposals).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import AwardConferred, AwardRevoked, PastAwardRecorded
from contracts.inspections import GradeConfirmed
from contracts.pledges import PledgeAmended, PledgeSigned, ProgressReported
from contracts.registry import (
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRevised,
)
from services.awards.domain.eligibility import (
    SCOPE_RANK,
    GradeFact,
    InitiativeFact,
    MemberTitles,
    NomineeFacts,
    PledgeFact,
    TitleFact,
)
from shared.events import Event

metadata = MetaData()
CHUNK = 500  # ids per IN (…) query

initiatives = Table(
    "awards_fact_initiatives",
    metadata,
    Column("initiative_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("scope", String(20), nullable=True),
    Column("recognised_on", Date, nullable=True),
    Column("decision_number", String(60), nullable=True),
    Column("recognised_by", String(400), nullable=True),
    Column("applied_on", Date, nullable=True),
    Column("applied_where", String(300), nullable=True),
    Column("accepted_on", Date, nullable=True),
    Column("benefit_vnd", Integer, nullable=False, default=0),
    Column("revoked", Boolean, nullable=False, default=False),
)
authors = Table(
    "awards_fact_authors",
    metadata,
    Column("initiative_id", String(64), primary_key=True),
    Column("member_id", String(64), primary_key=True, index=True),
)
grades = Table(
    "awards_fact_grades",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("grade", String(20), nullable=False),
    Column("points", Float, nullable=True),
    Column("rule_set", String(60), nullable=False),
    Column("confirmed_by", String(400), nullable=True),
    Column("revision", Integer, nullable=False),
)
pledges = Table(
    "awards_fact_pledges",
    metadata,
    Column("pledge_id", String(100), primary_key=True),
    Column("campaign_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("signed_on", Date, nullable=False),
    Column("targets", JSON, nullable=False),  # indicator → committed target
    Column("progress", JSON, nullable=False),  # indicator → reported value
    Column("fulfilment_rate", Float, nullable=True),
)
titles = Table(
    "awards_fact_titles",
    metadata,
    Column("award_id", String(64), primary_key=True),
    Column("nominee_id", String(64), nullable=False, index=True),
    Column("nominee_kind", String(12), nullable=False),
    Column("unit_id", String(36), nullable=False, index=True),  # the member's unit (members' titles)
    Column("award_code", String(40), nullable=False),
    Column("year", Integer, nullable=False),
    Column("decision_number", String(60), nullable=False),
    Column("decided_on", Date, nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
)
# Nominees whose facts changed, until their open proposals are judged again (kept in the same transaction
# as the facts, so a crash between the two loses nothing).
dirty = Table(
    "awards_fact_dirty",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("nominee_id", String(64), nullable=False),
    Column("cause", String(200), nullable=False),
)

Touched = set[str]  # nominee ids (members and units) whose facts changed


async def _initiative_nominees(conn: AsyncConnection, initiative_id: str) -> Touched:
    row = (
        await conn.execute(select(initiatives.c.unit_id).where(initiatives.c.initiative_id == initiative_id))
    ).first()
    members = {
        m for (m,) in await conn.execute(select(authors.c.member_id).where(authors.c.initiative_id == initiative_id))
    }
    return members | ({row.unit_id} if row else set())


async def apply_registry(conn: AsyncConnection, event: Event, on: date) -> Touched:
    """``on``: the day the event happened (an acceptance records no date of its own)."""
    match event:
        case InitiativeRegistered() | InitiativeRevised():
            reg = event.registration
            exists = (
                await conn.execute(
                    select(initiatives.c.initiative_id).where(initiatives.c.initiative_id == event.initiative_id)
                )
            ).first()
            if exists is None:
                await conn.execute(
                    initiatives.insert().values(
                        initiative_id=event.initiative_id,
                        unit_id=event.unit_id,
                        title=reg.title,
                        benefit_vnd=0,
                        revoked=False,
                    )
                )
            else:
                await conn.execute(
                    update(initiatives)
                    .where(initiatives.c.initiative_id == event.initiative_id)
                    .values(title=reg.title)
                )
            await conn.execute(authors.delete().where(authors.c.initiative_id == event.initiative_id))
            ids = sorted({a.member_id for a in reg.authors if a.member_id})
            if ids:
                await conn.execute(
                    authors.insert(), [{"initiative_id": event.initiative_id, "member_id": m} for m in ids]
                )
            return set(ids) | {event.unit_id}
        case InitiativeRecognised():
            row = (
                await conn.execute(
                    select(initiatives.c.scope).where(initiatives.c.initiative_id == event.initiative_id)
                )
            ).first()
            if row is None:
                return set()
            if row.scope is None or SCOPE_RANK[event.scope] >= SCOPE_RANK.get(row.scope, 0):  # keep the highest
                await conn.execute(
                    update(initiatives)
                    .where(initiatives.c.initiative_id == event.initiative_id)
                    .values(
                        scope=event.scope,
                        recognised_on=event.decision_date,
                        decision_number=event.decision_number,
                        recognised_by=event.by_unit_path,
                        revoked=False,
                    )
                )
            return await _initiative_nominees(conn, event.initiative_id)
        case InitiativeApplied():
            await conn.execute(
                update(initiatives)
                .where(initiatives.c.initiative_id == event.initiative_id, initiatives.c.applied_on.is_(None))
                .values(applied_on=event.since, applied_where=event.where, benefit_vnd=event.actual_benefit_vnd)
            )
            return await _initiative_nominees(conn, event.initiative_id)
        case InitiativeAccepted():
            await conn.execute(
                update(initiatives)
                .where(initiatives.c.initiative_id == event.initiative_id)
                .values(accepted_on=on, benefit_vnd=event.actual_benefit_vnd)
            )
            return await _initiative_nominees(conn, event.initiative_id)
    return set()


def _rate(targets: dict[str, float], progress: dict[str, float]) -> float | None:
    """Mean of achieved/committed over the indicators reported so far (None before any report)."""
    ratios = [progress[k] / t for k, t in targets.items() if k in progress and t > 0]
    return sum(ratios) / len(ratios) if ratios else None


async def apply_pledges(conn: AsyncConnection, event: Event) -> Touched:
    match event:
        case PledgeSigned():
            targets = {c.indicator: c.target for c in event.commitments}
            await conn.execute(pledges.delete().where(pledges.c.pledge_id == event.pledge_id))
            await conn.execute(
                pledges.insert().values(
                    pledge_id=event.pledge_id,
                    campaign_id=event.campaign_id,
                    unit_id=event.unit_id,
                    signed_on=event.signed_on,
                    targets=targets,
                    progress={},
                    fulfilment_rate=None,
                )
            )
            return {event.unit_id}
        case PledgeAmended():
            row = (await conn.execute(select(pledges.c.progress).where(pledges.c.pledge_id == event.pledge_id))).first()
            if row is None:
                return set()
            targets = {c.indicator: c.target for c in event.commitments}
            await conn.execute(
                update(pledges)
                .where(pledges.c.pledge_id == event.pledge_id)
                .values(targets=targets, fulfilment_rate=_rate(targets, row.progress))
            )
            return {event.unit_id}
        case ProgressReported():
            rows = list(
                await conn.execute(
                    select(pledges.c.pledge_id, pledges.c.targets, pledges.c.progress).where(
                        pledges.c.unit_id == event.unit_id, pledges.c.campaign_id == event.campaign_id
                    )
                )
            )
            for row in rows:
                progress = {**row.progress, event.indicator: event.value}
                await conn.execute(
                    update(pledges)
                    .where(pledges.c.pledge_id == row.pledge_id)
                    .values(progress=progress, fulfilment_rate=_rate(row.targets, progress))
                )
            return {event.unit_id} if rows else set()
    return set()


async def apply_inspections(conn: AsyncConnection, event: Event) -> Touched:
    if not isinstance(event, GradeConfirmed):
        return set()
    row = (
        await conn.execute(
            select(grades.c.revision).where(grades.c.unit_id == event.unit_id, grades.c.year == event.year)
        )
    ).first()
    if row is not None and row.revision > event.revision:
        return set()  # the latest revision is the one in force
    await conn.execute(grades.delete().where(grades.c.unit_id == event.unit_id, grades.c.year == event.year))
    await conn.execute(
        grades.insert().values(
            unit_id=event.unit_id,
            year=event.year,
            grade=event.grade,
            points=event.points,
            rule_set=event.rule_set,
            confirmed_by=event.by_path,
            revision=event.revision,
        )
    )
    return {event.unit_id}


async def apply_awards(conn: AsyncConnection, event: Event) -> Touched:
    """The service's own decisions as facts: streaks, members' titles (applied inline with the append)."""
    match event:
        case AwardConferred() | PastAwardRecorded():
            number = event.decision.number if isinstance(event, AwardConferred) else event.decision_number
            decided = event.decision.decided_on if isinstance(event, AwardConferred) else event.decided_on
            await conn.execute(
                titles.insert().values(
                    award_id=event.award_id,
                    nominee_id=event.nominee.id,
                    nominee_kind=event.nominee.kind,
                    unit_id=event.nominee.unit_id,
                    award_code=event.award_code,
                    year=event.year,
                    decision_number=number,
                    decided_on=decided,
                    revoked=False,
                )
            )
            return {event.nominee.id, event.nominee.unit_id}
        case AwardRevoked():
            await conn.execute(update(titles).where(titles.c.award_id == event.award_id).values(revoked=True))
            return {event.nominee.id, event.nominee.unit_id}
    return set()


async def mark_dirty(conn: AsyncConnection, nominee_ids: Touched, cause: str) -> None:
    if nominee_ids:
        await conn.execute(dirty.insert(), [{"nominee_id": n, "cause": cause[:200]} for n in sorted(nominee_ids)])


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# The reader's statements, built once: the ids are one expanding parameter (no SQL expression per id).
_IDS = bindparam("ids", expanding=True)
_BY_AUTHOR = (
    select(authors.c.member_id, initiatives)
    .join(initiatives, initiatives.c.initiative_id == authors.c.initiative_id)
    .where(authors.c.member_id.in_(_IDS))
)
_BY_UNIT = select(initiatives).where(initiatives.c.unit_id.in_(_IDS))
_GRADES = select(grades).where(grades.c.unit_id.in_(_IDS))
_PLEDGES = select(pledges).where(pledges.c.unit_id.in_(_IDS))
_HELD = (
    select(titles.c.unit_id, titles.c.year, titles.c.award_code, func.count(func.distinct(titles.c.nominee_id)))
    .where(titles.c.unit_id.in_(_IDS), titles.c.nominee_kind == "individual", titles.c.revoked.is_(False))
    .group_by(titles.c.unit_id, titles.c.year, titles.c.award_code)
)
_TITLES = select(titles).where(titles.c.nominee_id.in_(_IDS))


class FactsReader:
    """``NomineeFacts`` for many nominees at once: individuals by member id, collectives by unit id."""

    async def load(
        self, conn: AsyncConnection, nominees: Sequence[tuple[str, str]], member_counts: dict[str, int] | None = None
    ) -> dict[str, NomineeFacts]:
        """``member_counts``: a collective's members now (from the directory's copy)."""
        members = sorted({nid for kind, nid in nominees if kind == "individual"})
        units = sorted({nid for kind, nid in nominees if kind == "collective"})
        found_initiatives: dict[str, list[InitiativeFact]] = defaultdict(list)
        found_titles: dict[str, list[TitleFact]] = defaultdict(list)
        found_grades: dict[str, dict[int, GradeFact]] = defaultdict(dict)
        found_pledges: dict[str, list[PledgeFact]] = defaultdict(list)
        found_members: dict[str, dict[int, MemberTitles]] = defaultdict(dict)
        found_counts: dict[str, int] = {}
        for chunk in _chunks(members):
            for row in await conn.execute(_BY_AUTHOR, {"ids": chunk}):
                found_initiatives[row.member_id].append(_initiative(row))
        for chunk in _chunks(units):
            for row in await conn.execute(_BY_UNIT, {"ids": chunk}):
                found_initiatives[row.unit_id].append(_initiative(row))
            for row in await conn.execute(_GRADES, {"ids": chunk}):
                found_grades[row.unit_id][row.year] = GradeFact(
                    row.year, row.grade, row.points, row.rule_set, row.confirmed_by
                )
            for row in await conn.execute(_PLEDGES, {"ids": chunk}):
                found_pledges[row.unit_id].append(
                    PledgeFact(row.pledge_id, row.campaign_id, row.signed_on, row.fulfilment_rate)
                )
            counts = {u: (member_counts or {}).get(u, 0) for u in chunk}
            by_unit_year: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
            for unit_id, year, code, count in await conn.execute(_HELD, {"ids": chunk}):
                by_unit_year[(unit_id, year)][code] = count
            for (unit_id, year), holders in by_unit_year.items():
                found_members[unit_id][year] = MemberTitles(counts.get(unit_id, 0), holders)
            found_counts.update(counts)
        everyone = members + units
        for chunk in _chunks(everyone):
            for row in await conn.execute(_TITLES, {"ids": chunk}):
                found_titles[row.nominee_id].append(
                    TitleFact(row.award_id, row.award_code, row.year, row.decision_number, row.decided_on, row.revoked)
                )
        return {
            nid: NomineeFacts(
                nominee_id=nid,
                initiatives=tuple(found_initiatives.get(nid, ())),
                titles=tuple(sorted(found_titles.get(nid, ()), key=lambda t: (t.year, t.award_id))),
                grades=found_grades.get(nid, {}),
                pledges=tuple(found_pledges.get(nid, ())),
                members=found_members.get(nid, {}),
                member_count=found_counts.get(nid),
            )
            for nid in everyone
        }


def _initiative(row: Any) -> InitiativeFact:
    return InitiativeFact(
        initiative_id=row.initiative_id,
        title=row.title,
        unit_id=row.unit_id,
        scope=None if row.revoked else row.scope,
        recognised_on=row.recognised_on,
        decision_number=row.decision_number,
        recognised_by=row.recognised_by,
        applied_on=row.applied_on,
        applied_where=row.applied_where,
        accepted_on=row.accepted_on,
        benefit_vnd=row.benefit_vnd or 0,
        revoked=bool(row.revoked),
    )
