"""Read queries over the tree: a unit, its subtree, its ancestors, its members.

A unit outside the caller's subtree reads as 404, never 403: a reader does not learn it exists.
"""

from typing import Any

from services.directory.adapters.tree import Tree
from services.directory.application.support import can_see
from services.directory.domain.rules import ACTIVE, KIND_LABELS, UnitRef
from shared.auth import Caller
from shared.errors import NotFound


def unit_view(ref: UnitRef) -> dict[str, Any]:
    return {
        "unit_id": ref.unit_id,
        "code": ref.code,
        "name": ref.name,
        "kind": ref.kind,
        "kind_label": KIND_LABELS.get(ref.kind, ref.kind),
        "parent_id": ref.parent_id,
        "path": ref.path,
        "status": ref.status,
        "merged_into": ref.merged_into,
        "version": ref.version,
    }


def _hidden(what: str) -> NotFound:
    return NotFound(f"{what} not found in your unit's subtree")


async def visible_unit(tree: Tree, caller: Caller, unit_id: str) -> UnitRef:
    ref = await tree.unit(unit_id)
    if ref is None or not can_see(caller, ref.path):
        raise _hidden(f"unit {unit_id}")
    return ref


async def get_unit(tree: Tree, caller: Caller, unit_id: str) -> dict[str, Any]:
    return unit_view(await visible_unit(tree, caller, unit_id))


async def get_unit_by_path(tree: Tree, caller: Caller, path: str) -> dict[str, Any]:
    ref = await tree.unit_by_path(path)
    if ref is None or not can_see(caller, ref.path):
        raise _hidden(f"unit {path}")
    return unit_view(ref)


async def get_subtree(tree: Tree, caller: Caller, unit_id: str) -> dict[str, Any]:
    """The unit and every active unit below it, ordered by path (parent before child)."""
    ref = await visible_unit(tree, caller, unit_id)
    units = await tree.subtree(ref.path) if ref.status == ACTIVE else [ref]
    return {"unit_id": ref.unit_id, "path": ref.path, "units": [unit_view(u) for u in units]}


async def get_ancestors(tree: Tree, caller: Caller, unit_id: str) -> dict[str, Any]:
    """The chain from the root down to the unit's parent.

    Ancestors sit above the caller's subtree, but their codes are already in the caller's own path;
    this breadcrumb only adds their names and ids.
    """
    ref = await visible_unit(tree, caller, unit_id)
    chain = await tree.ancestors(ref.path)
    return {"unit_id": ref.unit_id, "path": ref.path, "ancestors": [unit_view(u) for u in chain]}


async def list_members(tree: Tree, caller: Caller, unit_id: str, limit: int, offset: int) -> dict[str, Any]:
    ref = await visible_unit(tree, caller, unit_id)
    total, items = await tree.members(ref.unit_id, limit, offset)
    return {"unit_id": ref.unit_id, "total": total, "limit": limit, "offset": offset, "items": items}


async def get_member(tree: Tree, caller: Caller, member_id: str) -> dict[str, Any]:
    member = await tree.member(member_id)
    unit = await tree.unit(member["unit_id"]) if member else None
    if member is None or unit is None or not can_see(caller, unit.path):
        raise _hidden(f"member {member_id}")
    return {**member, "path": unit.path}
