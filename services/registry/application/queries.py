"""Reads of the command side: an initiative as its stream says, and paginated lists of the caller's subtree."""

from typing import Any

from sqlalchemy import func, select

from services.registry.adapters.records import ideas, initiatives
from services.registry.application.deps import Deps
from shared.directory_copy import units
from shared.identity import Caller
from shared.subtree import at_or_below


async def get_initiative(deps: Deps, caller: Caller, initiative_id: str) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    home, _ = await deps.chain(initiative.unit_id)
    caller.require_subtree(home.path)
    history = await deps.store.load(deps.initiatives.stream(initiative_id))
    async with deps.db.reader.connect() as conn:
        row = (await conn.execute(select(initiatives).where(initiatives.c.initiative_id == initiative_id))).first()
    return {
        "initiative_id": initiative.id,
        "unit_id": initiative.unit_id,
        "unit_path": home.path,
        "status": initiative.status,
        "scope": initiative.scope,
        "title": initiative.title,
        "authors": [author.model_dump(mode="json") for author in initiative.authors],
        "registration": initiative.registration.model_dump(mode="json") if initiative.registration else None,
        "scores": [s.model_dump(mode="json") for s in initiative.scores.values()],
        "possible_duplicates": row.possible_duplicates if row is not None else [],
        "benefit_vnd": initiative.benefit_vnd,
        "version": initiative.version,
        "history": [
            {"event": env.event_type, "at": env.occurred_at.isoformat(), "by": env.metadata.actor} for env in history
        ],
    }


async def list_initiatives(
    deps: Deps, caller: Caller, under: str | None, status: str | None, limit: int, offset: int
) -> dict[str, Any]:
    under = under or caller.unit_path
    caller.require_subtree(under, "under")
    joined = initiatives.join(units, units.c.unit_id == initiatives.c.unit_id)
    where = [at_or_below(units.c.path, under)]
    if status:
        where.append(initiatives.c.status == status)
    async with deps.db.reader.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(joined).where(*where))
        rows = await conn.execute(
            select(initiatives, units.c.path.label("unit_path"))
            .select_from(joined)
            .where(*where)
            .order_by(initiatives.c.updated_at.desc(), initiatives.c.initiative_id)
            .limit(limit)
            .offset(offset)
        )
        items = [dict(row._mapping) for row in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


async def list_ideas(deps: Deps, caller: Caller, under: str | None, limit: int, offset: int) -> dict[str, Any]:
    under = under or caller.unit_path
    caller.require_subtree(under, "under")
    joined = ideas.join(units, units.c.unit_id == ideas.c.unit_id)
    where = [at_or_below(units.c.path, under)]
    async with deps.db.reader.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(joined).where(*where))
        rows = await conn.execute(
            select(ideas, units.c.path.label("unit_path"))
            .select_from(joined)
            .where(*where)
            .order_by(ideas.c.submitted_at.desc(), ideas.c.idea_id)
            .limit(limit)
            .offset(offset)
        )
        items = [dict(row._mapping) for row in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}
