"""Handlers of the unit commands: register, rename, move, merge."""

from typing import Any

from contracts.directory import UnitMovedIn, UnitMovedOut, UnitRegistered
from services.directory.application.deps import Deps
from services.directory.domain.commands import MergeUnit, MoveUnit, RegisterUnit, RenameUnit
from services.directory.domain.rules import MANAGER_ROLES
from services.directory.domain.unit import Unit
from shared.commands import CommandContext
from shared.errors import Forbidden
from shared.ids import time_ordered_id


async def register_unit(deps: Deps, ctx: CommandContext, cmd: RegisterUnit) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    parent, lineage = None, []
    if cmd.parent_id is None:
        if not caller.is_admin:
            raise Forbidden("only the platform admin may register a root unit", field="parent_id")
    else:
        parent, above = await deps.locate(cmd.parent_id, field="parent_id", what="parent unit")
        caller.require_subtree(parent.path, "parent_id")
        lineage = [*above, parent]
    siblings = {child.code for child in await deps.records.children(cmd.parent_id)}
    unit = Unit(time_ordered_id())
    (registered,) = Unit.register(unit.id, cmd.code, cmd.name, cmd.kind, parent, siblings)
    assert isinstance(registered, UnitRegistered)
    response = {**registered.model_dump(mode="json"), "status": "active", "version": 1}
    guards = deps.location_guards(lineage)
    return await deps.units.save(
        unit, [registered], ctx, at=registered.path, respond=response, status_code=201, also=guards
    )


async def rename_unit(deps: Deps, ctx: CommandContext, unit_id: str, cmd: RenameUnit) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    here, above = await deps.locate(unit_id)
    ctx.caller.require_subtree(here.path)
    unit = await deps.unit(here)
    events = unit.rename(cmd.name)
    response = {"unit_id": unit_id, "name": cmd.name, "path": here.path, "version": unit.version + len(events)}
    return await deps.units.save(unit, events, ctx, at=here.path, respond=response, also=deps.location_guards(above))


async def move_unit(deps: Deps, ctx: CommandContext, unit_id: str, cmd: MoveUnit) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    here, above = await deps.locate(unit_id)
    caller.require_subtree(here.path)
    new_parent, new_above = await deps.locate(cmd.parent_id, field="parent_id", what="new parent unit")
    caller.require_subtree(new_parent.path, "parent_id")
    unit = await deps.unit(here)
    siblings = {child.code for child in await deps.records.children(new_parent.unit_id)}
    moved_out, moved_in = unit.move(here, new_parent, siblings, await deps.records.paths_of(unit_id))
    assert isinstance(moved_out, UnitMovedOut) and isinstance(moved_in, UnitMovedIn)
    response = {
        "unit_id": unit_id,
        "from_path": moved_in.from_path,
        "to_path": moved_in.to_path,
        "parent_id": new_parent.unit_id,
        "version": unit.version + 2,
    }
    guards = deps.location_guards([*above, *new_above, new_parent], exclude=[unit_id])
    # Out on the old path, in on the new one: the losing and the gaining level each hear of it.
    paths = [moved_out.from_path, moved_in.to_path]
    return await deps.units.save(unit, [moved_out, moved_in], ctx, at=paths, respond=response, also=guards)


async def merge_units(deps: Deps, ctx: CommandContext, unit_id: str, cmd: MergeUnit) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    here, above = await deps.locate(unit_id)
    caller.require_subtree(here.path)
    there, there_above = await deps.locate(cmd.into_unit_id, field="into_unit_id", what="unit to merge into")
    caller.require_subtree(there.path, "into_unit_id")
    unit = await deps.unit(here)
    target = await deps.unit(there) if there.unit_id != unit_id else unit
    children = await deps.records.children(unit_id)
    target_codes = {child.code for child in await deps.records.children(there.unit_id)}
    history = await deps.records.paths_of(unit_id)
    merged, absorbed = unit.merge_into(target, here, there, children, target_codes, history)
    response = {
        "unit_id": unit_id,
        "status": "merged",
        "into_unit_id": there.unit_id,
        "into_path": there.path,
        "moved_child_ids": [child.unit_id for child in children],
        "version": unit.version + 1,
        "into_version": target.version + 1,
    }
    # The merged unit's event first, so read models mark it merged before re-parenting its children.
    also = [
        deps.units.append(target, absorbed, ctx, there.path),
        *deps.location_guards([*above, *there_above], exclude=[unit_id, there.unit_id]),
    ]
    return await deps.units.save(unit, merged, ctx, at=here.path, respond=response, also=also)
