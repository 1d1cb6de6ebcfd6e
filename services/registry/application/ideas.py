"""Handlers of the idea commands: submit, claim, comment, convert into an initiative draft."""

from typing import Any

from contracts.registry import Author
from services.registry.application.deps import Deps
from services.registry.domain.commands import CommentIdea, ConvertIdea, SubmitIdea
from services.registry.domain.idea import Idea
from services.registry.domain.initiative import Initiative
from shared.commands import CommandContext
from shared.ids import time_ordered_id


async def submit_idea(deps: Deps, ctx: CommandContext, cmd: SubmitIdea) -> dict[str, Any]:
    unit = await deps.unit_at(ctx.caller, cmd.unit_path)
    idea = Idea(time_ordered_id())
    events = Idea.submit(idea.id, unit, cmd.text, ctx.caller)
    response = {
        "idea_id": idea.id,
        "unit_id": unit.unit_id,
        "unit_path": unit.path,
        "status": "submitted",
        "version": 1,
    }
    return await deps.ideas.save(idea, events, ctx, at=unit.path, respond=response, status_code=201)


async def _located(deps: Deps, ctx: CommandContext, idea_id: str) -> tuple[Idea, str]:
    idea = await deps.ideas.get(idea_id)
    home, _ = await deps.chain(idea.unit_id)
    ctx.caller.require_subtree(home.path)
    return idea, home.path


async def claim_idea(deps: Deps, ctx: CommandContext, idea_id: str) -> dict[str, Any]:
    idea, path = await _located(deps, ctx, idea_id)
    events = idea.claim(ctx.caller)
    response = {"idea_id": idea_id, "status": "claimed", "mentor": ctx.caller.subject, "version": idea.version + 1}
    return await deps.ideas.save(idea, events, ctx, at=path, respond=response)


async def comment_idea(deps: Deps, ctx: CommandContext, idea_id: str, cmd: CommentIdea) -> dict[str, Any]:
    idea, path = await _located(deps, ctx, idea_id)
    events = idea.comment(ctx.caller, cmd.comment)

    def respond(after: Idea) -> dict[str, Any]:
        return {"idea_id": idea_id, "status": after.status, "comments": len(after.comments), "version": after.version}

    return await deps.ideas.save(idea, events, ctx, at=path, respond=respond)


async def convert_idea(deps: Deps, ctx: CommandContext, idea_id: str, cmd: ConvertIdea) -> dict[str, Any]:
    idea, path = await _located(deps, ctx, idea_id)
    draft = Initiative(time_ordered_id())
    authors = tuple(Author(**a.model_dump()) for a in cmd.authors)
    converted, drafted = idea.convert(ctx.caller, draft.id, cmd.title, authors)
    response = {"idea_id": idea_id, "status": "converted", "initiative_id": draft.id, "initiative_status": "draft"}
    also = [deps.initiatives.append(draft, [drafted], ctx, path)]
    return await deps.ideas.save(idea, [converted], ctx, at=path, respond=response, status_code=201, also=also)
