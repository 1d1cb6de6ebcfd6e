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
from shared.identity import Caller
from shared.units import UnitRef
from shared.upward import Waiting

# Who re-addresses a request stranded by a change of the tree: the platform, following the directory.
_PLATFORM = CommandContext(caller=Caller.system("platform"))


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


class StrandedEscalations:
    """The registry's upward requests for ``shared.upward``: escalations waiting at a level."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def waiting(self) -> list[Waiting]:
        return [Waiting(iid, unit_id, at) for iid, unit_id, at in await self.deps.records.waiting()]

    async def readdress(self, request: Waiting, to: UnitRef | None, reason: str) -> None:
        initiative = await self.deps.initiatives.get(request.request_id)
        home, _ = await self.deps.chain(initiative.unit_id)
        events = initiative.readdress(to, reason)
        await save(self.deps, _PLATFORM, initiative, events, home.path)
