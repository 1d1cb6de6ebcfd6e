"""The service's records of its own checklists, kept in the append's transaction: which units already
have a checklist for a year and period (a round skips them), and which are still open past their due
date (what the overdue sweep looks at)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.inspections import (
    ChecklistIssued,
    ChecklistWithdrawn,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionSubmitted,
)
from shared.db import Database
from shared.directory_copy import units as copy_units
from shared.events import EventEnvelope
from shared.projection import Context, on
from shared.records import Records

metadata = MetaData()
checklist_records = Table(
    "rec_checklists",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("round_id", String(36), nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("status", String(10), nullable=False),  # issued, submitted, withdrawn, closed (round closed)
    Column("overdue", Integer, nullable=False),  # recorded overdue already
    Index("rec_checklists_open", "status", "overdue", "due_on"),
    Index("rec_checklists_period", "year", "period"),
)


class InspectionsRecords(Records):
    name = "inspections_records"
    metadata = metadata

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._issued: list[dict[str, Any]] = []  # a round issues thousands at once: one statement in flush

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        """A checklist issued is recorded from its stored data, undecoded: a city's round commits 13,000
        of them, each carrying its pre-filled items, and only five of their fields are recorded here
        (the store has already checked that every one decodes)."""
        rest: list[EventEnvelope] = []
        for env in envelopes:
            if env.event_type == ChecklistIssued.event_type and env.schema_version == ChecklistIssued.schema_version:
                self._issue(env.data)
            else:
                rest.append(env)
        await super().apply(conn, rest)

    def _issue(self, data: dict[str, Any]) -> None:
        recorded = {k: data[k] for k in ("unit_id", "year", "period", "round_id")}
        due_on = date.fromisoformat(data["due_on"])
        self._issued.append({**recorded, "due_on": due_on, "status": "issued", "overdue": 0})

    @on(ChecklistIssued)
    async def issued(self, conn: AsyncConnection, event: ChecklistIssued, ctx: Context) -> None:
        self._issue(event.model_dump(mode="json"))

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        if self._issued:
            rows, self._issued = self._issued, []
            await conn.execute(checklist_records.insert(), rows)

    def reset(self) -> None:
        self._issued = []

    @on(SelfInspectionSubmitted)
    async def submitted(self, conn: AsyncConnection, event: SelfInspectionSubmitted, ctx: Context) -> None:
        await self._set(conn, event.round_id, event.unit_id, status="submitted")

    @on(ChecklistWithdrawn)
    async def withdrawn(self, conn: AsyncConnection, event: ChecklistWithdrawn, ctx: Context) -> None:
        await self._set(conn, event.round_id, event.unit_id, status="withdrawn")

    @on(SelfInspectionOverdue)
    async def overdue(self, conn: AsyncConnection, event: SelfInspectionOverdue, ctx: Context) -> None:
        await self._set(conn, event.round_id, event.unit_id, overdue=1)

    @on(SelfInspectionRoundClosed)
    async def closed(self, conn: AsyncConnection, event: SelfInspectionRoundClosed, ctx: Context) -> None:
        await self.flush(conn, "*")
        await conn.execute(
            update(checklist_records)
            .where(checklist_records.c.round_id == event.round_id, checklist_records.c.status == "issued")
            .values(status="closed")
        )

    async def _set(self, conn: AsyncConnection, round_id: str, unit_id: str, **values: Any) -> None:
        await self.flush(conn, "*")  # a checklist issued earlier in the same commit is written first
        await conn.execute(
            update(checklist_records)
            .where(checklist_records.c.round_id == round_id, checklist_records.c.unit_id == unit_id)
            .values(**values)
        )

    # -- reads -----------------------------------------------------------------------------------------

    async def covered(self, year: int, period: str) -> set[str]:
        """Units that already have their checklist for this year and period."""
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(checklist_records.c.unit_id).where(
                    checklist_records.c.year == year, checklist_records.c.period == period
                )
            )
            return {uid for (uid,) in rows}

    async def open_past_due(self, today: date, round_id: str | None = None) -> list[dict[str, Any]]:
        """Checklists still issued (not submitted, withdrawn or closed) whose due date has passed."""
        conds = [checklist_records.c.status == "issued", checklist_records.c.due_on < today]
        if round_id is not None:
            conds.append(checklist_records.c.round_id == round_id)
        async with self.db.reader.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(select(checklist_records).where(*conds))]

    async def open_of_merged(self) -> list[dict[str, Any]]:
        """Checklists still issued whose unit has merged into another (per the service's directory copy)."""
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(checklist_records, copy_units.c.merged_into)
                .join(copy_units, copy_units.c.unit_id == checklist_records.c.unit_id)
                .where(checklist_records.c.status == "issued", copy_units.c.status == "merged")
            )
            return [dict(r._mapping) for r in rows]

    async def counts(self, round_id: str) -> dict[str, int]:
        async with self.db.reader.connect() as conn:
            rows = await conn.execute(
                select(checklist_records.c.status, checklist_records.c.overdue).where(
                    checklist_records.c.round_id == round_id
                )
            )
            tally = {"issued": 0, "submitted": 0, "withdrawn": 0, "closed": 0, "overdue": 0}
            for status, overdue in rows:
                tally[status] = tally.get(status, 0) + 1
                tally["overdue"] += int(overdue)
            return tally
