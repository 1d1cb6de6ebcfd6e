"""Handlers of the member commands: enrol a member, assign and revoke an official's role."""

import uuid
from typing import Any

from services.directory.adapters.tree import Tree
from services.directory.application.support import (
    load_member,
    locate_unit,
    location_guards,
    member_stream,
    require_subtree,
)
from services.directory.domain.commands import AssignRole, EnrolMember
from services.directory.domain.member import Member
from services.directory.domain.rules import ENROLLER_ROLES, MANAGER_ROLES, UnitRef
from shared.commands import CommandContext, commit
from shared.errors import NotFound
from shared.eventstore import EventStore, StreamAppend


async def enrol_member(
    store: EventStore, tree: Tree, ctx: CommandContext, unit_id: str, cmd: EnrolMember
) -> dict[str, Any]:
    ctx.caller.require_role(*ENROLLER_ROLES)
    unit, above = await locate_unit(tree, unit_id)
    require_subtree(ctx.caller, unit.path)
    member_id = str(uuid.uuid4())
    details = cmd.model_dump(exclude={"full_name"}, exclude_none=True)
    events = Member.enrol(member_id, unit, cmd.full_name, **details)
    append = StreamAppend.of(member_stream(member_id), 0, [(e, ctx.metadata(unit.path)) for e in events])
    guards = location_guards([*above, unit])
    response = {
        "member_id": member_id,
        "unit_id": unit_id,
        "path": unit.path,
        **events[0].model_dump(mode="json", exclude={"member_id", "unit_id"}),
        "version": 1,
    }
    return await commit(store, ctx, [append, *guards], response, 201)


async def _member_and_unit(
    tree: Tree, ctx: CommandContext, member_id: str
) -> tuple[dict[str, Any], UnitRef, list[UnitRef]]:
    row = await tree.member(member_id)
    if row is None:
        raise NotFound(f"member {member_id} not found")
    unit, above = await locate_unit(tree, row["unit_id"])
    require_subtree(ctx.caller, unit.path)
    return row, unit, above


async def assign_role(
    store: EventStore, tree: Tree, ctx: CommandContext, member_id: str, cmd: AssignRole
) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    row, current, above = await _member_and_unit(tree, ctx, member_id)
    target = current
    if cmd.unit_id is not None and cmd.unit_id != current.unit_id:
        target, above = await locate_unit(tree, cmd.unit_id, field="unit_id")
        require_subtree(ctx.caller, target.path, "unit_id")
    member = await load_member(store, member_id, row["version"])
    events = member.assign_role(target, current.unit_id, cmd.role)
    return await _commit_role(store, ctx, member, [*above, target], events)


async def revoke_role(store: EventStore, tree: Tree, ctx: CommandContext, member_id: str, role: str) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    row, current, above = await _member_and_unit(tree, ctx, member_id)
    member = await load_member(store, member_id, row["version"])
    events = member.revoke_role(current, role)
    return await _commit_role(store, ctx, member, [*above, current], events)


async def _commit_role(
    store: EventStore, ctx: CommandContext, member: Member, lineage: list[UnitRef], events: list[Any]
) -> dict[str, Any]:
    unit = lineage[-1]
    append = StreamAppend.of(
        member_stream(member.member_id), member.version, [(e, ctx.metadata(unit.path)) for e in events]
    )
    guards = location_guards(lineage)
    for event in events:  # the decided events, applied to a throw-away copy for the response
        member.apply(event)
    response = {
        "member_id": member.member_id,
        "unit_id": unit.unit_id,
        "roles": sorted(role for unit_id, role in member.roles if unit_id == unit.unit_id),
        "version": append.envelopes[-1].version,
    }
    return await commit(store, ctx, [append, *guards], response)
