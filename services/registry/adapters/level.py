"""The registry's LEVEL projection: what one union level knows of its subtree's initiatives.

The initiative book, the counts per unit, the escalation inbox (requests waiting at the level's unit),
authors' views, and the replication orders that reach its units. An initiative belongs to the level
while its unit does: which units those are is the runner's (``shared.membership``), which hands this
projection only their events (a unit arriving from another level comes with its history, replayed) and
says once when units leave. The result depends only on the ordered stream, so a rebuild gives the
same tables.
"""

import re
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.directory import UnitAbsorbed, UnitMovedIn
from contracts.registry import (
    Author,
    EscalationForwarded,
    EscalationReaddressed,
    EscalationRequested,
    EscalationReturned,
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeDrafted,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
    InitiativeScored,
    ReplicationApplied,
    ReplicationOrdered,
)
from services.registry.adapters.level_tables import (
    SEARCH_FTS,
    authors,
    book,
    metadata,
    replication_reports,
    replications,
    terms,
)
from services.registry.domain.rules import DRAFT, IN_BOOK, status_after
from shared.events import Event
from shared.membership import level_units
from shared.projection import Context, Projection, on
from shared.text import fold

t, u = book, level_units
WORD_RE = re.compile(r"[a-z0-9]+")


class RegistryLevelProjection(Projection):
    name = "registry_level"
    services = ("registry", "directory")
    metadata = metadata

    # -- the level's units -------------------------------------------------------------------------

    @on(UnitMovedIn, UnitAbsorbed)
    async def repathed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        """Copy the units' current paths onto their initiatives (a move or merge re-pathed them)."""
        current = select(u.c.path).where(u.c.unit_id == t.c.unit_id).scalar_subquery()
        held = t.c.unit_id.in_(select(u.c.unit_id))
        await conn.execute(update(t).where(held, t.c.unit_path != current).values(unit_path=current))

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        gone = list(unit_ids)
        doomed = select(t.c.initiative_id).where(t.c.unit_id.in_(gone)).scalar_subquery()
        await conn.execute(delete(authors).where(authors.c.initiative_id.in_(doomed)))
        await unindex_search(conn, [doc for (doc,) in await conn.execute(select(t.c.doc).where(t.c.unit_id.in_(gone)))])
        await conn.execute(delete(terms).where(terms.c.initiative_id.in_(doomed)))
        await conn.execute(delete(t).where(t.c.unit_id.in_(gone)))
        await conn.execute(delete(replication_reports).where(replication_reports.c.unit_id.in_(gone)))

    # -- initiatives -------------------------------------------------------------------------------

    @on(InitiativeDrafted)
    async def drafted(self, conn: AsyncConnection, event: InitiativeDrafted, ctx: Context) -> None:
        await self._upsert(conn, ctx, event, {"title": event.title, "status": DRAFT, "authors": event.authors})

    @on(InitiativeRegistered, InitiativeRevised)
    async def registered(
        self, conn: AsyncConnection, event: InitiativeRegistered | InitiativeRevised, ctx: Context
    ) -> None:
        reg = event.registration
        values = {
            "title": reg.title, "pillar": reg.pillar, "field": reg.field, "status": status_after(DRAFT, event),
            "authors": reg.authors, "estimated_benefit_vnd": reg.estimated_benefit_vnd,
            "benefit_vnd": reg.estimated_benefit_vnd,
            "possible_duplicates": [d.model_dump(mode="json") for d in event.possible_duplicates], "scores": 0,
        }  # fmt: skip
        if isinstance(event, InitiativeRegistered):
            at = ctx.occurred_at  # a registration made on paper: its own day
            if event.registered_on is not None:
                at = datetime.combine(event.registered_on, time(), UTC)
            values |= {"campaign_id": reg.campaign_id, "registered_at": at, "year": at.year}
        await self._upsert(conn, ctx, event, values, " ".join((reg.objective, reg.field)))

    @on(InitiativeScored)
    async def scored(self, conn: AsyncConnection, event: InitiativeScored, ctx: Context) -> None:
        row = await _initiative(conn, event)
        if row is not None:
            await _set(conn, event, status=status_after(row.status, event), scores=t.c.scores + 1)

    @on(InitiativeRecognised)
    async def recognised(self, conn: AsyncConnection, event: InitiativeRecognised, ctx: Context) -> None:
        row = await _initiative(conn, event)
        if row is None:
            return
        values: dict[str, Any] = {
            "scope": event.scope, "recognised_by_path": event.by_unit_path, "decision_number": event.decision_number,
            "decision_date": event.decision_date, "pending_at_path": None, "pending_since": None,
        }  # fmt: skip
        status = status_after(row.status, event)
        if status != row.status:  # the first recognition: the book's entry
            values |= {"status": status, "recognised_at": ctx.occurred_at, "year": event.decision_date.year}
        await _set(conn, event, **values)
        facts = {"by": event.by_unit_path, "scope": event.scope, "number": event.decision_number}
        await _decided(conn, ctx, event, "recognised", **facts)

    @on(InitiativeRejected)
    async def rejected(self, conn: AsyncConnection, event: InitiativeRejected, ctx: Context) -> None:
        await _set(conn, event, status=status_after("", event))
        await _decided(conn, ctx, event, "rejected", by=event.by_unit_path, reasons=event.reasons)

    @on(InitiativeReturned)
    async def returned(self, conn: AsyncConnection, event: InitiativeReturned, ctx: Context) -> None:
        await _set(conn, event, status=status_after("", event))
        await _decided(conn, ctx, event, "returned", by=event.by_unit_path, requests=event.requests)

    @on(InitiativeApplied)
    async def applied(self, conn: AsyncConnection, event: InitiativeApplied, ctx: Context) -> None:
        row = await _initiative(conn, event)
        status = {"status": status_after(row.status, event)} if row is not None else {}
        await _set(conn, event, benefit_vnd=event.actual_benefit_vnd, applications=t.c.applications + 1, **status)

    @on(InitiativeAccepted)
    async def accepted(self, conn: AsyncConnection, event: InitiativeAccepted, ctx: Context) -> None:
        await _set(conn, event, status=status_after("", event), benefit_vnd=event.actual_benefit_vnd)
        await _decided(conn, ctx, event, "accepted", by=event.by_unit_path)

    @on(EscalationRequested, EscalationForwarded)
    async def escalated(
        self, conn: AsyncConnection, event: EscalationRequested | EscalationForwarded, ctx: Context
    ) -> None:
        await _set(conn, event, pending_at_path=event.to_path, pending_since=ctx.occurred_at)
        decision = "proposed upward" if isinstance(event, EscalationRequested) else "forwarded"
        await _decided(conn, ctx, event, decision, by=event.from_path, to=event.to_path)

    @on(EscalationReturned)
    async def returned_upward(self, conn: AsyncConnection, event: EscalationReturned, ctx: Context) -> None:
        await _set(conn, event, pending_at_path=None, pending_since=None)
        await _decided(conn, ctx, event, "returned upward request", by=event.by_path, reasons=event.reasons)

    @on(EscalationReaddressed)
    async def readdressed(self, conn: AsyncConnection, event: EscalationReaddressed, ctx: Context) -> None:
        """The tree changed under the request: it leaves the old level's inbox for the new one's."""
        since = ctx.occurred_at if event.to_path else None
        await _set(conn, event, pending_at_path=event.to_path, pending_since=since)
        await _decided(conn, ctx, event, "re-addressed", to=event.to_path, reason=event.reason)

    # -- replication -------------------------------------------------------------------------------

    @on(ReplicationOrdered)
    async def replication_ordered(self, conn: AsyncConnection, event: ReplicationOrdered, ctx: Context) -> None:
        await conn.execute(
            insert(replications).values(
                initiative_id=event.initiative_id, by_unit_path=event.by_unit_path,
                target_paths=list(event.target_paths), ordered_at=ctx.occurred_at,
                origin_unit_path=event.origin_unit_path, title=event.title, pillar=event.pillar, scope=event.scope,
                benefit_vnd=event.benefit_vnd, note=event.note,
            )
        )  # fmt: skip

    @on(ReplicationApplied)
    async def replication_applied(self, conn: AsyncConnection, event: ReplicationApplied, ctx: Context) -> None:
        await conn.execute(
            insert(replication_reports).values(
                initiative_id=event.initiative_id, unit_id=event.applying_unit_id,
                unit_path=event.applying_unit_path, evidence=event.evidence, reported_at=ctx.occurred_at,
            )
        )  # fmt: skip

    async def _upsert(
        self, conn: AsyncConnection, ctx: Context, event: Any, values: dict[str, Any], body: str = ""
    ) -> None:
        unit = ctx.units.get(event.unit_id) if ctx.units is not None else None
        if unit is None:
            return
        written: list[Author] = list(values["authors"])
        names = " ".join(a.name for a in written)
        search = fold(f"{values['title']} {names} {unit.name} {body}")
        values = {
            **values, "authors": [a.model_dump(mode="json") for a in written], "unit_path": unit.path,
            "search": search, "in_book": int(values["status"] in IN_BOOK),
        }  # fmt: skip
        row = await _initiative(conn, event)
        if row is None:
            inserted = await conn.execute(
                insert(t).values(
                    {"initiative_id": event.initiative_id, "unit_id": event.unit_id, "decisions": [],
                     "possible_duplicates": [], **values}
                )
            )  # fmt: skip
            doc = inserted.inserted_primary_key[0]
        else:
            doc = row.doc
            await _set(conn, event, **values)
            await unindex_search(conn, [doc])
            await conn.execute(delete(terms).where(terms.c.initiative_id == event.initiative_id))
        await index_search(conn, [(doc, event.initiative_id, search)])
        await conn.execute(delete(authors).where(authors.c.initiative_id == event.initiative_id))
        await conn.execute(
            insert(authors),
            [
                {"initiative_id": event.initiative_id, "position": i, "member_id": a.member_id, "name": a.name,
                 "share": a.share}
                for i, a in enumerate(written)
            ],
        )  # fmt: skip


