"""A single-handler harness for the level projection: the service's stored events as ProjectedMessages,
a fake ApplyContext whose back-fill replays that list (like the runner: subtree subjects, stream order,
below the current message), and the truth a level must equal, computed from the service's own tables."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.directory import SERVICE
from services.directory.adapters.level import DirectoryLevelProjection, level_units, read_units
from services.directory.adapters.tree import members, units
from services.directory.domain.rules import ACTIVE
from shared.db import Database, open_database
from shared.eventstore import EventStore
from shared.eventstore.schema import events
from shared.projections import ProjectedMessage
from shared.subjects import ancestors, event_subject, in_subtree


@dataclass
class MessageLog:
    """What JetStream would hold: every stored directory event on its subject, sequence = position."""

    messages: list[ProjectedMessage] = field(default_factory=list)

    async def sync(self, store: EventStore) -> None:
        after = self.messages[-1].sequence if self.messages else 0
        for env in await store.read_after(after, limit=100_000):
            path = env.metadata.unit_path
            subject = event_subject(SERVICE, env.event_type, path)
            self.messages.append(ProjectedMessage(subject, env.position or 0, path, env))


@dataclass
class FakeContext:
    scope: str
    level: "Level"
    sequence: int

    async def backfill(self, *paths: str) -> None:
        for message in self.level.log.messages:
            if message.sequence >= self.sequence:
                break
            if any(in_subtree(message.path, path) for path in paths):
                await self.level.projection.apply(
                    self.level.conn, message, FakeContext(self.scope, self.level, message.sequence)
                )


class Level:
    """One level's projector: delivers what its filters match, in order, one transaction per catch-up."""

    def __init__(self, scope: str, log: MessageLog, folder: Path) -> None:
        self.scope, self.log = scope, log
        self.db: Database = open_database(f"sqlite+aiosqlite:///{folder}/level-{scope}.db")
        self.projection = DirectoryLevelProjection()
        self.applied_to = 0
        self.conn: Any = None
        self.ready = False

    def delivers(self, path: str) -> bool:
        return in_subtree(path, self.scope) or path in ancestors(self.scope)

    async def catch_up(self) -> None:
        fresh = [m for m in self.log.messages if m.sequence > self.applied_to and self.delivers(m.path)]
        async with self.db.writer.begin() as conn:
            if not self.ready:
                await conn.run_sync(level_units.metadata.create_all)
                self.ready = True
            self.conn = conn
            for message in fresh:
                await self.projection.apply(conn, message, FakeContext(self.scope, self, message.sequence))
        self.applied_to = self.log.messages[-1].sequence if self.log.messages else 0

    async def state(self) -> dict[str, dict[str, Any]]:
        async with self.db.reader.connect() as conn:
            return {row["unit_id"]: row for row in await read_units(conn)}


async def truth(db: Database, scope: str) -> dict[str, dict[str, Any]]:
    """The level as it must be: the tree's units under ``scope`` (and those merged into them) with
    their members now and every event ever stored about them."""
    async with db.reader.connect() as conn:
        tree = {row.unit_id: dict(row._mapping) for row in await conn.execute(select(units))}
        member_units = Counter(uid for (uid,) in await conn.execute(select(members.c.unit_id)))
        seen = Counter(data["unit_id"] for (data,) in await conn.execute(select(events.c.data)))

    def lands_in_scope(unit: dict[str, Any]) -> bool:
        while unit["status"] != ACTIVE:
            unit = tree[unit["merged_into"]]
        return in_subtree(unit["path"], scope)

    keys = ("unit_id", "code", "name", "kind", "parent_id", "path", "status", "merged_into")
    return {
        uid: {**{k: unit[k] for k in keys}, "member_count": member_units[uid], "events_seen": seen[uid]}
        for uid, unit in tree.items()
        if lands_in_scope(unit)
    }
