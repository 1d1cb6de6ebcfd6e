"""The registry's LEVEL projection: what one union level (a scope path) knows of its subtree's initiatives.

It keeps its own copy of the units of its subtree (from the directory's events), and the initiatives
of those units: the initiative book, the counts per unit, the escalation inbox (requests waiting at the
level's unit), authors' views, and the replication orders that reach its units.

An initiative belongs to the level while its unit does. When a unit moves out, the level drops the unit,
its subtree and their initiatives; when one moves in from outside, the level back-fills it by replaying
every path its history lies under (``previous_paths``), accepting during that replay only the arriving
unit, units registered under it, and initiatives of those units. The result depends only on the ordered
stream, so a rebuild gives the same tables.
"""

import re
from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.registry.adapters.level_tables import (
    SEARCH_FTS,
    authors,
    book,
    level_units,
    metadata,
    replication_reports,
    replications,
    terms,
)
from services.registry.domain.rules import (
    ACCEPTED,
    APPLIED,
    IN_BOOK,
    RECOGNISED,
    REGISTERED,
    REJECTED,
    RETURNED,
    UNDER_REVIEW,
)
from shared.db import Database
from shared.projections import ApplyContext, ProjectedMessage
from shared.subjects import in_subtree
from shared.text import fold
from shared.unit_tree import apply_unit_event

t, u = book, level_units
WORD_RE = re.compile(r"[a-z0-9]+")
UNIT_EVENTS = ("UnitRegistered", "UnitRenamed", "UnitMovedIn", "UnitMerged", "UnitAbsorbed")


