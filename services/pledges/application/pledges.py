"""Handlers of what units and members commit to: sign and amend a pledge, register for the year,
report a value with its evidence."""

from typing import Any

from services.pledges.adapters.units import UnitsCopy
from services.pledges.application.support import (
    Clock,
    load_campaign,
    locate,
    pledge_stream,
    progress_stream,
    registration_stream,
    require_own_unit,
    require_subtree,
)
from services.pledges.domain.commands import AmendPledge, CommitmentSpec, Register, ReportProgress, SignPledge
from contracts.pledges import Commitment, Signatory
from services.pledges.domain.pledge import Pledge
from services.pledges.domain.progress import Progress
from services.pledges.domain.registration import Registration
from services.pledges.domain.rules import OFFICIAL_ROLES
from shared.commands import CommandContext, commit
from shared.errors import Conflict, InvalidInput, NotFound
from shared.eventstore import EventStore, StreamAppend


def _commitments(specs: list[CommitmentSpec]) -> list[Commitment]:
    return [Commitment(**spec.model_dump()) for spec in specs]


async def _signatories(units: UnitsCopy, unit_id: str, member_ids: list[str]) -> list[Signatory]:
    """Each signatory must be an official of the unit (a member holding an official role in it)."""
    found = []
    for index, member_id in enumerate(dict.fromkeys(member_ids)):
        member = await units.member(member_id)
        official = member is not None and member["unit_id"] == unit_id and set(member["roles"]) & set(OFFICIAL_ROLES)
        if not official:
            raise InvalidInput(f"member {member_id} is not an official of the unit", field=f"signatories.{index}")
        assert member is not None
        role = next(r for r in OFFICIAL_ROLES if r in member["roles"])
        found.append(Signatory(member_id=member_id, full_name=member["full_name"], role=role))
    return found


async def sign(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, clock: Clock, cmd: SignPledge
) -> dict[str, Any]:
    unit = await locate(units, cmd.unit_id)
    require_own_unit(ctx.caller, unit, *OFFICIAL_ROLES)
    campaign = await load_campaign(store, cmd.campaign_id)
    stream = pledge_stream(campaign.campaign_id, unit.unit_id)
    existing = Pledge.from_history(stream, await store.load(stream))
    if existing.exists:
        raise Conflict(f"{unit.path} has already signed its pledge for this campaign; amend it instead")
    signatories = await _signatories(units, unit.unit_id, cmd.signatories)
    events = Pledge.sign(
        stream, campaign, unit, cmd.signed_on or clock().date(), _commitments(cmd.commitments), signatories
    )
    append = StreamAppend.of(stream, 0, [(e, ctx.metadata(unit.path)) for e in events])
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "amendment": 1, "version": 1}
    return await commit(store, ctx, [append], response, 201)


async def amend(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, campaign_id: str, unit_id: str, cmd: AmendPledge
) -> dict[str, Any]:
    unit = await locate(units, unit_id)
    require_own_unit(ctx.caller, unit, *OFFICIAL_ROLES)
    campaign = await load_campaign(store, campaign_id)
    stream = pledge_stream(campaign_id, unit_id)
    pledge = Pledge.from_history(stream, await store.load(stream))
    events = pledge.amend(campaign, unit, cmd.reason, _commitments(cmd.commitments))
    append = StreamAppend.of(stream, pledge.version, [(e, ctx.metadata(unit.path)) for e in events])
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": pledge.version + 1}
    return await commit(store, ctx, [append], response)


async def history(store: EventStore, units: UnitsCopy, caller: Any, campaign_id: str, unit_id: str) -> dict[str, Any]:
    unit = await units.unit(unit_id)
    stream = pledge_stream(campaign_id, unit_id)
    envelopes = await store.load(stream)
    if unit is None or not envelopes:
        raise NotFound(f"no pledge of unit {unit_id} for campaign {campaign_id}")
    require_subtree(caller, unit.path)
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


async def register(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, clock: Clock, cmd: Register
) -> dict[str, Any]:
    member = await units.member(cmd.member_id)
    if member is None:
        raise NotFound(f"member {cmd.member_id} is not known to the pledges service", field="member_id")
    unit = await locate(units, member["unit_id"])
    # A member registers themself; an official of their unit may register for them.
    if ctx.caller.subject != cmd.member_id:
        require_own_unit(ctx.caller, unit, *OFFICIAL_ROLES)
    stream = registration_stream(cmd.member_id, cmd.year)
    registration = Registration.from_history(stream, await store.load(stream))
    events = registration.submit(cmd.member_id, unit.unit_id, cmd.year, cmd.target_titles, cmd.topics, clock().year)
    append = StreamAppend.of(stream, registration.version, [(e, ctx.metadata(unit.path)) for e in events])
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": 1}
    return await commit(store, ctx, [append], response, 201)


async def report(
    store: EventStore, units: UnitsCopy, ctx: CommandContext, clock: Clock, campaign_id: str, cmd: ReportProgress
) -> dict[str, Any]:
    unit = await locate(units, cmd.unit_id)
    require_own_unit(ctx.caller, unit, *OFFICIAL_ROLES)
    campaign = await load_campaign(store, campaign_id)
    stream = progress_stream(campaign_id, unit.unit_id)
    progress = Progress.from_history(campaign_id, unit.unit_id, await store.load(stream))
    events = progress.report(campaign, unit, cmd.indicator, cmd.value, cmd.evidence, clock())
    append = StreamAppend.of(stream, progress.version, [(e, ctx.metadata(unit.path)) for e in events])
    response = {**events[0].model_dump(mode="json"), "path": unit.path, "version": progress.version + 1}
    return await commit(store, ctx, [append], response, 201)
