"""What every registry handler shares: its dependencies, stream names, who acts, where a unit sits."""

from dataclasses import dataclass
from typing import Any

from services.registry.adapters import units
from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.domain.idea import Idea
from services.registry.domain.initiative import Initiative
from services.registry.domain.rules import Actor, UnitInfo
from shared.auth import Caller
from shared.commands import CommandContext, commit
from shared.db import Database
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import Event
from shared.eventstore import EventStore, StreamAppend


@dataclass
class Registry:
    """The handlers' dependencies: the event store, the service database, the duplicate index."""

    store: EventStore
    db: Database
    duplicates: DuplicateIndex


def idea_stream(idea_id: str) -> str:
    return f"idea-{idea_id}"


def initiative_stream(initiative_id: str) -> str:
    return f"initiative-{initiative_id}"


def can_see(caller: Caller, path: str) -> bool:
    return "admin" in caller.roles or caller.sees(path)


def require_subtree(caller: Caller, path: str, field: str | None = None) -> None:
    if not can_see(caller, path):
        raise Forbidden(f"unit {path} is outside your unit {caller.unit_path}", field=field)


def _unknown(what: str) -> str:
    return (
        f"{what} is not known to the registry yet (its copy of the directory tree follows the directory); "
        "try again shortly"
    )


async def actor_of(reg: Registry, caller: Caller) -> Actor:
    async with reg.db.reader.connect() as conn:
        unit = await units.unit_by_path(conn, caller.unit_path)
    return Actor(caller.subject, unit, caller.roles)


async def unit_at(reg: Registry, caller: Caller, path: str | None, field: str = "unit_path") -> UnitInfo:
    """The unit a caller acts for: their own or one below it (403 outside, 404 if unknown yet)."""
    path = path or caller.unit_path
    require_subtree(caller, path, field)
    async with reg.db.reader.connect() as conn:
        unit = await units.unit_by_path(conn, path)
    if unit is None:
        raise NotFound(_unknown(f"unit {path}"), field=field)
    return unit


async def actor_and_unit(reg: Registry, caller: Caller, path: str | None) -> tuple[Actor, UnitInfo]:
    """Who acts and for which unit, in one read (the registration hot path); the duplicate index is
    brought up to date on the same connection."""
    path = path or caller.unit_path
    require_subtree(caller, path, "unit_path")
    async with reg.db.reader.connect() as conn:
        own = await units.unit_by_path(conn, caller.unit_path)
        unit = own if path == caller.unit_path else await units.unit_by_path(conn, path)
        await reg.duplicates.refresh(conn)
    if unit is None:
        raise NotFound(_unknown(f"unit {path}"), field="unit_path")
    return Actor(caller.subject, own, caller.roles), unit


async def chain_of(reg: Registry, unit_id: str) -> tuple[UnitInfo, list[UnitInfo]]:
    """The unit and its chain (ancestors outermost first, then the unit)."""
    async with reg.db.reader.connect() as conn:
        home = await units.unit_by_id(conn, unit_id)
        if home is None:
            raise Conflict(_unknown(f"the unit {unit_id} of this initiative"))
        return home, [*await units.lineage(conn, home), home]


async def load_initiative(reg: Registry, initiative_id: str) -> Initiative:
    initiative = Initiative.from_history(initiative_id, await reg.store.load(initiative_stream(initiative_id)))
    if not initiative.exists:
        raise NotFound(f"initiative {initiative_id} not found")
    return initiative


async def load_idea(reg: Registry, idea_id: str) -> Idea:
    idea = Idea.from_history(idea_id, await reg.store.load(idea_stream(idea_id)))
    if not idea.exists:
        raise NotFound(f"idea {idea_id} not found")
    return idea


async def commit_initiative(
    reg: Registry,
    ctx: CommandContext,
    initiative: Initiative,
    events: list[Event],
    path: str,
    status_code: int = 200,
    **extra: Any,
) -> dict[str, Any]:
    """Append the events on the initiative's stream (published on ``path``) and answer with its state."""
    append = StreamAppend.of(
        initiative_stream(initiative.id), initiative.version, [(e, ctx.metadata(path)) for e in events]
    )
    for event in events:
        initiative.apply(event)
    response = {
        "initiative_id": initiative.id,
        "unit_id": initiative.unit_id,
        "status": initiative.status,
        "scope": initiative.scope,
        "version": initiative.version + len(events),
        "events": [e.event_type for e in events],
        **extra,
    }
    return await commit(reg.store, ctx, [append], response, status_code)
