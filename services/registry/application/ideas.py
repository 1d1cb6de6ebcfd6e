"""Handlers of the idea commands: submit, claim, comment, convert into an initiative draft."""

import uuid
from typing import Any

from services.registry.application.support import (
    Registry,
    actor_of,
    chain_of,
    idea_stream,
    initiative_stream,
    load_idea,
    require_subtree,
    unit_at,
)
from services.registry.domain.commands import CommentIdea, ConvertIdea, SubmitIdea
from contracts.registry import Author
from services.registry.domain.idea import Idea
from shared.commands import CommandContext, commit
from shared.eventstore import StreamAppend


async def submit_idea(reg: Registry, ctx: CommandContext, cmd: SubmitIdea) -> dict[str, Any]:
    unit = await unit_at(reg, ctx.caller, cmd.unit_path)
    idea_id = str(uuid.uuid4())
    events = Idea.submit(idea_id, unit, cmd.text, await actor_of(reg, ctx.caller))
    append = StreamAppend.of(idea_stream(idea_id), 0, [(e, ctx.metadata(unit.path)) for e in events])
    response = {
        "idea_id": idea_id,
        "unit_id": unit.unit_id,
        "unit_path": unit.path,
        "status": "submitted",
        "version": 1,
    }
    return await commit(reg.store, ctx, [append], response, 201)


async def _located(reg: Registry, ctx: CommandContext, idea_id: str) -> tuple[Idea, str]:
    idea = await load_idea(reg, idea_id)
    home, _ = await chain_of(reg, idea.unit_id)
    require_subtree(ctx.caller, home.path)
    return idea, home.path


async def claim_idea(reg: Registry, ctx: CommandContext, idea_id: str) -> dict[str, Any]:
    idea, path = await _located(reg, ctx, idea_id)
    events = idea.claim(await actor_of(reg, ctx.caller))
    append = StreamAppend.of(idea_stream(idea_id), idea.version, [(e, ctx.metadata(path)) for e in events])
    response = {"idea_id": idea_id, "status": "claimed", "mentor": ctx.caller.subject, "version": idea.version + 1}
    return await commit(reg.store, ctx, [append], response)


async def comment_idea(reg: Registry, ctx: CommandContext, idea_id: str, cmd: CommentIdea) -> dict[str, Any]:
    idea, path = await _located(reg, ctx, idea_id)
    events = idea.comment(await actor_of(reg, ctx.caller), cmd.comment)
    append = StreamAppend.of(idea_stream(idea_id), idea.version, [(e, ctx.metadata(path)) for e in events])
    response = {
        "idea_id": idea_id,
        "status": idea.status,
        "comments": len(idea.comments) + 1,
        "version": idea.version + 1,
    }
    return await commit(reg.store, ctx, [append], response)


async def convert_idea(reg: Registry, ctx: CommandContext, idea_id: str, cmd: ConvertIdea) -> dict[str, Any]:
    idea, path = await _located(reg, ctx, idea_id)
    initiative_id = str(uuid.uuid4())
    authors = tuple(Author(**a.model_dump()) for a in cmd.authors)
    converted, drafted = idea.convert(await actor_of(reg, ctx.caller), initiative_id, cmd.title, authors)
    appends = [
        StreamAppend.of(idea_stream(idea_id), idea.version, [(converted, ctx.metadata(path))]),
        StreamAppend.of(initiative_stream(initiative_id), 0, [(drafted, ctx.metadata(path))]),
    ]
    response = {"idea_id": idea_id, "status": "converted", "initiative_id": initiative_id, "initiative_status": "draft"}
    return await commit(reg.store, ctx, appends, response, 201)
