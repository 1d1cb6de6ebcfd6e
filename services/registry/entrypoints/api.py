"""HTTP routes of the registry. Commands take an Idempotency-Key; reads show only the caller's subtree."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.registry.application import escalation, ideas, initiatives, queries
from services.registry.application.deps import Deps
from services.registry.domain.commands import (
    AcceptInitiative,
    CommentIdea,
    ConvertIdea,
    ForwardEscalation,
    OrderReplication,
    RecogniseInitiative,
    RegisterInitiative,
    RegistrationIn,
    RejectInitiative,
    ReportApplication,
    ReportReplication,
    RequestEscalation,
    ReturnEscalation,
    ReturnInitiative,
    ScoreInitiative,
    SubmitIdea,
)
from shared import numbers
from shared.auth import CurrentCaller
from shared.http import Command

router = APIRouter()


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


Registry = Annotated[Deps, Depends(_deps)]
Id = Annotated[str, Path(max_length=64)]
Limit = Annotated[numbers.Limit, Query()]
Offset = Annotated[numbers.Offset, Query()]
Under = Annotated[str | None, Query(max_length=400)]
Json = dict[str, Any]


@router.get("/health", tags=["ops"])
async def health(request: Request) -> Json:
    relay = getattr(request.app.state, "relay", None)
    consumers = [c.health() for c in getattr(request.app.state, "consumers", [])]
    return {
        "status": "ok",
        "service": "registry",
        "relay": None if relay is None else {"published": relay.published, "last_error": relay.last_error},
        "consumers": consumers,
    }


# -- ideas -------------------------------------------------------------------------------------------


@router.post("/ideas", status_code=201, tags=["ideas"])
async def submit_idea(body: SubmitIdea, ctx: Command, deps: Registry) -> Json:
    return await ideas.submit_idea(deps, ctx, body)


@router.get("/ideas", tags=["ideas"])
async def list_ideas(
    caller: CurrentCaller, deps: Registry, under: Under = None, limit: Limit = 50, offset: Offset = 0
) -> Json:
    return await queries.list_ideas(deps, caller, under, limit, offset)


@router.post("/ideas/{idea_id}/claim", tags=["ideas"])
async def claim_idea(idea_id: Id, ctx: Command, deps: Registry) -> Json:
    return await ideas.claim_idea(deps, ctx, idea_id)


@router.post("/ideas/{idea_id}/comments", tags=["ideas"])
async def comment_idea(idea_id: Id, body: CommentIdea, ctx: Command, deps: Registry) -> Json:
    return await ideas.comment_idea(deps, ctx, idea_id, body)


@router.post("/ideas/{idea_id}/convert", status_code=201, tags=["ideas"])
async def convert_idea(idea_id: Id, body: ConvertIdea, ctx: Command, deps: Registry) -> Json:
    return await ideas.convert_idea(deps, ctx, idea_id, body)


# -- initiatives -------------------------------------------------------------------------------------


@router.post("/initiatives", status_code=201, tags=["initiatives"])
async def register_initiative(body: RegisterInitiative, ctx: Command, deps: Registry) -> Json:
    return await initiatives.register_initiative(deps, ctx, body)


@router.get("/initiatives", tags=["initiatives"])
async def list_initiatives(
    caller: CurrentCaller,
    deps: Registry,
    under: Under = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Json:
    return await queries.list_initiatives(deps, caller, under, status, limit, offset)


@router.get("/initiatives/{initiative_id}", tags=["initiatives"])
async def get_initiative(initiative_id: Id, caller: CurrentCaller, deps: Registry) -> Json:
    return await queries.get_initiative(deps, caller, initiative_id)


@router.post("/initiatives/{initiative_id}/revise", tags=["initiatives"])
async def revise(initiative_id: Id, body: RegistrationIn, ctx: Command, deps: Registry) -> Json:
    return await initiatives.revise_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/scores", tags=["review"])
async def score(initiative_id: Id, body: ScoreInitiative, ctx: Command, deps: Registry) -> Json:
    return await initiatives.score_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/recognise", tags=["review"])
async def recognise(initiative_id: Id, body: RecogniseInitiative, ctx: Command, deps: Registry) -> Json:
    """At the reviewing unit after the council, or at the level an escalation request waits at."""
    return await initiatives.recognise_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/reject", tags=["review"])
async def reject(initiative_id: Id, body: RejectInitiative, ctx: Command, deps: Registry) -> Json:
    return await initiatives.reject_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/return", tags=["review"])
async def return_(initiative_id: Id, body: ReturnInitiative, ctx: Command, deps: Registry) -> Json:
    return await initiatives.return_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/applications", tags=["application"])
async def report_application(initiative_id: Id, body: ReportApplication, ctx: Command, deps: Registry) -> Json:
    return await initiatives.report_application(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/accept", tags=["application"])
async def accept(initiative_id: Id, body: AcceptInitiative, ctx: Command, deps: Registry) -> Json:
    return await initiatives.accept_initiative(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/escalation", tags=["escalation"])
async def request_escalation(initiative_id: Id, body: RequestEscalation, ctx: Command, deps: Registry) -> Json:
    return await escalation.request_escalation(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/escalation/forward", tags=["escalation"])
async def forward_escalation(initiative_id: Id, body: ForwardEscalation, ctx: Command, deps: Registry) -> Json:
    return await escalation.forward_escalation(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/escalation/return", tags=["escalation"])
async def return_escalation(initiative_id: Id, body: ReturnEscalation, ctx: Command, deps: Registry) -> Json:
    return await escalation.return_escalation(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/replication", tags=["replication"])
async def order_replication(initiative_id: Id, body: OrderReplication, ctx: Command, deps: Registry) -> Json:
    return await escalation.order_replication(deps, ctx, initiative_id, body)


@router.post("/initiatives/{initiative_id}/replication/reports", tags=["replication"])
async def report_replication(initiative_id: Id, body: ReportReplication, ctx: Command, deps: Registry) -> Json:
    return await escalation.report_replication(deps, ctx, initiative_id, body)