class RegistryLevelProjection:
    name = "registry_level"
    services = ("registry", "directory")
    metadata = metadata

    def __init__(self) -> None:
        self._adopting: set[str] | None = None  # unit ids accepted during a back-fill
        self._arriving: set[str] = set()

    def read_router(self, db: Database, scope: str) -> APIRouter:
        from services.registry.adapters.level_reads import level_router

        return level_router(db, scope)

    async def apply(self, conn: AsyncConnection, message: ProjectedMessage, ctx: ApplyContext) -> None:
        env = message.envelope
        d = env.data
        if env.event_type == "UnitMovedOut":
            await self._moved_out(conn, d)
        elif env.event_type == "UnitMovedIn":
            await self._moved_in(conn, d, ctx)
        elif env.event_type == "UnitRegistered":
            if self._accepts_new_unit(d, message.path, ctx.scope):
                await apply_unit_event(conn, u, "UnitRegistered", d)
        elif env.event_type in UNIT_EVENTS:
            if await self._holds(conn, d["unit_id"]):
                await apply_unit_event(conn, u, env.event_type, d)
                if env.event_type == "UnitAbsorbed":
                    await _sync_paths(conn)
        elif env.event_type == "ReplicationOrdered":
            await self._replication_ordered(conn, message, d)
        elif env.event_type == "ReplicationApplied":
            if await self._holds(conn, d["applying_unit_id"]):
                await conn.execute(
                    insert(replication_reports).values(
                        initiative_id=d["initiative_id"], unit_id=d["applying_unit_id"],
                        unit_path=d["applying_unit_path"], evidence=d["evidence"], reported_at=env.occurred_at,
                    )
                )  # fmt: skip
        elif "initiative_id" in d and await self._holds(conn, d["unit_id"]):
            handler = getattr(self, f"_on_{env.event_type}", None)
            if handler is not None:
                await handler(conn, message, d)

    # -- membership of the level -----------------------------------------------------------------

    def _accepts_new_unit(self, d: dict[str, Any], path: str, scope: str) -> bool:
        if self._adopting is not None:
            if d["unit_id"] in self._arriving or d["parent_id"] in self._adopting:
                self._adopting.add(d["unit_id"])
                return True
            return False
        return in_subtree(path, scope)  # not an ancestor's own unit

    async def _holds(self, conn: AsyncConnection, unit_id: str) -> bool:
        if self._adopting is not None:
            return unit_id in self._adopting
        return (await conn.execute(select(u.c.unit_id).where(u.c.unit_id == unit_id))).first() is not None

    async def _moved_out(self, conn: AsyncConnection, d: dict[str, Any]) -> None:
        if not await self._holds(conn, d["unit_id"]) or d["unit_id"] in self._arriving:
            return
        if await self._holds(conn, d["new_parent_id"]):
            return  # a move inside the level: UnitMovedIn re-paths it
        row = (await conn.execute(select(u.c.path).where(u.c.unit_id == d["unit_id"]))).first()
        if row is None:
            return
        under = (u.c.path == row.path) | u.c.path.like(row.path + ".%")
        gone = [uid for (uid,) in await conn.execute(select(u.c.unit_id).where(under))]
        doomed = select(t.c.initiative_id).where(t.c.unit_id.in_(gone)).scalar_subquery()
        await conn.execute(delete(authors).where(authors.c.initiative_id.in_(doomed)))
        await unindex_search(conn, [doc for (doc,) in await conn.execute(select(t.c.doc).where(t.c.unit_id.in_(gone)))])
        await conn.execute(delete(terms).where(terms.c.initiative_id.in_(doomed)))
        await conn.execute(delete(t).where(t.c.unit_id.in_(gone)))
        await conn.execute(delete(replication_reports).where(replication_reports.c.unit_id.in_(gone)))
        await conn.execute(delete(u).where(u.c.unit_id.in_(gone)))
        if self._adopting is not None:
            self._adopting -= set(gone)

    async def _moved_in(self, conn: AsyncConnection, d: dict[str, Any], ctx: ApplyContext) -> None:
        unit_id = d["unit_id"]
        if not await self._holds(conn, unit_id):
            arrives = d["to_path"] == ctx.scope or await self._holds(conn, d["new_parent_id"])
            if not arrives or self._adopting is not None:
                return
            self._adopting, self._arriving = set(), {unit_id}
            try:
                await ctx.backfill(*(d.get("previous_paths") or [d["from_path"]]))
            finally:
                self._adopting, self._arriving = None, set()
        await apply_unit_event(conn, u, "UnitMovedIn", d)
        await _sync_paths(conn)

    # -- initiatives -----------------------------------------------------------------------------

    async def _on_InitiativeDrafted(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await self._upsert(conn, m, d, {"title": d["title"], "status": "draft", "authors": d["authors"]})

    async def _on_InitiativeRegistered(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        reg = d["registration"]
        values = {
            "title": reg["title"], "pillar": reg["pillar"], "field": reg["field"], "campaign_id": reg["campaign_id"],
            "status": REGISTERED, "authors": reg["authors"], "estimated_benefit_vnd": reg["estimated_benefit_vnd"],
            "benefit_vnd": reg["estimated_benefit_vnd"], "possible_duplicates": d["possible_duplicates"],
            "registered_at": m.envelope.occurred_at, "year": m.envelope.occurred_at.year, "scores": 0,
        }  # fmt: skip
        await self._upsert(conn, m, d, values, reg)

    async def _on_InitiativeRevised(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        reg = d["registration"]
        values = {
            "title": reg["title"], "pillar": reg["pillar"], "field": reg["field"], "status": REGISTERED,
            "authors": reg["authors"], "estimated_benefit_vnd": reg["estimated_benefit_vnd"],
            "benefit_vnd": reg["estimated_benefit_vnd"], "possible_duplicates": d["possible_duplicates"], "scores": 0,
        }  # fmt: skip
        await self._upsert(conn, m, d, values, reg)

    async def _on_InitiativeScored(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, status=UNDER_REVIEW, scores=t.c.scores + 1)

    async def _on_InitiativeRecognised(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        row = await _initiative(conn, d)
        if row is None:
            return
        first = row.status in (REGISTERED, UNDER_REVIEW)
        decision_on = date.fromisoformat(d["decision_date"])
        values: dict[str, Any] = {
            "scope": d["scope"], "recognised_by_path": d["by_unit_path"], "decision_number": d["decision_number"],
            "decision_date": decision_on, "pending_at_path": None, "pending_since": None,
        }  # fmt: skip
        if first:
            values |= {"status": RECOGNISED, "recognised_at": m.envelope.occurred_at, "year": decision_on.year}
        await _set(conn, d, **values)
        await _decided(conn, m, d, "recognised", by=d["by_unit_path"], scope=d["scope"], number=d["decision_number"])

    async def _on_InitiativeRejected(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, status=REJECTED)
        await _decided(conn, m, d, "rejected", by=d["by_unit_path"], reasons=d["reasons"])

    async def _on_InitiativeReturned(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, status=RETURNED)
        await _decided(conn, m, d, "returned", by=d["by_unit_path"], requests=d["requests"])

    async def _on_InitiativeApplied(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        row = await _initiative(conn, d)
        status = {"status": APPLIED} if row is not None and row.status == RECOGNISED else {}
        await _set(conn, d, benefit_vnd=d["actual_benefit_vnd"], applications=t.c.applications + 1, **status)

    async def _on_InitiativeAccepted(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, status=ACCEPTED, benefit_vnd=d["actual_benefit_vnd"])
        await _decided(conn, m, d, "accepted", by=d["by_unit_path"])

    async def _on_EscalationRequested(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, pending_at_path=d["to_path"], pending_since=m.envelope.occurred_at)
        await _decided(conn, m, d, "proposed upward", by=d["from_path"], to=d["to_path"])

    async def _on_EscalationForwarded(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, pending_at_path=d["to_path"], pending_since=m.envelope.occurred_at)
        await _decided(conn, m, d, "forwarded", by=d["from_path"], to=d["to_path"])

    async def _on_EscalationReturned(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        await _set(conn, d, pending_at_path=None, pending_since=None)
        await _decided(conn, m, d, "returned upward request", by=d["by_path"], reasons=d["reasons"])

    async def _replication_ordered(self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any]) -> None:
        if self._adopting is not None:
            return  # orders are broadcasts of levels, not part of a unit's own history
        values = {k: d[k] for k in ("origin_unit_path", "title", "pillar", "scope", "benefit_vnd", "note")}
        await conn.execute(
            insert(replications).values(
                initiative_id=d["initiative_id"], by_unit_path=d["by_unit_path"],
                target_paths=list(d["target_paths"]), ordered_at=m.envelope.occurred_at, **values,
            )
        )  # fmt: skip

    async def _upsert(
        self, conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any], values: dict[str, Any],
        reg: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        unit = (await conn.execute(select(u.c.path, u.c.name).where(u.c.unit_id == d["unit_id"]))).one()
        names = " ".join(a["name"] for a in values["authors"])
        body = " ".join((reg["objective"], reg["field"])) if reg else ""
        search = fold(f"{values['title']} {names} {unit.name} {body}")
        values = {**values, "unit_path": unit.path, "search": search, "in_book": int(values["status"] in IN_BOOK)}
        row = await _initiative(conn, d)
        if row is None:
            inserted = await conn.execute(
                insert(t).values(
                    {"initiative_id": d["initiative_id"], "unit_id": d["unit_id"], "decisions": [],
                     "possible_duplicates": [], **values}
                )
            )  # fmt: skip
            doc = inserted.inserted_primary_key[0]
        else:
            doc = row.doc
            await _set(conn, d, **values)
            await unindex_search(conn, [doc])
            await conn.execute(delete(terms).where(terms.c.initiative_id == d["initiative_id"]))
        await index_search(conn, [(doc, d["initiative_id"], search)])
        await conn.execute(delete(authors).where(authors.c.initiative_id == d["initiative_id"]))
        await conn.execute(
            insert(authors),
            [
                {"initiative_id": d["initiative_id"], "position": i, "member_id": a.get("member_id"),
                 "name": a["name"], "share": a["share"]}
                for i, a in enumerate(values["authors"])
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


async def _initiative(conn: AsyncConnection, d: dict[str, Any]) -> Any:
    return (await conn.execute(select(t).where(t.c.initiative_id == d["initiative_id"]))).first()


async def _set(conn: AsyncConnection, d: dict[str, Any], **values: Any) -> None:
    if "status" in values:
        values["in_book"] = int(values["status"] in IN_BOOK)
    await conn.execute(update(t).where(t.c.initiative_id == d["initiative_id"]).values(**values))


async def _decided(conn: AsyncConnection, m: ProjectedMessage, d: dict[str, Any], decision: str, **facts: Any) -> None:
    """Append a decision to the initiative's history: what the unit's and the authors' views show."""
    row = await _initiative(conn, d)
    if row is None:
        return
    entry = {
        "decision": decision,
        "at": m.envelope.occurred_at.isoformat(),
        "actor": m.envelope.metadata.actor,
        **facts,
    }
    await _set(conn, d, decisions=[*row.decisions, entry])


async def _sync_paths(conn: AsyncConnection) -> None:
    """Copy the units' current paths onto their initiatives (after a move or merge re-pathed them)."""
    current = select(u.c.path).where(u.c.unit_id == t.c.unit_id).scalar_subquery()
    held = t.c.unit_id.in_(select(u.c.unit_id))
    await conn.execute(update(t).where(held, t.c.unit_path != current).values(unit_path=current))
