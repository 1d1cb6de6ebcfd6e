"""The radar's half of the inspections projection: writing and dropping the signs of formalism fixed by an
event (each judged by the rule set in force on its date, keeping that version), the judgements made from
the pledges and registry facts (near-duplicates, targets met only by unevidenced reports, registrations
bunched before a deadline), and the awards signal.

``RadarHandlers`` is the base every other part of the level projection builds on (``adapters/level.py``).
"""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import AwardConferred, AwardRevoked
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


def upsert(conn: AsyncConnection, table: Any) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


class RadarHandlers:
    """Signs of formalism fixed by events, and what the rest of the projection shares."""

    _campaigns: dict[str, dict[str, Any]] | None
    _dirty: set[str]  # units whose score rows (adapters/risk.py) are rebuilt at the batch's flush

    def _touched(self, *unit_ids: str | None) -> None:
        self._dirty.update(u for u in unit_ids if u)

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
        self._touched(unit_id)
        stmt = upsert(conn, signals).values(
            unit_id=unit_id,
            kind=kind,
            subject=subject,
            active_from=active_from,
            rule_set=rule_set,
            detail=_jsonable(detail),
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[signals.c.unit_id, signals.c.kind, signals.c.subject],
                set_={
                    "active_from": stmt.excluded.active_from,
                    "detail": stmt.excluded.detail,
                    "rule_set": stmt.excluded.rule_set,
                },
            )
        )

    async def _drop_signal(self, conn: AsyncConnection, unit_id: str, kind: str, subject: str) -> None:
        self._touched(unit_id)
        await conn.execute(
            delete(signals).where(signals.c.unit_id == unit_id, signals.c.kind == kind, signals.c.subject == subject)
        )

    async def _duplicates(
        self, conn: AsyncConnection, unit_id: str, initiative_id: str, title: str, found: Any, day: date
    ) -> None:
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

    async def _judge_reported(self, conn: AsyncConnection, campaign_id: str, unit_id: str) -> None:
        """A reported indicator whose target is met only by values reported without checkable evidence."""
        campaign = (await self._campaign_cache(conn)).get(campaign_id)
        if campaign is None:
            return
        rows = await conn.execute(
            select(reported).where(reported.c.campaign_id == campaign_id, reported.c.unit_id == unit_id)
        )
        wanted = {
            r.indicator: r.target
            for r in await conn.execute(
                select(targets.c.indicator, targets.c.target).where(
                    targets.c.campaign_id == campaign_id, targets.c.unit_id == unit_id
                )
            )
        }
        wanted |= {
            r.indicator: r.target
            for r in await conn.execute(
                select(commitments.c.indicator, commitments.c.target).where(
                    commitments.c.campaign_id == campaign_id, commitments.c.unit_id == unit_id
                )
            )
        }
        for row in rows:
            subject = f"{campaign_id}:{row.indicator}"
            target = wanted.get(row.indicator)
            direction = campaign["directions"].get(row.indicator, "at_least")
            if target is None or row.verifiable or not radar.met(row.value, target, direction):
                await self._drop_signal(conn, unit_id, "reported_without_evidence", subject)
                continue
            await self._signal(
                conn,
                unit_id,
                "reported_without_evidence",
                subject,
                row.reported_on,
                rules_on(row.reported_on).version,
                {
                    "campaign_id": campaign_id,
                    "campaign": campaign["title"],
                    "indicator": row.indicator,
                    "value": row.value,
                    "target": target,
                    "reported_on": row.reported_on,
                    "evidence": row.evidence,
                },
            )

    async def _judge_bunching(self, conn: AsyncConnection, unit_id: str, campaign_id: str) -> None:
        """Each deadline of the campaign: did the unit's registrations for it crowd into its last days?"""
        campaign = (await self._campaign_cache(conn)).get(campaign_id)
        if campaign is None:
            return
        days = [
            r
            for (r,) in await conn.execute(
                select(initiatives.c.registered_on).where(
                    initiatives.c.unit_id == unit_id, initiatives.c.campaign_id == campaign_id
                )
            )
        ]
        previous = campaign["starts_on"] - timedelta(days=1)
        for deadline in campaign["deadlines"]:
            rules = rules_on(deadline)
            found = radar.bunching(days, previous, deadline, rules.radar)
            subject = f"{campaign_id}:{deadline.isoformat()}"
            if found is None:
                await self._drop_signal(conn, unit_id, "bunched_registrations", subject)
            else:
                await self._signal(
                    conn,
                    unit_id,
                    "bunched_registrations",
                    subject,
                    deadline + timedelta(days=1),
                    rules.version,
                    {
                        "campaign_id": campaign_id,
                        "campaign": campaign["title"],
                        "deadline": deadline,
                        "registrations": found.total,
                        "in_last_days": found.bunched,
                        "days": rules.radar.bunching_days,
                        "share": found.share,
                    },
                )
            previous = deadline

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
