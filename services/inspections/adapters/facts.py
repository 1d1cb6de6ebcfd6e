"""The facts a checklist is pre-filled from and judged against, read from the service's own copy (the
inspections projection run at level ``*`` beside the service's copy of the directory).

For each grassroots union, within the checklist's window (its year, or its half-year: ``period_window``):
every pledge commitment of a campaign running in the window, with its target and the value measured over
the union's whole subtree (its sub-units, and units merged into it) as it stood on the window's last day
(counted up to it, or as last reported on or before it), and the initiatives its members registered in
the window (or before it, still waiting for an application on its last day) with their status and
whether an application is recorded by then (an application counts from its own day, ``since``). Read in
bulk: opening a round for a city reads every union's facts in a handful of statements.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import CommitmentItem, InitiativeItem
from services.inspections.adapters.tables import (
    campaigns,
    commitments,
    counts,
    initiatives,
    merged,
    reported,
    reported_history,
    unit_dates,
)
from services.inspections.adapters.views import owner_of, under
from services.inspections.domain.rules import SUB_UNIT
from services.inspections.domain.selfinspection import Window, commitment_key, initiative_key
from shared.db import Database


@dataclass(frozen=True)
class Facts:
    """One grassroots union's facts (the domain's ``UnitFacts`` without the unit)."""

    commitments: tuple[CommitmentItem, ...]
    initiatives: tuple[InitiativeItem, ...]


# Items are validated all at once (one call into pydantic's core per kind): validating them one by one was
# most of the cost of opening a city's round (see tests/benchmarks/inspections.py).
_COMMITMENTS = TypeAdapter(list[CommitmentItem])
_INITIATIVES = TypeAdapter(list[InitiativeItem])


class FactsReader:
    def __init__(self, db: Database, units: Table) -> None:
        self.db, self.units = db, units

    async def for_units(self, unit_ids: list[str], window: Window, path: str | None = None) -> dict[str, Facts]:
        """The facts of these grassroots unions in the window (all of them under ``path`` when it is given)."""
        async with self.db.reader.connect() as conn:
            return await read_facts(conn, self.units, unit_ids, window, path)

    async def dates(self, unit_id: str) -> tuple[date | None, date | None]:
        """When the unit started operating, and when it last absorbed another (a merger)."""
        async with self.db.reader.connect() as conn:
            row = (await conn.execute(select(unit_dates).where(unit_dates.c.unit_id == unit_id))).first()
        return (row.operating_since, row.restructured_on) if row is not None else (None, None)


async def owners(conn: AsyncConnection, units: Table, unit_ids: list[str], path: str | None) -> dict[str, str]:
    """unit id → the grassroots union its facts count for: every unit under ``path``, or the given unions
    with their sub-units and the units merged into them (each read through an index)."""
    if path is not None:
        rows = await conn.execute(select(units.c.unit_id, owner_of(units)).where(under(units, path)))
        return {uid: owner for uid, owner in rows if owner is not None}
    found = {uid: uid for uid in unit_ids}
    for chunk in _chunks(unit_ids):
        subs = select(units.c.unit_id, units.c.parent_id).where(units.c.parent_id.in_(chunk), units.c.kind == SUB_UNIT)
        found |= {uid: parent for uid, parent in await conn.execute(subs)}
        gone = select(merged.c.unit_id, merged.c.into_unit_id).where(merged.c.into_unit_id.in_(chunk))
        found |= {uid: into for uid, into in await conn.execute(gone)}
    return found


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


@dataclass(frozen=True)
class Scope:
    """Whose rows to read: ``ids``, or (``path`` given) every unit under it — one statement joined to the
    units table instead of a search per id, which a city-wide round would pay 13,000 times."""

    ids: list[str]
    units: Table
    path: str | None = None


async def _rows(conn: AsyncConnection, query: Any, column: Any, scope: Scope | list[str]) -> list[Any]:
    """``query`` for the rows whose ``column`` is in the scope (ids in chunks, each an index search).
    Fetched with ``all()``: iterating a result pays three calls per row (a city's round reads 130,000)."""
    if isinstance(scope, Scope) and scope.path is not None:
        units = scope.units
        joined = query.join(units, units.c.unit_id == column).where(under(units, scope.path))
        return (await conn.execute(joined)).all()
    ids = scope.ids if isinstance(scope, Scope) else scope
    found: list[Any] = []
    for chunk in _chunks(ids):
        found += (await conn.execute(query.where(column.in_(chunk)))).all()
    return found


_INITIATIVE_COLUMNS = (
    initiatives.c.registered_on, initiatives.c.initiative_id, initiatives.c.unit_id, initiatives.c.title,
    initiatives.c.status, initiatives.c.applied_on,
)  # fmt: skip
_COMMITMENT_COLUMNS = (
    commitments.c.unit_id, commitments.c.campaign_id, commitments.c.indicator, commitments.c.target,
    commitments.c.deadline,
)  # fmt: skip


async def read_facts(
    conn: AsyncConnection, units: Table, unit_ids: list[str], window: Window, path: str | None
) -> dict[str, Facts]:
    """Rows are read as plain tuples and sorted as tuples (a city's round builds 90,000 items: every
    attribute access and key function per row showed in its profile). The database returns them in
    that order already, so the sorts here only confirm it (a sort of presorted rows is one pass; the
    65,000 initiatives of a city, compared by their dates, took a tenth of its round's facts to sort);
    they still decide the order where a database collates text otherwise."""
    wanted = set(unit_ids)
    owner = await owners(conn, units, unit_ids, path)
    everyone = Scope(sorted(owner), units, path)

    query = select(*_COMMITMENT_COLUMNS).order_by(*_COMMITMENT_COLUMNS[:3])
    pledged = [r for r in await _rows(conn, query, commitments.c.unit_id, Scope(sorted(wanted), units, path))
               if r[0] in wanted]  # fmt: skip
    ids = sorted({r[1] for r in pledged})
    by_campaign = {row.campaign_id: row for row in await _rows(conn, select(campaigns), campaigns.c.campaign_id, ids)}
    first, last = window.starts_on, window.ends_on
    running = {c for c, row in by_campaign.items() if row.starts_on <= last and row.ends_on >= first}
    pledged = sorted((r for r in pledged if r[1] in running), key=itemgetter(0, 1, 2))  # unit, campaign, indicator
    measured = await _measured(conn, owner, everyone, sorted({r[1] for r in pledged}), by_campaign, last)

    # Registered in the window, or before its end and still waiting for an application by then (carried
    # over); an undated registration counts as carried over. An application counts from its own day.
    unapplied = or_(initiatives.c.applied_on.is_(None), initiatives.c.applied_on > last)
    relevant = and_(
        func.coalesce(initiatives.c.registered_on, first) <= last,
        or_(initiatives.c.registered_on >= first, and_(unapplied, initiatives.c.status != "rejected")),
    )
    query = (
        select(*_INITIATIVE_COLUMNS)
        .where(relevant)
        .order_by(_INITIATIVE_COLUMNS[0].nulls_first(), _INITIATIVE_COLUMNS[1])
    )
    rows = await _rows(conn, query, initiatives.c.unit_id, everyone)
    rows = [r if r[5] is None or r[5] <= last else _before_application(r) for r in rows]
    undated = [r for r in rows if r[0] is None]  # a registration without a day comes first
    rows = sorted(undated, key=itemgetter(1)) + sorted((r for r in rows if r[0] is not None), key=itemgetter(0, 1))
    registered: dict[str, list[InitiativeItem]] = defaultdict(list)
    items = _INITIATIVES.validate_python([
        {"key": initiative_key(initiative_id), "initiative_id": initiative_id, "title": title,
         "status": status, "registered_on": registered_on, "applied_on": applied_on}
        for registered_on, initiative_id, _, title, status, applied_on in rows
    ])  # fmt: skip
    for row, item in zip(rows, items, strict=True):
        registered[owner[row[2]]].append(item)

    specs = {(c.campaign_id, i["code"]): i for c in by_campaign.values() for i in c.indicators}
    units_of_items, wanted_items = [], []
    for unit_id, campaign_id, indicator, target, deadline in pledged:
        spec = specs.get((campaign_id, indicator))
        if spec is None:
            continue
        units_of_items.append(unit_id)
        wanted_items.append({
            "key": commitment_key(campaign_id, indicator), "campaign_id": campaign_id,
            "campaign_title": by_campaign[campaign_id].title, "indicator": indicator,
            "indicator_name": spec["name"], "unit_of_measure": spec["unit_of_measure"],
            "direction": spec["direction"], "method": spec["method"], "target": target,
            "deadline": deadline, "measured": measured.get((unit_id, campaign_id, indicator), 0.0),
        })  # fmt: skip
    committed: dict[str, list[CommitmentItem]] = defaultdict(list)
    for unit_id, item in zip(units_of_items, _COMMITMENTS.validate_python(wanted_items), strict=True):
        committed[unit_id].append(item)
    return {unit_id: Facts(tuple(committed[unit_id]), tuple(registered.get(unit_id, ()))) for unit_id in wanted}


def _before_application(row: Any) -> Any:
    """An initiative's row before its application's own day (later than the window's end), as far as the
    copy knows: no application yet, and in the book (recognised: only a recognised initiative is applied;
    a recognition's own day is not kept, so one recognised after the window's end still shows)."""
    registered_on, initiative_id, unit_id, title, status, _ = row
    return registered_on, initiative_id, unit_id, title, "recognised" if status in _APPLIED else status, None


_APPLIED = frozenset({"applied", "accepted"})


async def _measured(
    conn: AsyncConnection, owner: dict[str, str], everyone: Scope, campaign_ids: list[str],
    by_campaign: dict[str, Any], until: date,
) -> dict[tuple[str, str, str], float]:  # fmt: skip
    """(owner, campaign, indicator) → the value measured by ``until`` (the window's last day) over the
    owner's subtree: counted events in the campaign's period up to that day, or the value as last reported
    on or before it."""
    found: dict[tuple[str, str, str], float] = defaultdict(float)
    for campaign_id in campaign_ids:
        campaign = by_campaign[campaign_id]
        by_source: dict[str, list[str]] = defaultdict(list)
        for spec in campaign.indicators:
            if spec["method"] == "counted" and spec.get("source"):
                by_source[spec["source"]].append(spec["code"])
        if by_source:
            query = (
                select(counts.c.unit_id, counts.c.source, func.sum(counts.c.n).label("n"))
                .where(
                    counts.c.source.in_(list(by_source)),
                    counts.c.day.between(campaign.starts_on, min(campaign.ends_on, until)),
                    counts.c.campaign_key.in_(["", campaign_id]),  # a registration naming another campaign is not ours
                )
                .group_by(counts.c.unit_id, counts.c.source)
            )
            for row in await _rows(conn, query, counts.c.unit_id, everyone):
                for code in by_source[row.source]:
                    found[(owner[row.unit_id], campaign_id, code)] += float(row.n)
        for (unit_id, indicator), value in (await _reported(conn, everyone, campaign_id, until)).items():
            found[(owner[unit_id], campaign_id, indicator)] += value
    return found


async def _reported(
    conn: AsyncConnection, everyone: Scope, campaign_id: str, until: date
) -> dict[tuple[str, str], float]:
    """(unit, indicator) → the value last reported on or before ``until``: none reported by then is 0, as
    a value never reported. A value whose latest report is not in the history (reported before the copy
    kept one, and not rebuilt since) keeps that latest report, as it did before."""
    h = reported_history
    query = (
        select(h.c.unit_id, h.c.indicator, h.c.value)
        .where(h.c.campaign_id == campaign_id, h.c.reported_on <= until)
        .order_by(h.c.unit_id, h.c.indicator, h.c.reported_on)  # the key's order: the last of each wins below
    )
    found = {
        (unit_id, indicator): float(value)
        for unit_id, indicator, value in await _rows(conn, query, h.c.unit_id, everyone)
    }
    # Every report written since the history exists is in it, the latest too (at its day).
    kept = and_(
        h.c.campaign_id == reported.c.campaign_id, h.c.unit_id == reported.c.unit_id,
        h.c.indicator == reported.c.indicator, h.c.reported_on == reported.c.reported_on,
    )  # fmt: skip
    query = (
        select(reported.c.unit_id, reported.c.indicator, reported.c.value)
        .select_from(reported.outerjoin(h, kept))
        .where(reported.c.campaign_id == campaign_id, h.c.value.is_(None))
    )
    for unit_id, indicator, value in await _rows(conn, query, reported.c.unit_id, everyone):
        found[(unit_id, indicator)] = float(value)
    return found
