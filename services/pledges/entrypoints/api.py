"""HTTP routes of the pledges service. Commands take an Idempotency-Key; reads hide what the caller
cannot see. Progress tables are served by the level projectors (adapters/level.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.pledges.adapters.records import Records
from services.pledges.adapters.units import UnitsCopy
from services.pledges.application import campaigns, pledges, queries
from services.pledges.application.support import Clock
from services.pledges.domain.commands import (
    AmendPledge,
    CloseCampaign,
    LaunchCampaign,
    Register,
    ReportProgress,
    SignPledge,
    SplitTargets,
)
from shared.auth import CurrentCaller
from shared.http import Command, Store

router = APIRouter()


async def _units(request: Request) -> UnitsCopy:
    return request.app.state.units


async def _records(request: Request) -> Records:
    return request.app.state.records


async def _clock(request: Request) -> Clock:
    return request.app.state.clock


Units = Annotated[UnitsCopy, Depends(_units)]
Recs = Annotated[Records, Depends(_records)]
Now = Annotated[Clock, Depends(_clock)]
Id = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
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
async def launch_campaign(body: LaunchCampaign, ctx: Command, store: Store, units: Units) -> Json:
    return await campaigns.launch(store, units, ctx, body)


@router.get("/campaigns", tags=["campaigns"])
async def list_campaigns(
    caller: CurrentCaller, records: Recs, clock: Now, limit: Limit = 50, offset: Offset = 0
) -> Json:
    return await queries.list_campaigns(records, caller, clock, limit, offset)


@router.get("/campaigns/{campaign_id}", tags=["campaigns"])
async def get_campaign(campaign_id: Id, caller: CurrentCaller, records: Recs, clock: Now) -> Json:
    return await queries.get_campaign(records, caller, clock, campaign_id)


@router.post("/campaigns/{campaign_id}/targets", tags=["campaigns"])
async def split_targets(campaign_id: Id, body: SplitTargets, ctx: Command, store: Store, units: Units) -> Json:
    return await campaigns.split(store, units, ctx, campaign_id, body)


@router.post("/campaigns/{campaign_id}/close", tags=["campaigns"])
async def close_campaign(
    campaign_id: Id, body: CloseCampaign, ctx: Command, store: Store, units: Units, clock: Now
) -> Json:
    return await campaigns.close(store, units, ctx, clock, campaign_id, body)


@router.post("/campaigns/{campaign_id}/reports", status_code=201, tags=["progress"])
async def report_progress(
    campaign_id: Id, body: ReportProgress, ctx: Command, store: Store, units: Units, clock: Now
) -> Json:
    return await pledges.report(store, units, ctx, clock, campaign_id, body)


# -- pledges -----------------------------------------------------------------------------------------


@router.post("/pledges", status_code=201, tags=["pledges"])
async def sign_pledge(body: SignPledge, ctx: Command, store: Store, units: Units, clock: Now) -> Json:
    return await pledges.sign(store, units, ctx, clock, body)


@router.get("/campaigns/{campaign_id}/pledges", tags=["pledges"])
async def list_pledges(
    campaign_id: Id,
    caller: CurrentCaller,
    records: Recs,
    units: Units,
    under: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Json:
    return await queries.list_pledges(records, units, caller, campaign_id, under, limit, offset)


@router.get("/campaigns/{campaign_id}/pledges/{unit_id}", tags=["pledges"])
async def pledge_history(campaign_id: Id, unit_id: Id, caller: CurrentCaller, store: Store, units: Units) -> Json:
    return await pledges.history(store, units, caller, campaign_id, unit_id)


@router.post("/campaigns/{campaign_id}/pledges/{unit_id}/amend", tags=["pledges"])
async def amend_pledge(
    campaign_id: Id, unit_id: Id, body: AmendPledge, ctx: Command, store: Store, units: Units
) -> Json:
    return await pledges.amend(store, units, ctx, campaign_id, unit_id, body)


# -- registrations -----------------------------------------------------------------------------------


@router.post("/registrations", status_code=201, tags=["registrations"])
async def register(body: Register, ctx: Command, store: Store, units: Units, clock: Now) -> Json:
    return await pledges.register(store, units, ctx, clock, body)


@router.get("/units/{unit_id}/registrations", tags=["registrations"])
async def list_registrations(
    unit_id: Id,
    caller: CurrentCaller,
    records: Recs,
    units: Units,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Json:
    return await queries.list_registrations(records, units, caller, unit_id, year, limit, offset)
