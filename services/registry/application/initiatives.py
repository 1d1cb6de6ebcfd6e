"""Handlers of the initiative commands: registration, review, decisions, application, acceptance."""

from collections.abc import Callable
from typing import Any

from contracts.registry import PossibleDuplicate, Registration
from services.registry.adapters.records import similarity_text
from services.registry.application.deps import Deps
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
from services.registry.domain.initiative import Initiative
from services.registry.domain.rules import reviewing_unit
from shared import paper
from shared.commands import CommandContext
from shared.errors import Forbidden
from shared.events import Event
from shared.ids import time_ordered_id
from shared.units import UnitRef


def view(events: list[Event], **extra: Any) -> Callable[[Initiative], dict[str, Any]]:
    """The answer to a command: the initiative's state after its events."""

    def respond(initiative: Initiative) -> dict[str, Any]:
        return {
            "initiative_id": initiative.id,
            "unit_id": initiative.unit_id,
            "status": initiative.status,
            "scope": initiative.scope,
            "version": initiative.version,
            "events": [e.event_type for e in events],
            **extra,
        }

    return respond


async def save(
    deps: Deps, ctx: CommandContext, initiative: Initiative, events: list[Event], at: str, status_code: int = 200,
    **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    """Append the events on the initiative's stream (published on ``at``) and answer with its state."""
    respond = view(events, **extra)
    return await deps.initiatives.save(initiative, events, ctx, at=at, respond=respond, status_code=status_code)


def registration_of(cmd: RegistrationIn) -> Registration:
    fields = cmd.model_dump(include=set(Registration.model_fields))
    return Registration.model_validate(fields)


async def possible_duplicates(
    deps: Deps, registration: Registration, home: UnitRef, exclude: str
) -> tuple[PossibleDuplicate, ...]:
    """The most similar initiatives of the city; a near-copy from another unit is flagged, not blocked."""
    await deps.duplicates.refresh(deps.db.reader)
    text = similarity_text(registration.model_dump(include={"title", "objective", "steps"}))
    matches = deps.duplicates.search(text, home.path.split(".")[0], exclude=exclude)
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


async def register_initiative(deps: Deps, ctx: CommandContext, cmd: RegisterInitiative) -> dict[str, Any]:
    registration = registration_of(cmd)
    today = deps.clock().date()
    day = paper.day_of(ctx.caller, cmd.registered_on, today, "registered_on")
    # An initiative is applied (or trialled) first, then registered.
    paper.not_after(cmd.first_applied_on, day, "first_applied_on", "today" if day == today else "the registration day")
    on_paper = day if day != today else None  # the event names a day only for a paper registration
    if cmd.draft_id is not None:
        initiative = await deps.initiatives.get(cmd.draft_id, field="draft_id")
        home, _ = await deps.chain(initiative.unit_id)
        ctx.caller.require_subtree(home.path, "draft_id")
        duplicates = await possible_duplicates(deps, registration, home, initiative.id)
        events = initiative.complete(registration, ctx.caller, duplicates, on_paper)
    else:
        home = await deps.unit_at(ctx.caller, cmd.unit_path)
        initiative = Initiative(time_ordered_id())
        duplicates = await possible_duplicates(deps, registration, home, initiative.id)
        events = Initiative.register(initiative.id, home, registration, ctx.caller, duplicates, on_paper)
    return await save(
        deps, ctx, initiative, events, home.path, 201, unit_path=home.path, possible_duplicates=_dupes(duplicates)
    )


async def _reviewed(deps: Deps, initiative_id: str) -> tuple[Initiative, UnitRef, list[UnitRef], UnitRef]:
    initiative = await deps.initiatives.get(initiative_id)
    home, chain = await deps.chain(initiative.unit_id)
    return initiative, home, chain, reviewing_unit(home, chain[:-1])


async def revise_initiative(deps: Deps, ctx: CommandContext, initiative_id: str, cmd: RegistrationIn) -> dict[str, Any]:
    initiative, home, _, _ = await _reviewed(deps, initiative_id)
    ctx.caller.require_subtree(home.path)
    registration = registration_of(cmd)
    duplicates = await possible_duplicates(deps, registration, home, initiative.id)
    events = initiative.revise(registration, ctx.caller, duplicates)
    return await save(deps, ctx, initiative, events, home.path, possible_duplicates=_dupes(duplicates))


async def score_initiative(deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ScoreInitiative) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(deps, initiative_id)
    scores = cmd.model_dump(include={"novelty", "feasibility", "effectiveness", "influence"})
    events = initiative.score(ctx.caller, reviewer, cmd.scorer_name, scores, cmd.comment)
    return await save(deps, ctx, initiative, events, home.path)


async def recognise_initiative(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: RecogniseInitiative
) -> dict[str, Any]:
    initiative, home, chain, reviewer = await _reviewed(deps, initiative_id)
    events = initiative.recognise(ctx.caller, chain, reviewer, cmd.decision_number, cmd.decision_date)
    return await save(deps, ctx, initiative, events, home.path)


async def reject_initiative(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: RejectInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(deps, initiative_id)
    events = initiative.reject(ctx.caller, reviewer, cmd.reasons)
    return await save(deps, ctx, initiative, events, home.path)


async def return_initiative(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ReturnInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(deps, initiative_id)
    events = initiative.return_for_revision(ctx.caller, reviewer, cmd.requests)
    return await save(deps, ctx, initiative, events, home.path)


async def report_application(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: ReportApplication
) -> dict[str, Any]:
    initiative, home, _, _ = await _reviewed(deps, initiative_id)
    if not ctx.caller.sees(home.path):
        raise Forbidden(f"only {home.path} and the levels above it report its application")
    # An application reported ahead of its day would count as applied in a period it has not reached
    # (a checklist's facts, a campaign's counted indicator).
    paper.not_after(cmd.since, deps.clock().date(), "since")
    events = initiative.report_application(ctx.caller, cmd.where, cmd.since, cmd.evidence, cmd.actual_benefit_vnd)
    return await save(deps, ctx, initiative, events, home.path)


async def accept_initiative(
    deps: Deps, ctx: CommandContext, initiative_id: str, cmd: AcceptInitiative
) -> dict[str, Any]:
    initiative, home, _, reviewer = await _reviewed(deps, initiative_id)
    events = initiative.accept(ctx.caller, reviewer, cmd.actual_benefit_vnd, cmd.note)
    return await save(deps, ctx, initiative, events, home.path)
