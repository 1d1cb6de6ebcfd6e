"""Helpers of the directory tests (a uniquely named module: ``conftest`` names collide across folders)."""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from services.directory.adapters.tree import Tree
from services.directory.application import members, units
from services.directory.domain.commands import AssignRole, EnrolMember, MergeUnit, MoveUnit, RegisterUnit, RenameUnit
from shared.auth import Caller, issue_token
from shared.commands import CommandContext
from shared.eventstore import EventStore
from shared.eventstore.schema import events
from shared.settings import Settings


def bearer(settings: Settings, unit_path: str, *roles: str, sub: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, sub, unit_path, list(roles))}"}


async def event_count(app: FastAPI) -> int:
    async with app.state.store.db.reader.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(events))


class Driver:
    """Runs directory commands in-process as the platform admin; units are addressed by path."""

    def __init__(self, store: EventStore, tree: Tree) -> None:
        self.store, self.tree = store, tree
        self.ctx = CommandContext(caller=Caller("admin", "hn", frozenset({"admin"})))

    async def id_of(self, path: str) -> str:
        ref = await self.tree.unit_by_path(path)
        assert ref is not None, path
        return ref.unit_id

    async def register(self, path: str, kind: str, name: str | None = None) -> str:
        parent, _, code = path.rpartition(".")
        parent_id = await self.id_of(parent) if parent else None
        cmd = RegisterUnit(code=code, name=name or f"Công đoàn {code}", kind=kind, parent_id=parent_id)  # type: ignore[arg-type]
        return (await units.register_unit(self.store, self.tree, self.ctx, cmd))["unit_id"]

    async def enrol(self, path: str, *names: str) -> list[str]:
        unit_id = await self.id_of(path)
        done = [
            await members.enrol_member(self.store, self.tree, self.ctx, unit_id, EnrolMember(full_name=name))
            for name in names
        ]
        return [d["member_id"] for d in done]

    async def assign(self, member_id: str, role: str) -> dict[str, Any]:
        cmd = AssignRole(role=role)  # type: ignore[arg-type]
        return await members.assign_role(self.store, self.tree, self.ctx, member_id, cmd)

    async def rename(self, path: str, name: str) -> None:
        await units.rename_unit(self.store, self.tree, self.ctx, await self.id_of(path), RenameUnit(name=name))

    async def move(self, path: str, new_parent: str) -> dict[str, Any]:
        cmd = MoveUnit(parent_id=await self.id_of(new_parent))
        return await units.move_unit(self.store, self.tree, self.ctx, await self.id_of(path), cmd)

    async def merge(self, path: str, into: str) -> dict[str, Any]:
        cmd = MergeUnit(into_unit_id=await self.id_of(into))
        return await units.merge_units(self.store, self.tree, self.ctx, await self.id_of(path), cmd)
