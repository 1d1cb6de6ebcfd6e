"""A harness for a level projection without NATS: the service's stored events as Messages, the runner's
membership (``shared.membership``) with a history reader that replays that list (like the runner:
subtree subjects, stream order, below the arriving message), and the truth a level must equal, computed
from the directory's own records."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.directory import SERVICE
from services.directory.adapters.level import DirectoryLevelProjection, read_units
from services.directory.adapters.records import members, units
from shared.db import Database, open_database
from shared.eventstore import EventStore
from shared.eventstore.schema import events
from shared.membership import Membership
from shared.membership import metadata as membership_metadata
from shared.projection import Message
from shared.subjects import ancestors, event_subject, in_subtree
from shared.units import ACTIVE


@dataclass
class MessageLog:
    """What JetStream would hold: every stored directory event on its subject, sequence = position."""

    messages: list[Message] = field(default_factory=list)

    async def sync(self, store: EventStore) -> None:
        after = self.messages[-1].sequence if self.messages else 0
        for env in await store.read_after(after, limit=100_000):
            path = env.metadata.unit_path
            subject = event_subject(SERVICE, env.event_type, path)
            self.messages.append(Message(subject, env.position or 0, path, env))

    async def history(self, paths: Sequence[str], before: int) -> list[Message]:
        return [m for m in self.messages if m.sequence < before and any(in_subtree(m.path, path) for path in paths)]


class Level:
    """One level's projection: delivers what its filters match, in order, one transaction per catch-up."""

    def __init__(self, level: str, log: MessageLog, folder: Path) -> None:
        self.level, self.log = level, log
        self.db: Database = open_database(f"sqlite+aiosqlite:///{folder}/level-{level}.db")
        self.projection = DirectoryLevelProjection()
        self.membership = Membership(level, self.projection, log.history)
        self.applied_to = 0
        self.ready = False

    def delivers(self, path: str) -> bool:
        return in_subtree(path, self.level) or path in ancestors(self.level)

    async def catch_up(self) -> None:
        fresh = [m for m in self.log.messages if m.sequence > self.applied_to and self.delivers(m.path)]
        async with self.db.writer.begin() as conn:
            if not self.ready:
                await conn.run_sync(self.projection.metadata.create_all)
                await conn.run_sync(membership_metadata.create_all)
                self.ready = True
            await self.membership.load(conn)
            for message in fresh:
                await self.membership.route(conn, message)
        self.applied_to = self.log.messages[-1].sequence if self.log.messages else 0

    async def state(self) -> dict[str, dict[str, Any]]:
        async with self.db.reader.connect() as conn:
            return {row["unit_id"]: row for row in await read_units(conn)}


async def truth(db: Database, level: str) -> dict[str, dict[str, Any]]:
    """The level as it must be: the records' units under ``level`` (and those merged into them) with
    their members now and every event ever stored about them."""
    async with db.reader.connect() as conn:
        tree = {row.unit_id: dict(row._mapping) for row in await conn.execute(select(units))}
        member_units = Counter(uid for (uid,) in await conn.execute(select(members.c.unit_id)))
        seen = Counter(data["unit_id"] for (data,) in await conn.execute(select(events.c.data)))

    def lands_in_level(unit: dict[str, Any]) -> bool:
        while unit["status"] != ACTIVE:
            unit = tree[unit["merged_into"]]
        return in_subtree(unit["path"], level)

    keys = ("unit_id", "code", "name", "kind", "parent_id", "path", "status", "merged_into")
    return {
        uid: {**{k: unit[k] for k in keys}, "member_count": member_units[uid], "events_seen": seen[uid]}
        for uid, unit in tree.items()
        if lands_in_level(unit)
    }
