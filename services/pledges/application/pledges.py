"""Handlers of what units and members commit to: sign and amend a pledge, register for the year,
report a value with its evidence."""

from datetime import datetime
from typing import Any

from contracts.pledges import Commitment, Signatory
from services.pledges.application.deps import Deps
from services.pledges.domain.commands import AmendPledge, CommitmentSpec, Register, ReportProgress, SignPledge
from services.pledges.domain.rules import OFFICIAL_ROLES
from shared import paper
from shared.commands import CommandContext
from shared.errors import Conflict, InvalidInput, NotFound
from shared.identity import Caller


def _commitments(specs: list[CommitmentSpec]) -> list[Commitment]:
    return [Commitment(**spec.model_dump()) for spec in specs]


async def _signatories(deps: Deps, unit_id: str, member_ids: list[str]) -> list[Signatory]:
    """Each signatory must be an official of the unit (a member holding an official role in it)."""
    found = []
    for index, member_id in enumerate(dict.fromkeys(member_ids)):
        member = await deps.directory.member(member_id)
        official = member is not None and member["unit_id"] == unit_id and set(member["roles"]) & set(OFFICIAL_ROLES)
        if not official:
            raise InvalidInput(f"member {member_id} is not an official of the unit", field=f"signatories.{index}")
        assert member is not None
        role = next(r for r in OFFICIAL_ROLES if r in member["roles"])
        found.append(Signatory(member_id=member_id, full_name=member["full_name"], role=role))
    return found


async def sign(deps: Deps, ctx: CommandContext, cmd: SignPledge) -> dict[str, Any]:
    unit = await deps.locate(cmd.unit_id)
    ctx.caller.require_official_of(unit, *OFFICIAL_ROLES)
    campaign = await deps.campaigns.get(cmd.campaign_id)
    pledge = await deps.pledges.load(f"{campaign.id}-{unit.unit_id}")
    if pledge.exists:
        raise Conflict(f"{unit.path} has already signed its pledge for this campaign; amend it instead")
    signatories = await _signatories(deps, unit.unit_id, cmd.signatories)
    signed_on = cmd.signed_on or deps.clock().date()
    events = pledge.sign(campaign, unit, signed_on, _commitments(cmd.commitments), signatories)
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "amendment": 1, "version": 1}
    return await deps.pledges.save(pledge, events, ctx, at=unit.path, respond=response, status_code=201)


async def amend(deps: Deps, ctx: CommandContext, campaign_id: str, unit_id: str, cmd: AmendPledge) -> dict[str, Any]:
    unit = await deps.locate(unit_id)
    ctx.caller.require_official_of(unit, *OFFICIAL_ROLES)
    campaign = await deps.campaigns.get(campaign_id)
    pledge = await deps.pledges.load(f"{campaign_id}-{unit_id}")
    events = pledge.amend(campaign, unit, cmd.reason, _commitments(cmd.commitments))
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": pledge.version + 1}
    return await deps.pledges.save(pledge, events, ctx, at=unit.path, respond=response)


async def history(deps: Deps, caller: Caller, campaign_id: str, unit_id: str) -> dict[str, Any]:
    unit = await deps.directory.unit(unit_id)
    stream = deps.pledges.stream(f"{campaign_id}-{unit_id}")
    envelopes = await deps.store.load(stream)
    if unit is None or not envelopes:
        raise NotFound(f"no pledge of unit {unit_id} for campaign {campaign_id}")
    caller.require_subtree(unit.path)
    versions = [
        {"version": i + 1, "occurred_at": env.occurred_at.isoformat(), "actor": env.metadata.actor, **env.data}
        for i, env in enumerate(envelopes)
    ]
    return {
        "pledge_id": stream,
        "campaign_id": campaign_id,
        "unit_id": unit_id,
        "path": unit.path,
        "versions": versions,
    }


async def register(deps: Deps, ctx: CommandContext, cmd: Register) -> dict[str, Any]:
    member = await deps.directory.member(cmd.member_id)
    if member is None:
        raise NotFound(f"member {cmd.member_id} is not known to the pledges service", field="member_id")
    unit = await deps.locate(member["unit_id"])
    # A member registers themself; an official of their unit may register for them.
    if ctx.caller.subject != cmd.member_id:
        ctx.caller.require_official_of(unit, *OFFICIAL_ROLES)
    registration = await deps.registrations.load(f"{cmd.year}-{cmd.member_id}")
    this_year = deps.clock().year
    events = registration.submit(cmd.member_id, unit.unit_id, cmd.year, cmd.target_titles, cmd.topics, this_year)
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": 1}
    return await deps.registrations.save(registration, events, ctx, at=unit.path, respond=response, status_code=201)


async def report(deps: Deps, ctx: CommandContext, campaign_id: str, cmd: ReportProgress) -> dict[str, Any]:
    unit = await deps.locate(cmd.unit_id)
    ctx.caller.require_official_of(unit, *OFFICIAL_ROLES)
    campaign = await deps.campaigns.get(campaign_id)
    progress = await deps.progress.load(f"{campaign_id}-{unit.unit_id}")
    now = deps.clock()
    day = paper.day_of(ctx.caller, cmd.reported_on, now.date(), "reported_on")
    at = now if day == now.date() else datetime.combine(day, now.timetz())  # a report made on paper
    events = progress.report(campaign, unit, cmd.indicator, cmd.value, cmd.evidence, at)
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": progress.version + 1}
    return await deps.progress.save(progress, events, ctx, at=unit.path, respond=response, status_code=201)
