"""Handlers of escalation (one level at a time) and replication.

Escalation events go out on the initiative unit's path: every level above it hears them. A replication
order goes out on the ordering level's path (a broadcast its subtree's levels receive), a report on the
path of the unit that applied it.
"""

from typing import Any

from services.registry.application.deps import Deps
from services.registry.application.initiatives import save
from services.registry.domain.commands import (
    ForwardEscalation,
    OrderReplication,
    ReportReplication,
    RequestEscalation,
    ReturnEscalation,
)
from shared.commands import CommandContext


async def request_escalation(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: RequestEscalation
) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    home, chain = await deps.chain(initiative.unit_id)
    events = initiative.request_escalation(ctx.caller, chain, cmd.summary)
    return await save(deps, ctx, initiative, events, home.path, pending_at=events[0].to_path)  # type: ignore[attr-defined]


async def forward_escalation(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ForwardEscalation
) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    home, chain = await deps.chain(initiative.unit_id)
    events = initiative.forward(ctx.caller, chain, cmd.note)
    return await save(deps, ctx, initiative, events, home.path, pending_at=events[0].to_path)  # type: ignore[attr-defined]


async def return_escalation(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ReturnEscalation
) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    home, chain = await deps.chain(initiative.unit_id)
    events = initiative.return_escalation(ctx.caller, chain, cmd.reasons)
    return await save(deps, ctx, initiative, events, home.path)


async def order_replication(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: OrderReplication
) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    home, chain = await deps.chain(initiative.unit_id)
    events = initiative.order_replication(ctx.caller, chain, home, list(cmd.target_paths), cmd.note)
    level = events[0].by_unit_path  # type: ignore[attr-defined]
    return await save(deps, ctx, initiative, events, level, replication_by=level)


async def report_replication(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ReportReplication
) -> dict[str, Any]:
    initiative = await deps.initiatives.get(initiative_id)
    unit = await deps.unit_at(ctx.caller, cmd.unit_path)
    events = initiative.report_replication(ctx.caller, unit, cmd.evidence)
    return await save(deps, ctx, initiative, events, unit.path, applied_in=unit.path)
