"""HTTP routes of the directory. Commands take an Idempotency-Key; reads hide what the caller cannot see."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.directory.adapters.tree import Tree
from services.directory.application import members, queries, units
from services.directory.domain.commands import (
    AssignRole,
    EnrolMember,
    MergeUnit,
    MoveUnit,
    RegisterUnit,
    RenameUnit,
)
from services.directory.domain.rules import OfficialRole
from shared.auth import CurrentCaller
from shared.http import Command, Store

router = APIRouter()


async def _tree(request: Request) -> Tree:
    return request.app.state.tree


TreeModel = Annotated[Tree, Depends(_tree)]
Id = Annotated[str, Path(max_length=64)]
Json = dict[str, Any]


@router.get("/health", tags=["ops"])
async def health(request: Request) -> Json:
    relay = getattr(request.app.state, "relay", None)
    return {
        "status": "ok",
        "service": "directory",
        "relay": None if relay is None else {"published": relay.published, "last_error": relay.last_error},
    }


# -- units -------------------------------------------------------------------------------------------


@router.post("/units", status_code=201, tags=["units"])
async def register_unit(body: RegisterUnit, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await units.register_unit(store, tree, ctx, body)


@router.get("/units/by-path/{path}", tags=["units"])
async def get_unit_by_path(path: Annotated[str, Path(max_length=400)], caller: CurrentCaller, tree: TreeModel) -> Json:
    return await queries.get_unit_by_path(tree, caller, path)


@router.get("/units/{unit_id}", tags=["units"])
async def get_unit(unit_id: Id, caller: CurrentCaller, tree: TreeModel) -> Json:
    return await queries.get_unit(tree, caller, unit_id)


@router.post("/units/{unit_id}/rename", tags=["units"])
async def rename_unit(unit_id: Id, body: RenameUnit, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await units.rename_unit(store, tree, ctx, unit_id, body)


@router.post("/units/{unit_id}/move", tags=["units"])
async def move_unit(unit_id: Id, body: MoveUnit, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await units.move_unit(store, tree, ctx, unit_id, body)


@router.post("/units/{unit_id}/merge", tags=["units"])
async def merge_unit(unit_id: Id, body: MergeUnit, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await units.merge_units(store, tree, ctx, unit_id, body)


@router.get("/units/{unit_id}/subtree", tags=["units"])
async def get_subtree(unit_id: Id, caller: CurrentCaller, tree: TreeModel) -> Json:
    return await queries.get_subtree(tree, caller, unit_id)


@router.get("/units/{unit_id}/ancestors", tags=["units"])
async def get_ancestors(unit_id: Id, caller: CurrentCaller, tree: TreeModel) -> Json:
    return await queries.get_ancestors(tree, caller, unit_id)


# -- members -----------------------------------------------------------------------------------------


@router.post("/units/{unit_id}/members", status_code=201, tags=["members"])
async def enrol_member(unit_id: Id, body: EnrolMember, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await members.enrol_member(store, tree, ctx, unit_id, body)


@router.get("/units/{unit_id}/members", tags=["members"])
async def list_members(
    unit_id: Id,
    caller: CurrentCaller,
    tree: TreeModel,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Json:
    return await queries.list_members(tree, caller, unit_id, limit, offset)


@router.get("/members/{member_id}", tags=["members"])
async def get_member(member_id: Id, caller: CurrentCaller, tree: TreeModel) -> Json:
    return await queries.get_member(tree, caller, member_id)


@router.post("/members/{member_id}/roles", tags=["members"])
async def assign_role(member_id: Id, body: AssignRole, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await members.assign_role(store, tree, ctx, member_id, body)


@router.delete("/members/{member_id}/roles/{role}", tags=["members"])
async def revoke_role(member_id: Id, role: OfficialRole, ctx: Command, store: Store, tree: TreeModel) -> Json:
    return await members.revoke_role(store, tree, ctx, member_id, role)
