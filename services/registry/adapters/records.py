"""The registry's records of ideas and initiatives: what the command side lists and searches.

Updated in the append's own transaction (``shared.records``), so a registration is searchable for
duplicates the moment it commits. Paths are not stored: lists join the service's copy of the directory,
so a unit that moved shows where it is now. Rebuildable from the events (tables are created, not migrated).
"""

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.registry import (
    EscalationForwarded,
    EscalationReaddressed,
    EscalationRequested,
    EscalationReturned,
    IdeaClaimed,
    IdeaConverted,
    IdeaSubmitted,
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeDrafted,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
    InitiativeScored,
)
from services.registry.domain.rules import DRAFT, status_after
from shared.db import Database
from shared.events import Event
from shared.projection import Context, on
from shared.records import Records

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


def similarity_text(registration: dict[str, Any]) -> str:
    return " ".join((registration["title"], registration["objective"], registration["steps"]))


class RegistryRecords(Records):
    metadata = metadata

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._upsert_registered: Any = None

    # -- ideas -------------------------------------------------------------------------------------

    @on(IdeaSubmitted)
    async def submitted(self, conn: AsyncConnection, event: IdeaSubmitted, ctx: Context) -> None:
        await conn.execute(
            ideas.insert().values(
                idea_id=event.idea_id, unit_id=event.unit_id, text=event.text, status="submitted",
                submitted_at=ctx.occurred_at,
            )
        )  # fmt: skip

    @on(IdeaClaimed)
    async def claimed(self, conn: AsyncConnection, event: IdeaClaimed, ctx: Context) -> None:
        await conn.execute(
            update(ideas).where(ideas.c.idea_id == event.idea_id).values(status="claimed", mentor=event.mentor)
        )

    @on(IdeaConverted)
    async def converted(self, conn: AsyncConnection, event: IdeaConverted, ctx: Context) -> None:
        await conn.execute(
            update(ideas)
            .where(ideas.c.idea_id == event.idea_id)
            .values(status="converted", initiative_id=event.initiative_id)
        )

    # -- initiatives -------------------------------------------------------------------------------

    @on(InitiativeDrafted)
    async def drafted(self, conn: AsyncConnection, event: InitiativeDrafted, ctx: Context) -> None:
        await conn.execute(
            initiatives.insert().values(
                initiative_id=event.initiative_id, unit_id=event.unit_id, title=event.title, status=DRAFT,
                authors=_json(event.authors), benefit_vnd=0, possible_duplicates=[], updated_at=ctx.occurred_at,
            )
        )  # fmt: skip

    @on(InitiativeRegistered)
    async def registered(self, conn: AsyncConnection, event: InitiativeRegistered, ctx: Context) -> None:
        reg = event.registration
        row = {
            "initiative_id": event.initiative_id, "unit_id": event.unit_id, "title": reg.title,
            "status": status_after(DRAFT, event), "pillar": reg.pillar, "authors": _json(reg.authors),
            "benefit_vnd": reg.estimated_benefit_vnd, "possible_duplicates": _json(event.possible_duplicates),
            "updated_at": ctx.occurred_at,
        }  # fmt: skip
        # Built once per dialect (the hot path of a registration): only the parameters change.
        stmt = self._upsert_registered
        if stmt is None:
            stmt = self._upsert_registered = _upsert(self.db, initiatives, "initiative_id", list(row))
        await conn.execute(stmt, row)
        await self._remember_text(conn, event, ctx)

    @on(InitiativeRevised)
    async def revised(self, conn: AsyncConnection, event: InitiativeRevised, ctx: Context) -> None:
        reg = event.registration
        await _set(
            conn, event, ctx, status=status_after(DRAFT, event), title=reg.title, pillar=reg.pillar,
            authors=_json(reg.authors), benefit_vnd=reg.estimated_benefit_vnd,
            possible_duplicates=_json(event.possible_duplicates),
        )  # fmt: skip
        await self._remember_text(conn, event, ctx)

    async def _remember_text(
        self, conn: AsyncConnection, event: InitiativeRegistered | InitiativeRevised, ctx: Context
    ) -> None:
        reg = event.registration.model_dump()
        await conn.execute(
            _INSERT_TEXT,
            {"initiative_id": event.initiative_id, "unit_id": event.unit_id,
             "city": ctx.message.envelope.metadata.unit_path.split(".")[0], "title": reg["title"],
             "text": similarity_text(reg)},
        )  # fmt: skip

    @on(InitiativeScored, InitiativeRejected, InitiativeReturned, InitiativeRecognised)
    @on(InitiativeApplied, InitiativeAccepted)
    async def decided(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        row = (await conn.execute(select(initiatives.c.status).where(_is(event)))).first()
        values: dict[str, Any] = {}
        if row is not None:
            values["status"] = status_after(row.status, event)
        if isinstance(event, InitiativeRecognised):
            values |= {"scope": event.scope, "pending_at": None}
        if isinstance(event, InitiativeApplied | InitiativeAccepted):
            values["benefit_vnd"] = event.actual_benefit_vnd
        await _set(conn, event, ctx, **values)

    @on(EscalationRequested, EscalationForwarded)
    async def escalated(self, conn: AsyncConnection, event: EscalationRequested, ctx: Context) -> None:
        await _set(conn, event, ctx, pending_at=event.to_unit_id)

    @on(EscalationReturned)
    async def returned_upward(self, conn: AsyncConnection, event: EscalationReturned, ctx: Context) -> None:
        await _set(conn, event, ctx, pending_at=None)

    @on(EscalationReaddressed)
    async def readdressed(self, conn: AsyncConnection, event: EscalationReaddressed, ctx: Context) -> None:
        await _set(conn, event, ctx, pending_at=event.to_unit_id)

    async def waiting(self) -> list[tuple[str, str, str]]:
        """(initiative id, its unit id, the unit id it waits at) of every request waiting upward."""
        stmt = select(initiatives.c.initiative_id, initiatives.c.unit_id, initiatives.c.pending_at).where(
            initiatives.c.pending_at.is_not(None)
        )
        async with self.db.reader.connect() as conn:
            return [tuple(row) for row in await conn.execute(stmt)]  # type: ignore[misc]


_INSERT_TEXT = texts.insert()


def _json(value: Any) -> Any:
    """Nested models as the JSON columns store them."""
    if isinstance(value, tuple):
        return [v.model_dump(mode="json") for v in value]
    return value


def _upsert(db: Database, table: Table, key: str, columns: list[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE of the other columns, taking every value as a parameter."""
    if db.is_sqlite:
        stmt = sqlite_insert(table)
    else:
        from sqlalchemy.dialects.postgresql import insert

        stmt = insert(table)
    update_ = {c: stmt.excluded[c] for c in columns if c != key}
    return stmt.on_conflict_do_update(index_elements=[table.c[key]], set_=update_)


def _is(event: Any) -> Any:
    return initiatives.c.initiative_id == event.initiative_id


async def _set(conn: AsyncConnection, event: Any, ctx: Context, **values: Any) -> None:
    await conn.execute(update(initiatives).where(_is(event)).values(updated_at=ctx.occurred_at, **values))
