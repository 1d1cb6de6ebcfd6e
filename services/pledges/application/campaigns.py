"""Handlers of the campaign commands: launch, split a target among children, close with a review."""

from typing import Any

from contracts.pledges import TargetAssigned
from services.pledges.application.deps import Deps
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.commands import CloseCampaign, LaunchCampaign, SplitTargets
from services.pledges.domain.rules import LEADER_ROLES
from shared import paper
from shared.commands import CommandContext
from shared.events import Event
from shared.ids import time_ordered_id


async def _paths(deps: Deps, launcher_path: str, events: list[Event]) -> list[str]:
    """The subject path of each event: a target goes out on the path of the unit it is assigned to."""
    known = await deps.directory.paths([e.unit_id for e in events if isinstance(e, TargetAssigned)])
    return [known[e.unit_id] if isinstance(e, TargetAssigned) else launcher_path for e in events]


def _targets(events: list[Event]) -> dict[str, dict[str, float]]:
    return {e.unit_id: e.targets for e in events if isinstance(e, TargetAssigned)}


async def launch(deps: Deps, ctx: CommandContext, cmd: LaunchCampaign) -> dict[str, Any]:
    launcher = await deps.locate(cmd.unit_id)
    ctx.caller.require_official_of(launcher, *LEADER_ROLES)
    field = "report_deadlines" if cmd.report_deadlines else "ends_on"  # no deadlines: the end is the one
    paper.deadlines_ahead(ctx.caller, list(cmd.report_deadlines) or [cmd.ends_on], deps.clock().date(), field)
    campaign = Campaign(time_ordered_id())
    events = Campaign.launch(
        campaign.id,
        launcher,
        await deps.directory.children(launcher.unit_id),
        title=cmd.title,
        plan_number=cmd.plan_number,
        pillars=cmd.pillars,
        starts_on=cmd.starts_on,
        ends_on=cmd.ends_on,
        report_deadlines=cmd.report_deadlines,
        indicators=[i.model_dump() for i in cmd.indicators],
        targets=cmd.targets,
    )
    response = {
        **events[0].model_dump(mode="json"),
        "targets": _targets(events[1:]),
        "status": "open",
        "version": len(events),
    }
    paths = await _paths(deps, launcher.path, events)
    return await deps.campaigns.save(campaign, events, ctx, at=paths, respond=response, status_code=201)


async def split(deps: Deps, ctx: CommandContext, campaign_id: str, cmd: SplitTargets) -> dict[str, Any]:
    ctx.caller.require_role(*LEADER_ROLES)
    unit = await deps.locate(cmd.unit_id)
    ctx.caller.require_subtree(unit.path, "unit_id")
    campaign = await deps.campaigns.get(campaign_id)
    events = campaign.split(unit, await deps.directory.children(unit.unit_id), cmd.targets)
    response = {
        "campaign_id": campaign_id,
        "unit_id": unit.unit_id,
        "targets": _targets(events),
        "version": campaign.version + len(events),
    }
    paths = await _paths(deps, campaign.launcher_path, events)
    return await deps.campaigns.save(campaign, events, ctx, at=paths, respond=response)


async def close(deps: Deps, ctx: CommandContext, campaign_id: str, cmd: CloseCampaign) -> dict[str, Any]:
    campaign = await deps.campaigns.get(campaign_id)
    launcher = await deps.locate(campaign.launcher_unit_id)
    ctx.caller.require_official_of(launcher, *LEADER_ROLES)
    commended = [await deps.locate(uid, "commended") for uid in cmd.commended]
    today = paper.day_of(ctx.caller, cmd.closed_on, deps.clock().date(), "closed_on")
    events = campaign.close(launcher, today, cmd.results, cmd.lessons, commended)
    response = {**events[0].model_dump(mode="json"), "status": "closed", "version": campaign.version + 1}
    return await deps.campaigns.save(campaign, events, ctx, at=launcher.path, respond=response)
