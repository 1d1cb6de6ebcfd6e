"""The radar's half of the inspections projection: writing and dropping the signs of formalism fixed by an
event (each judged by the rule set in force on its date, keeping that version), the judgements made from
the pledges and registry facts (near-duplicates, targets met only by unevidenced reports, registrations
bunched before a deadline), and the awards signal.

``RadarHandlers`` is the base every other part of the level projection builds on (``adapters/level.py``).
"""

import functools
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import AwardConferred, AwardRevoked
from services.inspections.adapters.bulk import rows_of
from services.inspections.adapters.level_writes import PutOff
from services.inspections.adapters.tables import (
    awarded,
    campaigns,
    commitments,
    initiatives,
    owners,
    reported,
    signals,
    targets,
)
from services.inspections.domain import radar
from services.inspections.domain.rulesets import rules_on
from shared.projection import Context, on


def dialect_insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


def upsert(conn: AsyncConnection, table: Any) -> Any:
    return dialect_insert(conn.dialect.name)(table)


def prepared_upsert(conn: AsyncConnection, table: Table) -> Any:
    """An insert of a row (given as the execute's parameters) that overwrites the row with its key:
    built once per table and dialect, so a handler only executes it (building a statement per event was
    most of a replay's cost)."""
    return _upsert(conn.dialect.name, table)


@functools.cache
def _upsert(dialect: str, table: Table) -> Any:
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    keys = [c for c in table.primary_key.columns]
    rest = {c.name: stmt.excluded[c.name] for c in table.columns if not c.primary_key}
    return stmt.on_conflict_do_update(index_elements=keys, set_=rest)


