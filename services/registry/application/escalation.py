"""Handlers of escalation (one level at a time) and replication.

Escalation events go out on the initiative unit's path: every level above it hears them. A replication
order goes out on the ordering level's path (a broadcast its subtree's projectors receive), a report on
the path of the unit that applied it.
"""

from typing import Any

from services.registry.application.support import (
    Registry,
    actor_of,
    chain_of,
    commit_initiative,
    load_initiative,
    unit_at,
)
from services.registry.domain.commands import (
    ForwardEscalation,
    OrderReplication,
    ReportReplication,
    RequestEscalation,
    ReturnEscalation,
)
from shared.commands import CommandContext


async def request_escalation(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: RequestEscalation
) -> dict[str, Any]:
    initiative = await load_initiative(reg, initiative_id)
    home, chain = await chain_of(reg, initiative.unit_id)
    events = initiative.request_escalation(await actor_of(reg, ctx.caller), chain, cmd.summary)
    return await commit_initiative(reg, ctx, initiative, events, home.path, pending_at=events[0].to_path)  # type: ignore[attr-defined]


async def forward_escalation(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ForwardEscalation
) -> dict[str, Any]:
    initiative = await load_initiative(reg, initiative_id)
    home, chain = await chain_of(reg, initiative.unit_id)
    events = initiative.forward(await actor_of(reg, ctx.caller), chain, cmd.note)
    return await commit_initiative(reg, ctx, initiative, events, home.path, pending_at=events[0].to_path)  # type: ignore[attr-defined]


async def return_escalation(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ReturnEscalation
) -> dict[str, Any]:
    initiative = await load_initiative(reg, initiative_id)
    home, chain = await chain_of(reg, initiative.unit_id)
    events = initiative.return_escalation(await actor_of(reg, ctx.caller), chain, cmd.reasons)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def order_replication(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: OrderReplication
) -> dict[str, Any]:
    initiative = await load_initiative(reg, initiative_id)
    home, chain = await chain_of(reg, initiative.unit_id)
    actor = await actor_of(reg, ctx.caller)
    events = initiative.order_replication(actor, chain, home, list(cmd.target_paths), cmd.note)
    level = events[0].by_unit_path  # type: ignore[attr-defined]
    return await commit_initiative(reg, ctx, initiative, events, level, replication_by=level)


async def report_replication(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ReportReplication
) -> dict[str, Any]:
    initiative = await load_initiative(reg, initiative_id)
    unit = await unit_at(reg, ctx.caller, cmd.unit_path)
    events = initiative.report_replication(await actor_of(reg, ctx.caller), unit, cmd.evidence)
    return await commit_initiative(reg, ctx, initiative, events, unit.path, applied_in=unit.path)
