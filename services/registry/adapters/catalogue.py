"""The service's inline read model of ideas and initiatives: what the command side lists and searches.

Updated in the append's own transaction (``InlineProjection``), so a registration is searchable for
duplicates the moment it commits. Paths are not stored: lists join the registry's unit tree, so a unit
that moved shows where it is now. Rebuildable from the events (tables are created, not migrated).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.domain.rules import ACCEPTED, APPLIED, RECOGNISED, REGISTERED, REJECTED, RETURNED, UNDER_REVIEW
from shared.db import Database
from shared.events import EventEnvelope

metadata = MetaData()

initiatives = Table(
    "registry_initiatives",
    metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("pillar", String(20), nullable=True),
    Column("scope", String(20), nullable=True),
    Column("authors", JSON, nullable=False),
    Column("benefit_vnd", BigInteger, nullable=False, default=0),
    Column("pending_at", String(36), nullable=True, index=True),
    Column("possible_duplicates", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

ideas = Table(
    "registry_ideas",
    metadata,
    Column("idea_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("mentor", String(200), nullable=True),
    Column("initiative_id", String(36), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

# Every registration text, in order: the duplicate index loads what it has not seen yet.
texts = Table(
    "registry_similarity_texts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("initiative_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("city", String(40), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
)

_STATUS_AFTER = {
    "InitiativeRegistered": REGISTERED,
    "InitiativeRevised": REGISTERED,
    "InitiativeScored": UNDER_REVIEW,
    "InitiativeRejected": REJECTED,
    "InitiativeReturned": RETURNED,
    "InitiativeAccepted": ACCEPTED,
}


def similarity_text(registration: dict[str, Any]) -> str:
    return " ".join((registration["title"], registration["objective"], registration["steps"]))


class Catalogue:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._upsert_registered: Any = None

    async def create_tables(self) -> None:
        async with self.db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        for env in envelopes:
            handler = getattr(self, f"_on_{env.event_type}", None)
            if handler is not None:
                await handler(conn, env, env.data)
            elif env.event_type in _STATUS_AFTER:
                await _set(conn, env, status=_STATUS_AFTER[env.event_type])

    async def _on_IdeaSubmitted(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await conn.execute(
            ideas.insert().values(
                idea_id=d["idea_id"], unit_id=d["unit_id"], text=d["text"], status="submitted",
                submitted_at=env.occurred_at,
            )
        )  # fmt: skip

    async def _on_IdeaClaimed(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await conn.execute(
            update(ideas).where(ideas.c.idea_id == d["idea_id"]).values(status="claimed", mentor=d["mentor"])
        )

    async def _on_IdeaConverted(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await conn.execute(
            update(ideas)
            .where(ideas.c.idea_id == d["idea_id"])
            .values(status="converted", initiative_id=d["initiative_id"])
        )

    async def _on_InitiativeDrafted(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await conn.execute(
            initiatives.insert().values(
                initiative_id=d["initiative_id"], unit_id=d["unit_id"], title=d["title"], status="draft",
                authors=d["authors"], benefit_vnd=0, possible_duplicates=[], updated_at=env.occurred_at,
            )
        )  # fmt: skip

    async def _on_InitiativeRegistered(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        reg = d["registration"]
        row = {
            "initiative_id": d["initiative_id"], "unit_id": d["unit_id"], "title": reg["title"],
            "status": REGISTERED, "pillar": reg["pillar"], "authors": reg["authors"],
            "benefit_vnd": reg["estimated_benefit_vnd"], "possible_duplicates": d["possible_duplicates"],
            "updated_at": env.occurred_at,
        }  # fmt: skip
        # Built once per dialect (the hot path of a registration): only the parameters change.
        stmt = self._upsert_registered
        if stmt is None:
            stmt = self._upsert_registered = _upsert(self.db, initiatives, "initiative_id", list(row))
        await conn.execute(stmt, row)
        await self._remember_text(conn, env, d)

    async def _on_InitiativeRevised(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        reg = d["registration"]
        await _set(
            conn, env, status=REGISTERED, title=reg["title"], pillar=reg["pillar"], authors=reg["authors"],
            benefit_vnd=reg["estimated_benefit_vnd"], possible_duplicates=d["possible_duplicates"],
        )  # fmt: skip
        await self._remember_text(conn, env, d)

    async def _remember_text(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        reg = d["registration"]
        await conn.execute(
            _INSERT_TEXT,
            {"initiative_id": d["initiative_id"], "unit_id": d["unit_id"],
             "city": env.metadata.unit_path.split(".")[0], "title": reg["title"], "text": similarity_text(reg)},
        )  # fmt: skip

    async def _on_InitiativeRecognised(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        row = (await conn.execute(select(initiatives.c.status).where(_is(d)))).first()
        status = RECOGNISED if row is not None and row.status in (REGISTERED, UNDER_REVIEW) else None
        await _set(conn, env, scope=d["scope"], pending_at=None, **({"status": status} if status else {}))

    async def _on_InitiativeApplied(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        row = (await conn.execute(select(initiatives.c.status).where(_is(d)))).first()
        status = APPLIED if row is not None and row.status == RECOGNISED else None
        await _set(conn, env, benefit_vnd=d["actual_benefit_vnd"], **({"status": status} if status else {}))

    async def _on_InitiativeAccepted(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await _set(conn, env, status=ACCEPTED, benefit_vnd=d["actual_benefit_vnd"])

    async def _on_EscalationRequested(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await _set(conn, env, pending_at=d["to_unit_id"])

    _on_EscalationForwarded = _on_EscalationRequested

    async def _on_EscalationReturned(self, conn: AsyncConnection, env: EventEnvelope, d: dict[str, Any]) -> None:
        await _set(conn, env, pending_at=None)


_INSERT_TEXT = texts.insert()


def _upsert(db: Database, table: Table, key: str, columns: list[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of the other columns, taking every value as a parameter."""
    if db.is_sqlite:
        stmt = sqlite_insert(table)
    else:
        from sqlalchemy.dialects.postgresql import insert

        stmt = insert(table)
    update_ = {c: stmt.excluded[c] for c in columns if c != key}
    return stmt.on_conflict_do_update(index_elements=[table.c[key]], set_=update_)


def _is(d: dict[str, Any]) -> Any:
    return initiatives.c.initiative_id == d["initiative_id"]


async def _set(conn: AsyncConnection, env: EventEnvelope, **values: Any) -> None:
    updated_at: datetime = env.occurred_at
    await conn.execute(update(initiatives).where(_is(env.data)).values(updated_at=updated_at, **values))
