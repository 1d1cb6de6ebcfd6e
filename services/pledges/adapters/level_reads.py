"""Reads of a level's progress: the campaigns that reach it (overdue ones flagged) and the progress
table of a unit's children or whole subtree, laggards first, units with no report by the last passed
deadline flagged. Served by the level host at ``/levels/{level}/pledges/…``."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.pledges.adapters.level_tables import campaigns, pledged, reports, targets, values
from services.pledges.domain.rules import achievement
from shared import numbers
from shared.errors import NotFound
from shared.level_host import Level
from shared.membership import level_units as units
from shared.subjects import ancestors, in_subtree
from shared.subtree import below


def _cutoff(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive datetimes


async def read_campaigns(conn: AsyncConnection, path: str, now: datetime) -> list[dict[str, Any]]:
    """Every campaign that reaches ``path`` or was launched below it: launched above it, by it, or under it."""
    rows = [dict(r._mapping) for r in await conn.execute(select(campaigns))]
    seen = [r for r in rows if r["launcher_path"] in ancestors(path) or in_subtree(r["launcher_path"], path)]
    for row in seen:
        row["overdue"] = row["status"] == "open" and now.date() > row["ends_on"]
    return sorted(seen, key=lambda r: (not r["overdue"], r["launcher_path"], r["starts_on"]))


def _window(campaign: dict[str, Any], now: datetime) -> tuple[datetime, datetime] | None:
    """The reporting window of the last deadline that has passed: (after, until]."""
    previous, window = datetime.combine(campaign["starts_on"], time.min, UTC), None
    for raw in campaign["report_deadlines"]:
        end = _cutoff(date.fromisoformat(raw))
        if end > now:
            break
        window, previous = (previous, end), end
    return window


async def read_progress(
    conn: AsyncConnection,
    campaign_id: str,
    unit_path: str,
    depth: Literal["children", "subtree"],
    now: datetime,
    limit: int,
    offset: int,
) -> dict[str, Any] | None:
    row = (await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))).first()
    unit = (await conn.execute(select(units).where(units.c.path == unit_path, units.c.status == "active"))).first()
    if row is None or unit is None:
        return None
    campaign = dict(row._mapping)
    indicators = {i["code"]: i for i in campaign["indicators"]}
    if depth == "children":
        where = units.c.parent_id == unit.unit_id
    else:
        where = below(units.c.path, unit_path)
    listed = {
        r.unit_id: dict(r._mapping) for r in await conn.execute(select(units).where(where, units.c.status == "active"))
    }
    ids = [unit.unit_id, *listed]
    got: dict[str, dict[str, float]] = {}
    wanted: dict[str, dict[str, float]] = {}
    for chunk in _chunks(ids):
        for uid, code, total in await conn.execute(
            select(values.c.unit_id, values.c.indicator, values.c.total).where(
                values.c.campaign_id == campaign_id, values.c.unit_id.in_(chunk)
            )
        ):
            got.setdefault(uid, {})[code] = total
        for uid, code, target in await conn.execute(
            select(targets.c.unit_id, targets.c.indicator, targets.c.target).where(
                targets.c.campaign_id == campaign_id, targets.c.unit_id.in_(chunk)
            )
        ):
            wanted.setdefault(uid, {})[code] = target
    signed = {
        uid for (uid,) in await conn.execute(select(pledged.c.unit_id).where(pledged.c.campaign_id == campaign_id))
    }
    window = _window(campaign, now)
    reported_on_time: set[str] = set()
    if window is not None:
        stmt = select(reports.c.unit_id, reports.c.reported_at).where(reports.c.campaign_id == campaign_id)
        reported_on_time = {uid for uid, at in await conn.execute(stmt) if window[0] < _aware(at) <= window[1]}
    owing = {code for code, i in indicators.items() if i["method"] == "reported"}

    def view(uid: str, info: dict[str, Any]) -> dict[str, Any]:
        cells = []
        for code, indicator in indicators.items():
            target = wanted.get(uid, {}).get(code)
            actual = got.get(uid, {}).get(code, 0.0)
            pct = None if target is None else achievement(actual, target, indicator["direction"])
            cells.append(
                {
                    "indicator": code,
                    "name": indicator["name"],
                    "unit_of_measure": indicator["unit_of_measure"],
                    "target": target,
                    "actual": actual,
                    "achievement": None if pct is None else float(pct),
                }
            )
        rated = [c["achievement"] for c in cells if c["achievement"] is not None]
        return {
            "unit_id": uid,
            "path": info["path"],
            "name": info["name"],
            "kind": info["kind"],
            "pledged": uid in signed,
            # No report in the window of the last passed deadline, though it owes a reported indicator.
            "flagged": window is not None and bool(owing & set(wanted.get(uid, {}))) and uid not in reported_on_time,
            "achievement": min(rated) if rated else None,  # its weakest indicator: what makes it a laggard
            "indicators": cells,
        }

    rows = [view(uid, info) for uid, info in listed.items()]
    # Laggards first: lowest achievement, then flagged; units with no target at all last.
    rows.sort(key=lambda r: (r["achievement"] is None, r["achievement"] or 0.0, not r["flagged"], r["path"]))
    return {
        "campaign_id": campaign_id,
        "title": campaign["title"],
        "plan_number": campaign["plan_number"],
        "overdue": campaign["status"] == "open" and now.date() > campaign["ends_on"],
        "unit": view(unit.unit_id, dict(unit._mapping)),
        "depth": depth,
        "total": len(rows),
        "limit": limit,
        "offset": offset,
        "rows": rows[offset : offset + limit],
    }


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


router = APIRouter(prefix="/pledges", tags=["pledges level"])


@router.get("/campaigns")
async def list_campaigns(
    read: Level,
    unit: Annotated[str | None, Query(max_length=400)] = None,
    now: Annotated[numbers.MomentQuery | None, Query()] = None,
) -> dict[str, Any]:
    """The campaigns reaching ``unit`` (default: the level, or the caller's unit below it)."""
    path = read.unit(unit)
    async with read.db.reader.connect() as conn:
        found = await read_campaigns(conn, path, _aware(now or datetime.now(UTC)))
    return {"level": read.level, "unit": path, "campaigns": found}


@router.get("/campaigns/{campaign_id}/progress")
async def progress(
    read: Level,
    campaign_id: Annotated[str, Path(max_length=64)],
    unit: Annotated[str | None, Query(max_length=400)] = None,
    depth: Literal["children", "subtree"] = "children",
    now: Annotated[numbers.MomentQuery | None, Query()] = None,
    limit: Annotated[numbers.Limit, Query()] = 50,
    offset: Annotated[numbers.Offset, Query()] = 0,
) -> dict[str, Any]:
    """The progress of ``unit`` and its children (or whole subtree), laggards first."""
    path = read.unit(unit)
    async with read.db.reader.connect() as conn:
        found = await read_progress(conn, campaign_id, path, depth, _aware(now or datetime.now(UTC)), limit, offset)
    if found is None:
        raise NotFound(f"campaign {campaign_id} or unit {path} is not in the level {read.level}")
    return found
