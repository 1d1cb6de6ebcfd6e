"""Handlers of the unit commands: register, rename, move, merge."""

import uuid
from typing import Any

from services.directory.adapters.tree import Tree
from services.directory.application.support import (
    load_unit,
    locate_unit,
    location_guards,
    require_subtree,
    unit_stream,
)
from services.directory.domain.commands import MergeUnit, MoveUnit, RegisterUnit, RenameUnit
from services.directory.domain.events import UnitMovedIn, UnitMovedOut, UnitRegistered
from services.directory.domain.rules import MANAGER_ROLES
from services.directory.domain.unit import Unit
from shared.commands import CommandContext, commit
from shared.errors import Forbidden
from shared.eventstore import EventStore, StreamAppend


async def register_unit(store: EventStore, tree: Tree, ctx: CommandContext, cmd: RegisterUnit) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    parent, lineage = None, []
    if cmd.parent_id is None:
        if "admin" not in caller.roles:
            raise Forbidden("only the platform admin may register a root unit", field="parent_id")
    else:
        parent, above = await locate_unit(tree, cmd.parent_id, field="parent_id", what="parent unit")
        require_subtree(caller, parent.path, "parent_id")
        lineage = [*above, parent]
    siblings = {child.code for child in await tree.children(cmd.parent_id)}
    unit_id = str(uuid.uuid4())
    (registered,) = Unit.register(unit_id, cmd.code, cmd.name, cmd.kind, parent, siblings)
    assert isinstance(registered, UnitRegistered)
    append = StreamAppend.of(unit_stream(unit_id), 0, [(registered, ctx.metadata(registered.path))])
    response = {**registered.model_dump(mode="json"), "status": "active", "version": 1}
    return await commit(store, ctx, [append, *location_guards(lineage)], response, 201)


async def rename_unit(
    store: EventStore, tree: Tree, ctx: CommandContext, unit_id: str, cmd: RenameUnit
) -> dict[str, Any]:
    ctx.caller.require_role(*MANAGER_ROLES)
    here, above = await locate_unit(tree, unit_id)
    require_subtree(ctx.caller, here.path)
    unit = await load_unit(store, here)
    events = unit.rename(cmd.name)
    append = StreamAppend.of(unit_stream(unit_id), unit.version, [(e, ctx.metadata(here.path)) for e in events])
    guards = location_guards(above)
    response = {"unit_id": unit_id, "name": cmd.name, "path": here.path, "version": unit.version + len(events)}
    return await commit(store, ctx, [append, *guards], response)


async def move_unit(store: EventStore, tree: Tree, ctx: CommandContext, unit_id: str, cmd: MoveUnit) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    here, above = await locate_unit(tree, unit_id)
    require_subtree(caller, here.path)
    new_parent, new_above = await locate_unit(tree, cmd.parent_id, field="parent_id", what="new parent unit")
    require_subtree(caller, new_parent.path, "parent_id")
    unit = await load_unit(store, here)
    siblings = {child.code for child in await tree.children(new_parent.unit_id)}
    moved_out, moved_in = unit.move(here, new_parent, siblings, await tree.paths_of(unit_id))
    assert isinstance(moved_out, UnitMovedOut) and isinstance(moved_in, UnitMovedIn)
    # Out on the old path, in on the new one: the losing and the gaining level each hear of it.
    append = StreamAppend.of(
        unit_stream(unit_id),
        unit.version,
        [(moved_out, ctx.metadata(moved_out.from_path)), (moved_in, ctx.metadata(moved_in.to_path))],
    )
    lineage = [*above, *new_above, new_parent]
    response = {
        "unit_id": unit_id,
        "from_path": moved_in.from_path,
        "to_path": moved_in.to_path,
        "parent_id": new_parent.unit_id,
        "version": unit.version + 2,
    }
    return await commit(store, ctx, [append, *location_guards(lineage, exclude=[unit_id])], response)


async def merge_units(
    store: EventStore, tree: Tree, ctx: CommandContext, unit_id: str, cmd: MergeUnit
) -> dict[str, Any]:
    caller = ctx.caller
    caller.require_role(*MANAGER_ROLES)
    here, above = await locate_unit(tree, unit_id)
    require_subtree(caller, here.path)
    there, there_above = await locate_unit(tree, cmd.into_unit_id, field="into_unit_id", what="unit to merge into")
    require_subtree(caller, there.path, "into_unit_id")
    unit = await load_unit(store, here)
    target = await load_unit(store, there) if there.unit_id != unit_id else unit
    children = await tree.children(unit_id)
    target_codes = {child.code for child in await tree.children(there.unit_id)}
    history = await tree.paths_of(unit_id)
    merged, absorbed = unit.merge_into(target, here, there, children, target_codes, history)
    # The merged unit's event first, so read models mark it merged before re-parenting its children.
    appends = [
        StreamAppend.of(unit_stream(unit_id), unit.version, [(e, ctx.metadata(here.path)) for e in merged]),
        StreamAppend.of(unit_stream(there.unit_id), target.version, [(e, ctx.metadata(there.path)) for e in absorbed]),
    ]
    guards = location_guards([*above, *there_above], exclude=[unit_id, there.unit_id])
    response = {
        "unit_id": unit_id,
        "status": "merged",
        "into_unit_id": there.unit_id,
        "into_path": there.path,
        "moved_child_ids": [child.unit_id for child in children],
        "version": unit.version + 1,
        "into_version": target.version + 1,
    }
    return await commit(store, ctx, [*appends, *guards], response)
