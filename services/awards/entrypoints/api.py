"""HTTP routes of the awards service. Commands take an Idempotency-Key; reads hide what the caller cannot
see; the public feed needs no token (it carries only what is public)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.awards.adapters import feeds
from services.awards.application import documents, proposals, queries, rulebook
from services.awards.application.deps import Deps
from services.awards.domain.commands import (
    AllocateQuota,
    AnswerObjection,
    Decide,
    DeclareHolidays,
    Escalate,
    FileProposal,
    Justify,
    Object,
    Publicise,
    PublishRuleSet,
    RecordPastAward,
    RecordVote,
    Reject,
    Return,
    Revoke,
    SetBaseSalary,
    Withdraw,
)
from shared.auth import CurrentCaller
from shared.errors import NotFound
from shared.http import Command
from shared.numbers import Limit, YearQuery

router = APIRouter()


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


Awards = Annotated[Deps, Depends(_deps)]
Id = Annotated[str, Path(max_length=64)]
Json = dict[str, Any]
Format = Annotated[str, Query(pattern="^(docx|pdf)$", description="docx (to edit) or pdf")]


@router.get("/health", tags=["ops"])
async def health(request: Request) -> Json:
    relay = getattr(request.app.state, "relay", None)
    feed = getattr(request.app.state, "feed_relay", None)
    return {
        "status": "ok",
        "service": "awards",
        "relay": None if relay is None else {"published": relay.published, "last_error": relay.last_error},
        "public_feed": None if feed is None else {"published": feed.published, "last_error": feed.last_error},
    }


# -- proposals -----------------------------------------------------------------------------------------


@router.post("/proposals", status_code=201, tags=["proposals"])
async def file_proposal(body: FileProposal, ctx: Command, deps: Awards) -> Json:
    """Propose an award; eligibility is judged criterion by criterion, with the facts behind each."""
    return await proposals.file_proposal(deps, ctx, body)


@router.get("/proposals/{proposal_id}", tags=["proposals"])
async def get_proposal(proposal_id: Id, caller: CurrentCaller, deps: Awards) -> Json:
    return await queries.get_proposal(deps, caller, proposal_id)


@router.post("/proposals/{proposal_id}/justify", tags=["proposals"])
async def justify(proposal_id: Id, body: Justify, ctx: Command, deps: Awards) -> Json:
    return await proposals.justify(deps, ctx, proposal_id, body)


@router.post("/publicity", tags=["proposals"])
async def publicise(body: Publicise, ctx: Command, deps: Awards) -> Json:
    """Publish a level's list in its subtree for the rule set's working days (from today, never earlier)."""
    return await proposals.publicise(deps, ctx, body)


@router.post("/proposals/{proposal_id}/objections", status_code=201, tags=["proposals"])
async def object_to(proposal_id: Id, body: Object, ctx: Command, deps: Awards) -> Json:
    return await proposals.object_to(deps, ctx, proposal_id, body)


@router.post("/proposals/{proposal_id}/objections/{objection_id}/answer", tags=["proposals"])
async def answer(proposal_id: Id, objection_id: Id, body: AnswerObjection, ctx: Command, deps: Awards) -> Json:
    return await proposals.answer(deps, ctx, proposal_id, objection_id, body)


@router.post("/votes", tags=["proposals"])
async def record_vote(body: RecordVote, ctx: Command, deps: Awards) -> Json:
    """One council meeting's votes, nominee by nominee, judged by the rule set's quorum and threshold."""
    return await proposals.record_vote(deps, ctx, body)


@router.post("/escalations", tags=["proposals"])
async def escalate(body: Escalate, ctx: Command, deps: Awards) -> Json:
    """Send a submission upward (or forward it further): dossiers complete, within the quota."""
    return await proposals.escalate(deps, ctx, body)


@router.post("/proposals/{proposal_id}/accept", tags=["proposals"])
async def accept(proposal_id: Id, ctx: Command, deps: Awards) -> Json:
    return await proposals.accept(deps, ctx, proposal_id)


@router.post("/proposals/{proposal_id}/return", tags=["proposals"])
async def return_down(proposal_id: Id, body: Return, ctx: Command, deps: Awards) -> Json:
    return await proposals.return_down(deps, ctx, proposal_id, body)


@router.post("/proposals/{proposal_id}/withdraw", tags=["proposals"])
async def withdraw(proposal_id: Id, body: Withdraw, ctx: Command, deps: Awards) -> Json:
    return await proposals.withdraw(deps, ctx, proposal_id, body)


@router.post("/decisions", tags=["decisions"])
async def decide(body: Decide, ctx: Command, deps: Awards) -> Json:
    """One decision (number, date) conferring a list of proposals, each with its amount."""
    return await proposals.decide(deps, ctx, body)


@router.post("/proposals/{proposal_id}/reject", tags=["decisions"])
async def reject(proposal_id: Id, body: Reject, ctx: Command, deps: Awards) -> Json:
    return await proposals.reject(deps, ctx, proposal_id, body)


@router.post("/proposals/{proposal_id}/revoke", tags=["decisions"])
async def revoke(proposal_id: Id, body: Revoke, ctx: Command, deps: Awards) -> Json:
    return await proposals.revoke(deps, ctx, proposal_id, body)


@router.post("/past-awards", status_code=201, tags=["decisions"])
async def record_past_award(body: RecordPastAward, ctx: Command, deps: Awards) -> Json:
    """An award decided on paper before the platform, for streaks (not published as new)."""
    return await rulebook.record_past_award(deps, ctx, body)


# -- documents -----------------------------------------------------------------------------------------


@router.get("/submissions/{unit_id}/{number:path}/dossier", tags=["documents"])
async def dossier(
    unit_id: Id,
    number: Annotated[str, Path(max_length=60)],
    caller: CurrentCaller,
    deps: Awards,
    format: Format = "docx",
) -> Response:
    """The dossier a level sent upward: TTr with the list, summaries, initiative summaries, minutes (BB)."""
    return _file(*(await documents.dossier(deps, caller, unit_id, number, format)))


@router.get("/decisions/{unit_id}/{number:path}/document", tags=["documents"])
async def decision_document(
    unit_id: Id,
    number: Annotated[str, Path(max_length=60)],
    caller: CurrentCaller,
    deps: Awards,
    format: Format = "docx",
) -> Response:
    """The decision (QĐ) with its attached list and amounts."""
    return _file(*(await documents.decision(deps, caller, unit_id, number, format)))


@router.get("/awards/{award_id}/certificate", tags=["documents"])
async def certificate(award_id: Id, caller: CurrentCaller, deps: Awards, format: Format = "pdf") -> Response:
    return _file(*(await documents.certificate(deps, caller, award_id, format)))


def _file(data: bytes, filename: str, media_type: str) -> Response:
    ascii_name = filename.encode("ascii", "ignore").decode() or "document"
    return Response(
        data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'}
    )


# -- the review board, history, quotas, the rule book ------------------------------------------------------


@router.get("/board/{level}", tags=["review"])
async def board(
    level: Annotated[str, Path(max_length=400)],
    caller: CurrentCaller,
    deps: Awards,
    year: YearQuery | None = None,
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Json:
    """Every proposal of the level's subtree by state (tổng hợp bình xét), flagged ones counted apart."""
    return await queries.board(deps, caller, level, year, campaign_id)


