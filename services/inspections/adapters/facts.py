"""The facts a checklist is pre-filled from and judged against, read from the service's own copy (the
inspections projection run at level ``*`` beside the service's copy of the directory).

For each grassroots union: every pledge commitment with its target and the value measured now over the
union's whole subtree (its sub-units, and units merged into it), and the initiatives its members
registered with their status and whether an application is recorded. Read in bulk: opening a round for
a city reads every union's facts in a handful of statements.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import CommitmentItem, InitiativeItem
from services.inspections.adapters.tables import campaigns, commitments, counts, initiatives, reported, unit_dates
from services.inspections.adapters.views import owner_of, under
from services.inspections.domain.selfinspection import commitment_key, initiative_key
from shared.db import Database


@dataclass(frozen=True)
class Facts:
    """One grassroots union's facts (the domain's ``UnitFacts`` without the unit)."""

    commitments: tuple[CommitmentItem, ...]
    initiatives: tuple[InitiativeItem, ...]


class FactsReader:
    def __init__(self, db: Database, units: Table) -> None:
        self.db, self.units = db, units

    async def for_units(self, unit_ids: list[str], year: int, path: str | None = None) -> dict[str, Facts]:
        """The facts of these grassroots unions (all of them under ``path`` when it is given)."""
        async with self.db.reader.connect() as conn:
            return await read_facts(conn, self.units, unit_ids, year, path)

    async def dates(self, unit_id: str) -> tuple[date | None, date | None]:
        """When the unit started operating, and when it last absorbed another (a merger)."""
        async with self.db.reader.connect() as conn:
            row = (await conn.execute(select(unit_dates).where(unit_dates.c.unit_id == unit_id))).first()
        return (row.operating_since, row.restructured_on) if row is not None else (None, None)


async def read_facts(
    conn: AsyncConnection, units: Table, unit_ids: list[str], year: int, path: str | None
) -> dict[str, Facts]:
    own = owner_of(units)
    owner = own.label("owner_id")
    scope: Any = under(units, path) if path is not None else own.in_(unit_ids)
    wanted = set(unit_ids)
    by_campaign = {row.campaign_id: row for row in await conn.execute(select(campaigns))}

    pledged: dict[str, list[Any]] = defaultdict(list)
    rows = await conn.execute(
        select(commitments)
        .join(units, units.c.unit_id == commitments.c.unit_id)
        .where(scope, units.c.kind == "grassroots_union")
    )
    for row in rows:
        campaign = by_campaign.get(row.campaign_id)
        if campaign is not None and campaign.starts_on.year <= year <= campaign.ends_on.year:
            pledged[row.unit_id].append(row)

    measured = await _measured(
        conn,
        units,
        scope,
        owner,
        {c for rows_ in pledged.values() for c in {r.campaign_id for r in rows_}},
        by_campaign,
    )

    registered: dict[str, list[InitiativeItem]] = defaultdict(list)
    rows = await conn.execute(
        select(initiatives, owner)
        .join(units, units.c.unit_id == initiatives.c.unit_id)
        .where(
            scope,
            func.coalesce(initiatives.c.registered_on, date(year, 1, 1)) <= date(year, 12, 31),
            or_(
                initiatives.c.registered_on >= date(year, 1, 1),
                and_(initiatives.c.applied_on.is_(None), initiatives.c.status != "rejected"),
            ),
        )
        .order_by(initiatives.c.registered_on, initiatives.c.initiative_id)
    )
    for row in rows:
        registered[row.owner_id].append(
            InitiativeItem(
                key=initiative_key(row.initiative_id),
                initiative_id=row.initiative_id,
                title=row.title,
                status=row.status,
                registered_on=row.registered_on,
                applied_on=row.applied_on,
            )
        )

    found: dict[str, Facts] = {}
    for unit_id in wanted:
        items = []
        for row in sorted(pledged.get(unit_id, ()), key=lambda r: (r.campaign_id, r.indicator)):
            campaign = by_campaign[row.campaign_id]
            spec = next((i for i in campaign.indicators if i["code"] == row.indicator), None)
            if spec is None:
                continue
            items.append(
                CommitmentItem(
                    key=commitment_key(row.campaign_id, row.indicator),
                    campaign_id=row.campaign_id,
                    campaign_title=campaign.title,
                    indicator=row.indicator,
                    indicator_name=spec["name"],
                    unit_of_measure=spec["unit_of_measure"],
                    direction=spec["direction"],
                    method=spec["method"],
                    target=row.target,
                    deadline=row.deadline,
                    measured=measured.get((unit_id, row.campaign_id, row.indicator), 0.0),
                )
            )
        found[unit_id] = Facts(tuple(items), tuple(registered.get(unit_id, ())))
    return found


async def _measured(
    conn: AsyncConnection, units: Table, scope: Any, owner: Any, campaign_ids: set[str], by_campaign: dict[str, Any]
) -> dict[tuple[str, str, str], float]:
    """(owner, campaign, indicator) → the value measured now: counted events in the campaign's period over
    the owner's subtree, or the values reported for it."""
    found: dict[tuple[str, str, str], float] = defaultdict(float)
    for campaign_id in sorted(campaign_ids):
        campaign = by_campaign[campaign_id]
        by_source: dict[str, list[str]] = defaultdict(list)
        for spec in campaign.indicators:
            if spec["method"] == "counted" and spec.get("source"):
                by_source[spec["source"]].append(spec["code"])
        if by_source:
            rows = await conn.execute(
                select(owner, counts.c.source, func.sum(counts.c.n).label("n"))
                .join(units, units.c.unit_id == counts.c.unit_id)
                .where(
                    scope,
                    counts.c.source.in_(list(by_source)),
                    counts.c.day.between(campaign.starts_on, campaign.ends_on),
                    counts.c.campaign_key.in_(["", campaign_id]),  # a registration naming another campaign is not ours
                )
                .group_by(owner, counts.c.source)
            )
            for row in rows:
                for code in by_source[row.source]:
                    found[(row.owner_id, campaign_id, code)] += float(row.n)
        rows = await conn.execute(
            select(owner, reported.c.indicator, func.sum(reported.c.value).label("value"))
            .join(units, units.c.unit_id == reported.c.unit_id)
            .where(scope, reported.c.campaign_id == campaign_id)
            .group_by(owner, reported.c.indicator)
        )
        for row in rows:
            found[(row.owner_id, campaign_id, row.indicator)] += float(row.value)
    return found