def search_terms(folded: str) -> set[str]:
    """The distinct words of a folded text (what a search looks up by prefix)."""
    return {word[:60] for word in WORD_RE.findall(folded)}


async def index_search(conn: AsyncConnection, docs: list[tuple[int, str, str]]) -> None:
    """Index the words of new book rows (``doc``, initiative id, folded text): FTS5 on SQLite, the
    ``terms`` table elsewhere."""
    if not docs:
        return
    if conn.dialect.name == "sqlite":
        rows = [{"doc": doc, "words": " ".join(sorted(search_terms(folded)))} for doc, _, folded in docs]
        await conn.execute(text(f"INSERT INTO {SEARCH_FTS} (rowid, words) VALUES (:doc, :words)"), rows)
    else:
        words = [{"term": w, "initiative_id": iid} for _, iid, folded in docs for w in search_terms(folded)]
        if words:
            await conn.execute(insert(terms), words)


async def unindex_search(conn: AsyncConnection, docs: list[int]) -> None:
    if docs and conn.dialect.name == "sqlite":
        await conn.execute(text(f"DELETE FROM {SEARCH_FTS} WHERE rowid = :doc"), [{"doc": doc} for doc in docs])


async def _initiative(conn: AsyncConnection, event: Any) -> Any:
    return (await conn.execute(select(t).where(t.c.initiative_id == event.initiative_id))).first()


async def _set(conn: AsyncConnection, event: Any, **values: Any) -> None:
    if "status" in values:
        values["in_book"] = int(values["status"] in IN_BOOK)
    await conn.execute(update(t).where(t.c.initiative_id == event.initiative_id).values(**values))


async def _decided(conn: AsyncConnection, ctx: Context, event: Any, decision: str, **facts: Any) -> None:
    """Append a decision to the initiative's history: what the unit's and the authors' views show."""
    row = await _initiative(conn, event)
    if row is None:
        return
    entry = {"decision": decision, "at": ctx.occurred_at.isoformat(), "actor": ctx.actor, **facts}
    await _set(conn, event, decisions=[*row.decisions, entry])
