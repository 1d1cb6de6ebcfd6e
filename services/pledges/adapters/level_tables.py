"""Tables of a level's progress read model (one database per level; the level's units are the runner's
``level_units``) and the writes the projection makes on them: folded upserts, and moving a unit's totals
between ancestors."""

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
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = MetaData()

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
class Pending:
    """Writes folded until the end of a run of messages: value deltas and initiatives counted recognised."""

    values: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)  # → [own, total]
    recognised: dict[str, str] = field(default_factory=dict)  # initiative id → unit id


async def flush(conn: AsyncConnection, pending: Pending) -> None:
    if pending.recognised:
        rows = [{"initiative_id": i, "unit_id": u} for i, u in pending.recognised.items()]
        await conn.execute(insert(recognised), rows)
    rows = [
        {"campaign_id": cid, "unit_id": uid, "indicator": code, "own": own, "total": total}
        for (cid, uid, code), (own, total) in pending.values.items()
    ]
    pending.values, pending.recognised = {}, {}
    await add_values(conn, rows)


async def totals_of(conn: AsyncConnection, unit_id: str) -> dict[tuple[str, str], float]:
    rows = await conn.execute(
        select(values.c.campaign_id, values.c.indicator, values.c.total).where(values.c.unit_id == unit_id)
    )
    return {(cid, code): total for cid, code, total in rows}


async def add_to(conn: AsyncConnection, unit_ids: list[str], totals: dict[tuple[str, str], float], sign: float) -> None:
    """Add (or, with ``sign`` -1, take away) a unit's totals to each of ``unit_ids`` (its ancestors)."""
    rows = [
        {"campaign_id": cid, "unit_id": uid, "indicator": code, "own": 0.0, "total": sign * total}
        for uid in unit_ids
        for (cid, code), total in totals.items()
    ]
    await add_values(conn, rows)
