"""Read queries over the tree: a unit, its subtree, its ancestors, its members.

A unit outside the caller's subtree reads as 404, never 403: a reader does not learn it exists.
"""

from typing import Any

from services.directory.application.deps import Deps
from services.directory.domain.rules import KIND_LABELS
from shared.errors import NotFound
from shared.identity import Caller
from shared.units import ACTIVE, UnitRef


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


async def visible_unit(deps: Deps, caller: Caller, unit_id: str) -> UnitRef:
    ref = await deps.records.unit(unit_id)
    if ref is None or not caller.sees(ref.path):
        raise _hidden(f"unit {unit_id}")
    return ref


async def get_unit(deps: Deps, caller: Caller, unit_id: str) -> dict[str, Any]:
    return unit_view(await visible_unit(deps, caller, unit_id))


async def get_unit_by_path(deps: Deps, caller: Caller, path: str) -> dict[str, Any]:
    ref = await deps.records.unit_by_path(path)
    if ref is None or not caller.sees(ref.path):
        raise _hidden(f"unit {path}")
    return unit_view(ref)


async def get_subtree(deps: Deps, caller: Caller, unit_id: str) -> dict[str, Any]:
    """The unit and every active unit below it, ordered by path (parent before child)."""
    ref = await visible_unit(deps, caller, unit_id)
    units = await deps.records.subtree(ref.path) if ref.status == ACTIVE else [ref]
    return {"unit_id": ref.unit_id, "path": ref.path, "units": [unit_view(u) for u in units]}


async def get_ancestors(deps: Deps, caller: Caller, unit_id: str) -> dict[str, Any]:
    """The chain from the root down to the unit's parent.

    Ancestors sit above the caller's subtree, but their codes are already in the caller's own path;
    this breadcrumb only adds their names and ids.
    """
    ref = await visible_unit(deps, caller, unit_id)
    chain = await deps.records.ancestors(ref.path)
    return {"unit_id": ref.unit_id, "path": ref.path, "ancestors": [unit_view(u) for u in chain]}


async def list_members(deps: Deps, caller: Caller, unit_id: str, limit: int, offset: int) -> dict[str, Any]:
    ref = await visible_unit(deps, caller, unit_id)
    total, items = await deps.records.members(ref.unit_id, limit, offset)
    return {"unit_id": ref.unit_id, "total": total, "limit": limit, "offset": offset, "items": items}


async def get_member(deps: Deps, caller: Caller, member_id: str) -> dict[str, Any]:
    member = await deps.records.member(member_id)
    unit = await deps.records.unit(member["unit_id"]) if member else None
    if member is None or unit is None or not caller.sees(unit.path):
        raise _hidden(f"member {member_id}")
    return {**member, "path": unit.path}


async def me(deps: Deps, caller: Caller) -> dict[str, Any]:
    """Who the caller is, as the directory records them now: their unit and the roles they hold there."""
    member = await deps.records.member(caller.subject)
    unit = caller.unit
    return {
        "subject": caller.subject,
        "member_id": member["member_id"] if member else None,
        "full_name": member["full_name"] if member else caller.subject,
        "unit_id": unit.unit_id if unit else None,
        "unit_path": unit.path if unit else None,
        "unit_name": unit.name if unit else None,
        "roles": sorted(caller.roles),
    }