@router.get("/radar/{level}", tags=["review"])
async def radar(
    level: Annotated[str, Path(max_length=400)], caller: CurrentCaller, deps: Awards, year: YearQuery | None = None
) -> Json:
    """Awards to direct workers vs officials, by deciding level (the formalism radar's award signal)."""
    return await queries.radar(deps, caller, level, year)


@router.get("/inbox/{level}", tags=["review"])
async def inbox(level: Annotated[str, Path(max_length=400)], caller: CurrentCaller, deps: Awards) -> Json:
    return await queries.inbox(deps, caller, level)


@router.get("/history/{nominee_id}", tags=["review"])
async def history(nominee_id: Id, caller: CurrentCaller, deps: Awards) -> Json:
    """A person's or a collective's awards across years (revoked ones marked)."""
    return await queries.history(deps, caller, nominee_id)


@router.post("/quotas", tags=["quotas"])
async def allocate_quota(body: AllocateQuota, ctx: Command, deps: Awards) -> Json:
    return await rulebook.allocate_quota(deps, ctx, body)


@router.get("/rulebook", tags=["rule book"])
async def get_rulebook(deps: Awards) -> Json:
    """Every rule set in force or past, the base salary table and the declared holidays."""
    return await queries.rulebook(deps)


@router.post("/rulebook/rule-sets", tags=["rule book"])
async def publish_rule_set(body: PublishRuleSet, ctx: Command, deps: Awards) -> Json:
    """Publish a rule set version; every open proposal is judged again under it."""
    return await rulebook.publish(deps, ctx, body)