class RadarHandlers(PutOff):
    """Signs of formalism fixed by events, and what the rest of the projection shares."""

    _campaigns: dict[str, dict[str, Any]] | None
    _reports: set[tuple[str, str]]  # (campaign, unit) whose reports, targets or commitments changed

    async def _counts_for(self, conn: AsyncConnection, unit_id: str, owner_id: str) -> None:
        """From now on the unit's signs (and those of the units counting for it) count for ``owner_id``."""
        previous = await conn.scalar(select(owners.c.owner_id).where(owners.c.unit_id == unit_id))
        await conn.execute(update(owners).where(owners.c.owner_id == unit_id).values(owner_id=owner_id))
        stmt = upsert(conn, owners).values(unit_id=unit_id, owner_id=owner_id)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[owners.c.unit_id], set_={"owner_id": owner_id}))
        self._touched(unit_id, owner_id, previous)

    # -- awards (the radar's awards signal) --------------------------------------------------------------

    @on(AwardConferred)
    async def award_conferred(self, conn: AsyncConnection, event: AwardConferred, ctx: Context) -> None:
        """Who a level's awards go to: direct workers, or officials (seed 001: aimed at direct workers)."""
        if event.nominee.kind != "individual":
            return
        self._touched(event.decision.level.unit_id)
        stmt = upsert(conn, awarded).values(
            award_id=event.award_id,
            unit_id=event.unit_id,
            by_unit_id=event.decision.level.unit_id,
            year=event.year,
            official=event.nominee.is_official,
            nominee=event.nominee.name,
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[awarded.c.award_id]))

    @on(AwardRevoked)
    async def award_revoked(self, conn: AsyncConnection, event: AwardRevoked, ctx: Context) -> None:
        by = await conn.scalar(select(awarded.c.by_unit_id).where(awarded.c.award_id == event.award_id))
        if by is not None:
            self._touched(by)
        await conn.execute(delete(awarded).where(awarded.c.award_id == event.award_id))

    # -- signs ------------------------------------------------------------------------------------------

    async def _signal(
        self,
        conn: AsyncConnection,
        unit_id: str,
        kind: str,
        subject: str,
        active_from: date,
        rule_set: str,
        detail: dict[str, Any],
    ) -> None:
        """Put off to the batch's end (``PutOff``), as every write of a sign is."""
        self._touched(unit_id)
        row = {"unit_id": unit_id, "kind": kind, "subject": subject, "active_from": active_from}
        self._writes.add(
            signals, prepared_upsert(conn, signals), {**row, "rule_set": rule_set, "detail": _jsonable(detail)}
        )

    async def _drop_signal(self, conn: AsyncConnection, unit_id: str, kind: str, subject: str) -> None:
        await self._written(conn)
        dropped = await conn.execute(
            delete(signals).where(signals.c.unit_id == unit_id, signals.c.kind == kind, signals.c.subject == subject)
        )
        if dropped.rowcount:
            self._touched(unit_id)

    async def _duplicates(
        self, conn: AsyncConnection, unit_id: str, initiative_id: str, title: str, found: Any, day: date
    ) -> None:
        if not found:  # most registrations: no rule set to look up
            return
        rules = rules_on(day)
        for dup in found:
            if radar.near_duplicate(dup.score, dup.other_unit, rules.radar):
                await self._signal(
                    conn,
                    unit_id,
                    "near_duplicate",
                    f"{initiative_id}:{dup.initiative_id}",
                    day,
                    rules.version,
                    {
                        "initiative_id": initiative_id,
                        "title": title,
                        "other_initiative_id": dup.initiative_id,
                        "other_unit_id": dup.unit_id,
                        "other_title": dup.title,
                        "score": dup.score,
                    },
                )

    async def _judge_reported(self, conn: AsyncConnection, pending: set[tuple[str, str]]) -> None:
        """(campaign, unit) pairs whose reports, targets or commitments changed in the batch: a reported
        indicator whose target is met only by values reported without checkable evidence is a sign."""
        cache = await self._campaign_cache(conn)
        pairs = {p for p in pending if p[0] in cache}
        units = sorted({u for _, u in pairs})
        goals: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        rows = await rows_of(conn, select(reported), reported.c.unit_id, units)
        for table in (targets, commitments):  # a unit's own commitment overrides the target it was given
            query = select(table.c.campaign_id, table.c.unit_id, table.c.indicator, table.c.target)
            for c, u, indicator, target in await rows_of(conn, query, table.c.unit_id, units):
                goals[(c, u)][indicator] = target
        judged, wanted = set(), {}
        for row in rows:
            if (row.campaign_id, row.unit_id) not in pairs:
                continue
            campaign = cache[row.campaign_id]
            key = (row.unit_id, f"{row.campaign_id}:{row.indicator}")
            judged.add(key)
            target = goals[(row.campaign_id, row.unit_id)].get(row.indicator)
            direction = campaign["directions"].get(row.indicator, "at_least")
            if target is None or row.verifiable or not radar.met(row.value, target, direction):
                continue
            detail = {
                "campaign_id": row.campaign_id, "campaign": campaign["title"], "indicator": row.indicator,
                "value": row.value, "target": target, "reported_on": row.reported_on, "evidence": row.evidence,
            }  # fmt: skip
            wanted[key] = (row.reported_on, rules_on(row.reported_on).version, detail)
        await self._reconcile(conn, "reported_without_evidence", units, judged, wanted)

    async def _judge_bunching(self, conn: AsyncConnection, pending: set[tuple[str, str]]) -> None:
        """(unit, campaign) pairs with new registrations: at each deadline of the campaign, did the unit's
        registrations for it crowd into its last days?"""
        cache = await self._campaign_cache(conn)
        pairs = {p for p in pending if p[1] in cache}
        units = sorted({u for u, _ in pairs})
        days: dict[tuple[str, str], list[date]] = defaultdict(list)
        query = select(initiatives.c.unit_id, initiatives.c.campaign_id, initiatives.c.registered_on).where(
            initiatives.c.registered_on.is_not(None)
        )
        for unit_id, campaign_id, day in await rows_of(conn, query, initiatives.c.unit_id, units):
            days[(unit_id, campaign_id)].append(day)
        judged, wanted = set(), {}
        for unit_id, campaign_id in pairs:
            campaign = cache[campaign_id]
            previous = campaign["starts_on"] - timedelta(days=1)
            for deadline in campaign["deadlines"]:
                rules = rules_on(deadline)
                found = radar.bunching(days[(unit_id, campaign_id)], previous, deadline, rules.radar)
                key = (unit_id, f"{campaign_id}:{deadline.isoformat()}")
                judged.add(key)
                if found is not None:
                    detail = {
                        "campaign_id": campaign_id, "campaign": campaign["title"], "deadline": deadline,
                        "registrations": found.total, "in_last_days": found.bunched,
                        "days": rules.radar.bunching_days, "share": found.share,
                    }  # fmt: skip
                    wanted[key] = (deadline + timedelta(days=1), rules.version, detail)
                previous = deadline
        await self._reconcile(conn, "bunched_registrations", units, judged, wanted)

    async def _reconcile(
        self,
        conn: AsyncConnection,
        kind: str,
        units: list[str],
        judged: set[tuple[str, str]],
        wanted: dict[tuple[str, str], tuple[date, str, dict[str, Any]]],
    ) -> None:
        """Make the signs of ``kind`` judged just now ((unit, subject) pairs) what the judgement found,
        writing only what differs from the stored signs (most judgements change nothing)."""
        await self._written(conn)
        query = select(signals.c.unit_id, signals.c.subject, signals.c.active_from, signals.c.rule_set,
                       signals.c.detail).where(signals.c.kind == kind)  # fmt: skip
        stored = {
            (u, subject): (since, version, detail)
            for u, subject, since, version, detail in await rows_of(conn, query, signals.c.unit_id, units)
        }
        for key in sorted(judged):
            found = wanted.get(key)
            if found is None:
                if key in stored:
                    await self._drop_signal(conn, key[0], kind, key[1])
            elif key not in stored or stored[key] != (found[0], found[1], _jsonable(found[2])):
                await self._signal(conn, key[0], kind, key[1], found[0], found[1], found[2])

    async def _campaign_cache(self, conn: AsyncConnection) -> dict[str, dict[str, Any]]:
        if self._campaigns is None:
            found: dict[str, dict[str, Any]] = {}
            for row in await conn.execute(select(campaigns)):
                deadlines = sorted({date.fromisoformat(d) for d in row.report_deadlines} | {row.ends_on})
                found[row.campaign_id] = {
                    "title": row.title,
                    "starts_on": row.starts_on,
                    "deadlines": deadlines,
                    "directions": {i["code"]: i["direction"] for i in row.indicators},
                }
            self._campaigns = found
        return self._campaigns


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value
