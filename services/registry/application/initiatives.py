"""Handlers of the initiative commands: registration, review, decisions, application, acceptance."""

import uuid
from typing import Any

from services.registry.adapters.catalogue import similarity_text
from services.registry.application.support import (
    Registry,
    actor_and_unit,
    actor_of,
    chain_of,
    commit_initiative,
    load_initiative,
    require_subtree,
)
from services.registry.domain.commands import (
    AcceptInitiative,
    RecogniseInitiative,
    RegisterInitiative,
    RegistrationIn,
    RejectInitiative,
    ReportApplication,
    ReturnInitiative,
    ScoreInitiative,
)
from contracts.registry import PossibleDuplicate, Registration
from services.registry.domain.initiative import Initiative
from services.registry.domain.rules import UnitInfo, reviewing_unit
from shared.commands import CommandContext
from shared.errors import Forbidden


def registration_of(cmd: RegistrationIn) -> Registration:
    fields = cmd.model_dump(include=set(Registration.model_fields))
    return Registration.model_validate(fields)


async def possible_duplicates(
    reg: Registry, registration: Registration, home: UnitInfo, exclude: str, *, fresh: bool = False
) -> tuple[PossibleDuplicate, ...]:
    """The most similar initiatives of the city; a near-copy from another unit is flagged, not blocked."""
    if not fresh:
        async with reg.db.reader.connect() as conn:
            await reg.duplicates.refresh(conn)
    text = similarity_text(registration.model_dump(include={"title", "objective", "steps"}))
    matches = reg.duplicates.search(text, home.path.split(".")[0], exclude=exclude)
    return tuple(
        PossibleDuplicate(
            initiative_id=m.initiative_id,
            unit_id=m.unit_id,
            title=m.title,
            score=m.score,
            other_unit=m.unit_id != home.unit_id,
        )
        for m in matches
    )


def _dupes(duplicates: tuple[PossibleDuplicate, ...]) -> list[dict[str, Any]]:
    return [d.model_dump(mode="json") for d in duplicates]


async def register_initiative(reg: Registry, ctx: CommandContext, cmd: RegisterInitiative) -> dict[str, Any]:
    registration = registration_of(cmd)
    if cmd.draft_id is not None:
        actor = await actor_of(reg, ctx.caller)
        initiative = await load_initiative(reg, cmd.draft_id)
        home, _ = await chain_of(reg, initiative.unit_id)
        require_subtree(ctx.caller, home.path, "draft_id")
        duplicates = await possible_duplicates(reg, registration, home, initiative.id)
        events = initiative.complete(registration, actor, duplicates)
    else:
        actor, home = await actor_and_unit(reg, ctx.caller, cmd.unit_path)
        initiative = Initiative(str(uuid.uuid4()))
        duplicates = await possible_duplicates(reg, registration, home, initiative.id, fresh=True)
        events = Initiative.register(initiative.id, home, registration, actor, duplicates)
    return await commit_initiative(
        reg, ctx, initiative, events, home.path, 201, unit_path=home.path, possible_duplicates=_dupes(duplicates)
    )


async def _reviewed(reg: Registry, initiative_id: str) -> tuple[Initiative, UnitInfo, list[UnitInfo], UnitInfo]:
    initiative = await load_initiative(reg, initiative_id)
    home, chain = await chain_of(reg, initiative.unit_id)
    return initiative, home, chain, reviewing_unit(home, chain[:-1])


async def revise_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: RegistrationIn
) -> dict[str, Any]:
    initiative, home, _, _ = await _reviewed(reg, initiative_id)
    require_subtree(ctx.caller, home.path)
    registration = registration_of(cmd)
    duplicates = await possible_duplicates(reg, registration, home, initiative.id)
    events = initiative.revise(registration, await actor_of(reg, ctx.caller), duplicates)
    return await commit_initiative(reg, ctx, initiative, events, home.path, possible_duplicates=_dupes(duplicates))


async def score_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ScoreInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(reg, initiative_id)
    scores = cmd.model_dump(include={"novelty", "feasibility", "effectiveness", "influence"})
    events = initiative.score(await actor_of(reg, ctx.caller), reviewer, cmd.scorer_name, scores, cmd.comment)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def recognise_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: RecogniseInitiative
) -> dict[str, Any]:
    initiative, home, chain, reviewer = await _reviewed(reg, initiative_id)
    actor = await actor_of(reg, ctx.caller)
    events = initiative.recognise(actor, chain, reviewer, cmd.decision_number, cmd.decision_date)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def reject_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: RejectInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(reg, initiative_id)
    events = initiative.reject(await actor_of(reg, ctx.caller), reviewer, cmd.reasons)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def return_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ReturnInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(reg, initiative_id)
    events = initiative.return_for_revision(await actor_of(reg, ctx.caller), reviewer, cmd.requests)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def report_application(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: ReportApplication
) -> dict[str, Any]:
    initiative, home, _, _ = await _reviewed(reg, initiative_id)
    if "admin" not in ctx.caller.roles and not ctx.caller.sees(home.path):
        raise Forbidden(f"only {home.path} and the levels above it report its application")
    actor = await actor_of(reg, ctx.caller)
    events = initiative.report_application(actor, cmd.where, cmd.since, cmd.evidence, cmd.actual_benefit_vnd)
    return await commit_initiative(reg, ctx, initiative, events, home.path)


async def accept_initiative(
    reg: Registry, ctx: CommandContext, initiative_id: str, cmd: AcceptInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(reg, initiative_id)
    events = initiative.accept(await actor_of(reg, ctx.caller), reviewer, cmd.actual_benefit_vnd, cmd.note)
    return await commit_initiative(reg, ctx, initiative, events, home.path)