@router.post("/rulebook/base-salary", tags=["rule book"])
async def set_base_salary(body: SetBaseSalary, ctx: Command, deps: Awards) -> Json:
    return await rulebook.set_base_salary(deps, ctx, body)


@router.post("/rulebook/holidays", tags=["rule book"])
async def declare_holidays(body: DeclareHolidays, ctx: Command, deps: Awards) -> Json:
    return await rulebook.declare_holidays(deps, ctx, body)


# -- the public feed (no token: only public data) -----------------------------------------------------------


@router.get("/public/awards", tags=["public feed"])
async def public_json(
    request: Request,
    deps: Awards,
    limit: Limit = 50,
    before: Annotated[int | None, Query(ge=1, le=10**12)] = None,
    unit_path: Annotated[str | None, Query(max_length=400)] = None,
) -> Json:
    """Conferred and revoked awards as CloudEvents, newest first; ``next`` pages back."""
    async with deps.db.reader.connect() as conn:
        rows = await feeds.page(conn, limit=limit, before=before, unit_path=unit_path)
    return feeds.as_json(rows, limit=limit, base_url=str(request.url_for("public_json")))


class JsonFeedResponse(Response):
    media_type = "application/feed+json"  # JSON Feed 1.1, documented as such in the OpenAPI


class AtomResponse(Response):
    media_type = "application/atom+xml"


JSON_FEED = {"type": "object", "description": "A JSON Feed 1.1 document (https://jsonfeed.org/version/1.1)"}


@router.get(
    "/public/awards/feed.json",
    tags=["public feed"],
    response_class=JsonFeedResponse,
    responses={200: {"content": {"application/feed+json": {"schema": JSON_FEED}}}},
)
async def public_json_feed(
    request: Request, deps: Awards, limit: Limit = 50, before: Annotated[int | None, Query(ge=1, le=10**12)] = None
) -> Response:
    async with deps.db.reader.connect() as conn:
        rows = await feeds.page(conn, limit=limit, before=before, unit_path=None)
    feed = feeds.as_json_feed(
        rows, limit=limit, feed_url=str(request.url_for("public_json_feed")), home_url=str(request.base_url).rstrip("/")
    )
    import orjson

    return JsonFeedResponse(orjson.dumps(feed))


@router.get("/public/awards/feed.atom", tags=["public feed"], response_class=AtomResponse)
async def public_atom(request: Request, deps: Awards, limit: Limit = 50) -> Response:
    async with deps.db.reader.connect() as conn:
        rows = await feeds.page(conn, limit=limit, before=None, unit_path=None)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = feeds.as_atom(
        rows, feed_url=str(request.url_for("public_atom")), home_url=str(request.base_url).rstrip("/"), updated=now
    )
    return AtomResponse(body)


# Declared after feed.json and feed.atom, so those names are never taken for an award's id.
@router.get("/public/awards/{award_id}", tags=["public feed"])
async def public_award(award_id: Id, deps: Awards) -> Json:
    """One award's public record: conferred or revoked now, and its CloudEvents, newest first (404: none)."""
    async with deps.db.reader.connect() as conn:
        rows = await feeds.of_award(conn, award_id)
    if not rows:
        raise NotFound(f"no public record of award {award_id}", code="award.not_public", params={"award_id": award_id})
    return feeds.as_award(award_id, rows)
