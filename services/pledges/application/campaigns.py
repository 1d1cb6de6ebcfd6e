"""Handlers of the campaign commands: launch, split a target among children, close with a review."""

import uuid
from typing import Any

from services.pledges.adapters.units import UnitsCopy
from services.pledges.application.support import (
    Clock,
    campaign_stream,
    load_campaign,
    locate,
    require_own_unit,
    require_subtree,
)
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.commands import CloseCampaign, LaunchCampaign, SplitTargets
from contracts.pledges import TargetAssigned
from services.pledges.domain.rules import LEADER_ROLES
from shared.commands import CommandContext, commit
from shared.events import Event
from shared.eventstore import EventStore, StreamAppend


async def _paths(units: UnitsCopy, launcher_path: str, events: list[Event]) -> list[str]:
    """The subject path of each event: a target goes out on the path of the unit it is assigned to."""
    ids = [e.unit_id for e in events if isinstance(e, TargetAssigned)]
    known = await units.paths(ids)
    return [known[e.unit_id] if isinstance(e, TargetAssigned) else launcher_path for e in events]


async def launch(store: EventStore, units: UnitsCopy, ctx: CommandContext, cmd: LaunchCampaign) -> dict[str, Any]:
    launcher = await locate(units, cmd.unit_id)
    require_own_unit(ctx.caller, launcher, *LEADER_ROLES)
    campaign_id = str(uuid.uuid4())
    events = Campaign.launch(
        campaign_id,
        launcher,
        await units.children(launcher.unit_id),
        title=cmd.title,
        plan_number=cmd.plan_number,
        pillars=cmd.pillars,
        starts_on=cmd.starts_on,
        ends_on=cmd.ends_on,
        report_deadlines=cmd.report_deadlines,
        indicators=[i.model_dump() for i in cmd.indicators],
        targets=cmd.targets,
    )
    paths = await _paths(units, launcher.path, events)
    append = StreamAppend.of(
        campaign_stream(campaign_id), 0, [(e, ctx.metadata(p)) for e, p in zip(events, paths, strict=True)]
    )
    response = {
        **events[0].model_dump(mode="json"),
        "targets": {e.unit_id: e.targets for e in events[1:] if isinstance(e, TargetAssigned)},
        "status": "open",
        "version": len(events),
    }
    return await commit(store, ctx, [append], response, 201)


async def split(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, campaign_id: str, cmd: SplitTargets
) -> dict[str, Any]:
    ctx.caller.require_role(*LEADER_ROLES)
    unit = await locate(units, cmd.unit_id)
    require_subtree(ctx.caller, unit.path, "unit_id")
    campaign = await load_campaign(store, campaign_id)
    events = campaign.split(unit, await units.children(unit.unit_id), cmd.targets)
    paths = await _paths(units, campaign.launcher_path, events)
    append = StreamAppend.of(
        campaign_stream(campaign_id),
        campaign.version,
        [(e, ctx.metadata(p)) for e, p in zip(events, paths, strict=True)],
    )
    response = {
        "campaign_id": campaign_id,
        "unit_id": unit.unit_id,
        "targets": {e.unit_id: e.targets for e in events if isinstance(e, TargetAssigned)},
        "version": campaign.version + len(events),
    }
    return await commit(store, ctx, [append], response)


async def close(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, clock: Clock, campaign_id: str, cmd: CloseCampaign
) -> dict[str, Any]:
    campaign = await load_campaign(store, campaign_id)
    launcher = await locate(units, campaign.launcher_unit_id)
    require_own_unit(ctx.caller, launcher, *LEADER_ROLES)
    commended = [await locate(units, uid, "commended") for uid in cmd.commended]
    today = cmd.closed_on or clock().date()
    events = campaign.close(launcher, today, cmd.results, cmd.lessons, commended)
    append = StreamAppend.of(
        campaign_stream(campaign_id), campaign.version, [(e, ctx.metadata(launcher.path)) for e in events]
    )
    response = {**events[0].model_dump(mode="json"), "status": "closed", "version": campaign.version + 1}
    return await commit(store, ctx, [append], response)
