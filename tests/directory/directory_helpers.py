"""Helpers of the directory tests (a uniquely named module: ``conftest`` names collide across folders)."""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from services.directory.application import members, units
from services.directory.application.deps import Deps
from services.directory.domain.commands import AssignRole, EnrolMember, MergeUnit, MoveUnit, RegisterUnit, RenameUnit
from shared.commands import CommandContext
from shared.eventstore.schema import events
from shared.identity import Caller
from tests.people import TEST_PEOPLE_STREAMS, bearer, person_id

__all__ = ["Driver", "bearer", "ensure_person", "event_count"]


async def event_count(app: FastAPI) -> int:
    """Events stored, leaving out the test people's own (``tests.people``)."""
    async with app.state.store.db.reader.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(events).where(events.c.stream_id.not_like(TEST_PEOPLE_STREAMS))
        )


async def ensure_person(deps: Deps, path: str, roles: tuple[str, ...], who: str = "") -> str | None:
    """A member of the unit at ``path`` holding ``roles``, enrolled through the directory's own handlers."""
    unit = await deps.records.unit_by_path(path)
    if unit is None:
        return None
    member_id = person_id(unit.unit_id, roles, who)
    if await deps.records.member(member_id) is None:
        ctx = CommandContext(caller=Caller.system("test-people"))
        person = EnrolMember(full_name="Người Kiểm Thử")
        await members.enrol_member(deps, ctx, unit.unit_id, person, member_id=member_id)
        for role in roles:
            await members.assign_role(deps, ctx, member_id, AssignRole(role=role))  # type: ignore[arg-type]
    return member_id


class Driver:
    """Runs directory commands in-process as the platform admin; units are addressed by path."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.records = deps.records
        self.ctx = CommandContext(caller=Caller.system("admin"))

    async def id_of(self, path: str) -> str:
        ref = await self.records.unit_by_path(path)
        assert ref is not None, path
        return ref.unit_id

    async def register(self, path: str, kind: str, name: str | None = None) -> str:
        parent, _, code = path.rpartition(".")
        parent_id = await self.id_of(parent) if parent else None
        cmd = RegisterUnit(code=code, name=name or f"Công đoàn {code}", kind=kind, parent_id=parent_id)  # type: ignore[arg-type]
        return (await units.register_unit(self.deps, self.ctx, cmd))["unit_id"]

    async def enrol(self, path: str, *names: str) -> list[str]:
        unit_id = await self.id_of(path)
        done = [await members.enrol_member(self.deps, self.ctx, unit_id, EnrolMember(full_name=name)) for name in names]
        return [d["member_id"] for d in done]

    async def assign(self, member_id: str, role: str) -> dict[str, Any]:
        cmd = AssignRole(role=role)  # type: ignore[arg-type]
        return await members.assign_role(self.deps, self.ctx, member_id, cmd)

    async def rename(self, path: str, name: str) -> None:
        await units.rename_unit(self.deps, self.ctx, await self.id_of(path), RenameUnit(name=name))

    async def move(self, path: str, new_parent: str) -> dict[str, Any]:
        cmd = MoveUnit(parent_id=await self.id_of(new_parent))
        return await units.move_unit(self.deps, self.ctx, await self.id_of(path), cmd)

    async def merge(self, path: str, into: str) -> dict[str, Any]:
        cmd = MergeUnit(into_unit_id=await self.id_of(into))
        return await units.merge_units(self.deps, self.ctx, await self.id_of(path), cmd)
