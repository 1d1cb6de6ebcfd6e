"""HTTP routes of the pledges service. Commands take an Idempotency-Key; reads hide what the caller
cannot see. Progress tables are served by the level projectors (adapters/level.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.pledges.application import campaigns, pledges, queries
from services.pledges.application.deps import Deps
from services.pledges.domain.commands import (
    AmendPledge,
    CloseCampaign,
    LaunchCampaign,
    Register,
    ReportProgress,
    SignPledge,
    SplitTargets,
)
from shared import numbers
from shared.auth import CurrentCaller
from shared.http import Command

router = APIRouter()


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


Pledges = Annotated[Deps, Depends(_deps)]
Id = Annotated[str, Path(max_length=64)]
Limit = Annotated[numbers.Limit, Query()]
Offset = Annotated[numbers.Offset, Query()]
Json = dict[str, Any]


@router.get("/health", tags=["ops"])
async def health(request: Request) -> Json:
    relay = getattr(request.app.state, "relay", None)
    consumers = getattr(request.app.state, "consumers", [])
    return {
        "status": "ok",
        "service": "pledges",
        "relay": None if relay is None else {"published": relay.published, "last_error": relay.last_error},
        "consumers": [c.health() for c in consumers],
    }


# -- campaigns ---------------------------------------------------------------------------------------


@router.post("/campaigns", status_code=201, tags=["campaigns"])
async def launch_campaign(body: LaunchCampaign, ctx: Command, deps: Pledges) -> Json:
    return await campaigns.launch(deps, ctx, body)


@router.get("/campaigns", tags=["campaigns"])
async def list_campaigns(caller: CurrentCaller, deps: Pledges, limit: Limit = 50, offset: Offset = 0) -> Json:
    return await queries.list_campaigns(deps, caller, limit, offset)


@router.get("/campaigns/{campaign_id}", tags=["campaigns"])
async def get_campaign(campaign_id: Id, caller: CurrentCaller, deps: Pledges) -> Json:
    return await queries.get_campaign(deps, caller, campaign_id)


@router.post("/campaigns/{campaign_id}/targets", tags=["campaigns"])
async def split_targets(campaign_id: Id, body: SplitTargets, ctx: Command, deps: Pledges) -> Json:
    return await campaigns.split(deps, ctx, campaign_id, body)


@router.post("/campaigns/{campaign_id}/close", tags=["campaigns"])
async def close_campaign(campaign_id: Id, body: CloseCampaign, ctx: Command, deps: Pledges) -> Json:
    return await campaigns.close(deps, ctx, campaign_id, body)


@router.post("/campaigns/{campaign_id}/reports", status_code=201, tags=["progress"])
async def report_progress(campaign_id: Id, body: ReportProgress, ctx: Command, deps: Pledges) -> Json:
    return await pledges.report(deps, ctx, campaign_id, body)


# -- pledges -----------------------------------------------------------------------------------------


@router.post("/pledges", status_code=201, tags=["pledges"])
async def sign_pledge(body: SignPledge, ctx: Command, deps: Pledges) -> Json:
    return await pledges.sign(deps, ctx, body)


@router.get("/campaigns/{campaign_id}/pledges", tags=["pledges"])
async def list_pledges(
    campaign_id: Id,
    caller: CurrentCaller,
    deps: Pledges,
    under: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Json:
    return await queries.list_pledges(deps, caller, campaign_id, under, limit, offset)


@router.get("/campaigns/{campaign_id}/pledges/{unit_id}", tags=["pledges"])
async def pledge_history(campaign_id: Id, unit_id: Id, caller: CurrentCaller, deps: Pledges) -> Json:
    return await pledges.history(deps, caller, campaign_id, unit_id)


@router.post("/campaigns/{campaign_id}/pledges/{unit_id}/amend", tags=["pledges"])
async def amend_pledge(campaign_id: Id, unit_id: Id, body: AmendPledge, ctx: Command, deps: Pledges) -> Json:
    return await pledges.amend(deps, ctx, campaign_id, unit_id, body)


# -- registrations -----------------------------------------------------------------------------------


@router.post("/registrations", status_code=201, tags=["registrations"])
async def register(body: Register, ctx: Command, deps: Pledges) -> Json:
    return await pledges.register(deps, ctx, body)


@router.get("/units/{unit_id}/registrations", tags=["registrations"])
async def list_registrations(
    unit_id: Id,
    caller: CurrentCaller,
    deps: Pledges,
    year: Annotated[numbers.YearQuery | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Json:
    return await queries.list_registrations(deps, caller, unit_id, year, limit, offset)
