"""Tables of a level's progress read model (one database per level projector) and the writes the
projection makes on them: folded upserts, and moving a unit's totals between ancestors."""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = MetaData()

units = Table(
    "pledges_level_units",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("parent_id", String(36), nullable=True, index=True),
    Column("path", String(400), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("merged_into", String(36), nullable=True),
)
campaigns = Table(
    "pledges_level_campaigns",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("launcher_unit_id", String(36), nullable=False),
    Column("launcher_path", String(400), nullable=False),
    Column("title", String(200), nullable=False),
    Column("plan_number", String(60), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("indicators", JSON, nullable=False),
    Column("report_deadlines", JSON, nullable=False),
)
targets = Table(
    "pledges_level_targets",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("target", Float, nullable=False),
)
# ``own``: what was counted or reported at the unit itself; ``total``: the unit's whole subtree.
values = Table(
    "pledges_level_values",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("own", Float, nullable=False),
    Column("total", Float, nullable=False),
)
reports = Table(
    "pledges_level_reports",
    metadata,
    Column("campaign_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)
Index("ix_pledges_level_reports", reports.c.campaign_id, reports.c.unit_id)
# Initiatives already counted as recognised: one is recognised again at each scope it is escalated to,
# but counts once.
recognised = Table(
    "pledges_level_recognised",
    metadata,
    Column("initiative_id", String(100), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
)
pledged = Table(
    "pledges_level_pledged",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("amendment", Integer, nullable=False),
)


def upsert(conn: AsyncConnection, table: Table) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


async def add_values(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add (campaign, unit, indicator, own, total) deltas in one statement."""
    if not rows:
        return
    stmt = upsert(conn, values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[values.c.campaign_id, values.c.unit_id, values.c.indicator],
        set_={"own": values.c.own + stmt.excluded.own, "total": values.c.total + stmt.excluded.total},
    )
    await conn.execute(stmt, rows)


@dataclass
class LevelUnit:
    parent_id: str | None
    path: str
    status: str
    merged_into: str | None


@dataclass
class Pending:
    """Writes folded until the end of a run of messages: value deltas, new units, targets."""

    values: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)  # → [own, total]
    units: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (campaign, unit, code)
    recognised: dict[str, str] = field(default_factory=dict)  # initiative id → unit id


def ancestors_of(cache: dict[str, LevelUnit], unit_id: str) -> list[str]:
    found, unit = [], cache.get(unit_id)
    while unit is not None and unit.parent_id is not None and unit.parent_id in cache:
        found.append(unit.parent_id)
        unit = cache[unit.parent_id]
    return found


def subtree_of(cache: dict[str, LevelUnit], unit_id: str) -> set[str]:
    found, frontier = {unit_id}, [unit_id]
    while frontier:
        frontier = [
            uid for uid, u in cache.items() if u.parent_id in frontier and u.status == "active" and uid not in found
        ]
        found.update(frontier)
    return found


async def flush(conn: AsyncConnection, pending: Pending) -> None:
    if pending.units:
        await conn.execute(insert(units), pending.units)
    await write_targets(conn, pending.targets)
    if pending.recognised:
        rows = [{"initiative_id": i, "unit_id": u} for i, u in pending.recognised.items()]
        await conn.execute(insert(recognised), rows)
    rows = [
        {"campaign_id": cid, "unit_id": uid, "indicator": code, "own": own, "total": total}
        for (cid, uid, code), (own, total) in pending.values.items()
    ]
    pending.units, pending.targets, pending.values, pending.recognised = [], {}, {}, {}
    await add_values(conn, rows)


async def write_targets(conn: AsyncConnection, found: dict[tuple[str, str, str], float]) -> None:
    if not found:
        return
    stmt = upsert(conn, targets)
    stmt = stmt.on_conflict_do_update(
        index_elements=[targets.c.campaign_id, targets.c.unit_id, targets.c.indicator],
        set_={"target": stmt.excluded.target},
    )
    await conn.execute(
        stmt, [{"campaign_id": c, "unit_id": u, "indicator": k, "target": v} for (c, u, k), v in found.items()]
    )


async def totals_of(conn: AsyncConnection, unit_id: str) -> dict[tuple[str, str], float]:
    rows = await conn.execute(
        select(values.c.campaign_id, values.c.indicator, values.c.total).where(values.c.unit_id == unit_id)
    )
    return {(cid, code): total for cid, code, total in rows}


async def spread(
    conn: AsyncConnection, cache: dict[str, LevelUnit], unit_id: str, totals: dict[tuple[str, str], float], sign: float
) -> None:
    """Add (or take away) a unit's totals to every ancestor the level holds."""
    rows = [
        {"campaign_id": cid, "unit_id": ancestor, "indicator": code, "own": 0.0, "total": sign * total}
        for ancestor in ancestors_of(cache, unit_id)
        for (cid, code), total in totals.items()
    ]
    await add_values(conn, rows)


async def detach(conn: AsyncConnection, cache: dict[str, LevelUnit], unit_id: str) -> None:
    await spread(conn, cache, unit_id, await totals_of(conn, unit_id), -1.0)


async def attach(conn: AsyncConnection, cache: dict[str, LevelUnit], unit_id: str) -> None:
    await spread(conn, cache, unit_id, await totals_of(conn, unit_id), 1.0)


async def repath(conn: AsyncConnection, cache: dict[str, LevelUnit], unit_id: str, old: str, new: str) -> None:
    if old == new:
        return
    ids = subtree_of(cache, unit_id)
    await conn.execute(
        update(units)
        .where(units.c.unit_id.in_(ids))
        .values(path=literal(new).concat(func.substr(units.c.path, len(old) + 1)))
    )
    for uid in ids:
        cache[uid].path = new + cache[uid].path[len(old) :]
