"""Handlers of the member commands: enrol a member, assign and revoke an official's role."""

from typing import Any

from services.directory.application.deps import Deps
from services.directory.domain.commands import AssignRole, EnrolMember
from services.directory.domain.member import Member
from services.directory.domain.rules import ENROLLER_ROLES, MANAGER_ROLES
from shared.commands import CommandContext
from shared.errors import NotFound
from shared.events import Event
from shared.ids import time_ordered_id
from shared.units import UnitRef


async def enrol_member(
    deps: Deps, ctx: CommandContext, unit_id: str, cmd: EnrolMember, *, member_id: str | None = None
) -> dict[str, Any]:
    """``member_id`` is chosen by the directory; the demo loader names its people (stable demo users)."""
    ctx.caller.require_role(*ENROLLER_ROLES)
    unit, above = await deps.locate(unit_id)
    ctx.caller.require_subtree(unit.path)
    member = Member(member_id or time_ordered_id())
    details = cmd.model_dump(exclude={"full_name"}, exclude_none=True)
    events = Member.enrol(member.id, unit, cmd.full_name, **details)
    response = {
        "member_id": member.id,
        "unit_id": unit_id,
        "path": unit.path,
        **events[0].model_dump(mode="json", exclude={"member_id", "unit_id"}),
        "version": 1,
    }
    guards = deps.location_guards([*above, unit])
    return await deps.members.save(member, events, ctx, at=unit.path, respond=response, status_code=201, also=guards)


async def _member_and_unit(
    deps: Deps, ctx: CommandContext, member_id: str
) -> tuple[dict[str, Any], UnitRef, list[UnitRef]]:
    row = await deps.records.member(member_id)
    if row is None:
        raise NotFound(f"member {member_id} not found")
    unit, above = await deps.locate(row["unit_id"])
    ctx.caller.require_subtree(unit.path)
    return row, unit, above


async def assign_role(deps: Deps, ctx: CommandContext, member_id: str, cmd: AssignRole) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    row, current, above = await _member_and_unit(deps, ctx, member_id)
    target = current
    if cmd.unit_id is not None and cmd.unit_id != current.unit_id:
        target, above = await deps.locate(cmd.unit_id, field="unit_id")
        ctx.caller.require_subtree(target.path, "unit_id")
    member = await deps.member(member_id, row["version"])
    events = member.assign_role(target, current.unit_id, cmd.role)
    return await _save_roles(deps, ctx, member, [*above, target], events)


async def revoke_role(deps: Deps, ctx: CommandContext, member_id: str, role: str) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    row, current, above = await _member_and_unit(deps, ctx, member_id)
    member = await deps.member(member_id, row["version"])
    events = member.revoke_role(current, role)
    return await _save_roles(deps, ctx, member, [*above, current], events)


async def _save_roles(
    deps: Deps, ctx: CommandContext, member: Member, lineage: list[UnitRef], events: list[Event]
) -> dict[str, Any]:
    unit = lineage[-1]

    def view(after: Member) -> dict[str, Any]:
        held = sorted(role for unit_id, role in after.roles if unit_id == unit.unit_id)
        return {"member_id": after.id, "unit_id": unit.unit_id, "roles": held, "version": after.version}

    guards = deps.location_guards(lineage)
    return await deps.members.save(member, events, ctx, at=unit.path, respond=view, also=guards)
