"""HTTP routes of the directory. Commands take an Idempotency-Key; reads hide what the caller cannot see."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.directory.application import members, queries, units
from services.directory.application.deps import Deps
from services.directory.domain.commands import (
    AssignRole,
    EnrolMember,
    MergeUnit,
    MoveUnit,
    RegisterUnit,
    RenameUnit,
)
from services.directory.domain.rules import OfficialRole
from shared import numbers
from shared.auth import CurrentCaller
from shared.http import Command
from shared.lean_routes import LeanRoute

router = APIRouter(route_class=LeanRoute)  # FastAPI's handling, decided once per route


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


Directory = Annotated[Deps, Depends(_deps)]
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


@router.get("/me", tags=["members"])
async def me(caller: CurrentCaller, deps: Directory) -> Json:
    """Who the bearer token names: their member record, unit and roles now (what a client shows)."""
    return await queries.me(deps, caller)


# -- units -------------------------------------------------------------------------------------------


@router.post("/units", status_code=201, tags=["units"])
async def register_unit(body: RegisterUnit, ctx: Command, deps: Directory) -> Json:
    return await units.register_unit(deps, ctx, body)


@router.get("/units/by-path/{path}", tags=["units"])
async def get_unit_by_path(path: Annotated[str, Path(max_length=400)], caller: CurrentCaller, deps: Directory) -> Json:
    return await queries.get_unit_by_path(deps, caller, path)


@router.get("/units/{unit_id}", tags=["units"])
async def get_unit(unit_id: Id, caller: CurrentCaller, deps: Directory) -> Json:
    return await queries.get_unit(deps, caller, unit_id)


@router.post("/units/{unit_id}/rename", tags=["units"])
async def rename_unit(unit_id: Id, body: RenameUnit, ctx: Command, deps: Directory) -> Json:
    return await units.rename_unit(deps, ctx, unit_id, body)


@router.post("/units/{unit_id}/move", tags=["units"])
async def move_unit(unit_id: Id, body: MoveUnit, ctx: Command, deps: Directory) -> Json:
    return await units.move_unit(deps, ctx, unit_id, body)


@router.post("/units/{unit_id}/merge", tags=["units"])
async def merge_unit(unit_id: Id, body: MergeUnit, ctx: Command, deps: Directory) -> Json:
    return await units.merge_units(deps, ctx, unit_id, body)


@router.get("/units/{unit_id}/subtree", tags=["units"])
async def get_subtree(unit_id: Id, caller: CurrentCaller, deps: Directory) -> Json:
    return await queries.get_subtree(deps, caller, unit_id)


@router.get("/units/{unit_id}/ancestors", tags=["units"])
async def get_ancestors(unit_id: Id, caller: CurrentCaller, deps: Directory) -> Json:
    return await queries.get_ancestors(deps, caller, unit_id)


# -- members -----------------------------------------------------------------------------------------


@router.post("/units/{unit_id}/members", status_code=201, tags=["members"])
async def enrol_member(unit_id: Id, body: EnrolMember, ctx: Command, deps: Directory) -> Json:
    return await members.enrol_member(deps, ctx, unit_id, body)


@router.get("/units/{unit_id}/members", tags=["members"])
async def list_members(
    unit_id: Id,
    caller: CurrentCaller,
    deps: Directory,
    limit: Annotated[numbers.Limit, Query()] = 50,
    offset: Annotated[numbers.Offset, Query()] = 0,
) -> Json:
    return await queries.list_members(deps, caller, unit_id, limit, offset)


@router.get("/members/{member_id}", tags=["members"])
async def get_member(member_id: Id, caller: CurrentCaller, deps: Directory) -> Json:
    return await queries.get_member(deps, caller, member_id)


@router.post("/members/{member_id}/roles", tags=["members"])
async def assign_role(member_id: Id, body: AssignRole, ctx: Command, deps: Directory) -> Json:
    return await members.assign_role(deps, ctx, member_id, body)


@router.delete("/members/{member_id}/roles/{role}", tags=["members"])
async def revoke_role(member_id: Id, role: OfficialRole, ctx: Command, deps: Directory) -> Json:
    return await members.revoke_role(deps, ctx, member_id, role)
