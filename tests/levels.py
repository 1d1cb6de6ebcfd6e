"""Level projections without NATS: messages routed through the runner's membership, as a level host
would deliver them, and a level host's HTTP reads served in-process."""

import uuid
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

import httpx
from fastapi import APIRouter, FastAPI

from shared.db import Database
from shared.directory_copy import DirectoryCopy
from shared.events import Event, EventMetadata, new_envelope
from shared.eventstore import EventStore
from shared.level_host import Host, host_app
from shared.membership import Membership
from shared.membership import metadata as membership_metadata
from shared.projection import Message, Projection
from shared.settings import Settings
from shared.subjects import ancestors, event_subject, in_subtree
from tests.people import People


def message(service: str, event: Event, path: str, sequence: int = 0) -> Message:
    envelope = new_envelope(f"s-{uuid.uuid4()}", 1, event, EventMetadata(actor="test", unit_path=path))
    return Message(event_subject(service, event.event_type, path), sequence, path, envelope)


async def stored(store: EventStore, service: str) -> list[Message]:
    """A service's stored events as the messages the relay publishes."""
    found = []
    for env in await store.read_after(0, limit=100_000):
        path = env.metadata.unit_path
        found.append(Message(event_subject(service, env.event_type, path), env.position or 0, path, env))
    return found


async def no_history(paths: Sequence[str], before: int) -> list[Message]:
    raise AssertionError("no unit joins the level in this test")


async def apply_level(
    db: Database,
    projection: Projection,
    level: str,
    messages: Iterable[Message],
    history=no_history,  # type: ignore[no-untyped-def]
) -> None:
    """Deliver what the level's filters match (its subtree and its ancestors' own subjects), in order."""
    membership = Membership(level, projection, history)
    async with db.writer.begin() as conn:
        await conn.run_sync(projection.metadata.create_all)
        await conn.run_sync(membership_metadata.create_all)
        await membership.load(conn)
        for msg in messages:
            if in_subtree(msg.path, level) or msg.path in ancestors(level):
                await membership.route(conn, msg)
        await membership.written(conn)  # as the runner ends a batch
        await projection.flush(conn, level)


def level_client(
    settings: Settings, copy: DirectoryCopy, people: People, levels: dict[str, Database], reads: APIRouter
) -> httpx.AsyncClient:
    """A client of a level host serving ``levels`` (each already projected) with ``reads``, whose callers
    are resolved from ``copy``."""
    slots = {level: SimpleNamespace(db=db, healthy=True, health=dict) for level, db in levels.items()}
    app: FastAPI = host_app(settings, Host("test", slots), copy, reads, stop=None)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://level", auth=people)
