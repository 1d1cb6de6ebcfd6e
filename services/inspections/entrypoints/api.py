"""HTTP routes of the inspections service. Every command takes an Idempotency-Key; reads hide what the
caller may not see. The level views (overdue units, open actions, the radar) are the level host's."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from services.inspections.application import grading, inspections, overdue, queries, selfinspection
from services.inspections.application.deps import Deps
from services.inspections.domain.commands import (
    AdoptPlan,
    AmendSelfInspection,
    AnswerItem,
    AssignAction,
    CloseRound,
    ConcludeInspection,
    ConfirmGrade,
    IssueDecision,
    IssueNotice,
    OpenRound,
    RecordFinding,
    ReopenAction,
    ReportFix,
    RevisePlan,
    ScheduleInspection,
    SelfGrade,
    SubmitSelfInspection,
    VerifyAction,
)
from shared.auth import CurrentCaller
from shared.http import Command
from shared.numbers import YearQuery

router = APIRouter()


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


Inspections = Annotated[Deps, Depends(_deps)]
Id = Annotated[str, Path(max_length=100)]
Json = dict[str, Any]


@router.get("/health", tags=["ops"])
async def health(request: Request) -> Json:
    relay = getattr(request.app.state, "relay", None)
    consumers = [c.health() for c in getattr(request.app.state, "consumers", [])]
    return {
        "status": "ok",
        "service": "inspections",
        "relay": None if relay is None else {"published": relay.published, "last_error": relay.last_error},
        "consumers": consumers,
    }


# -- self-inspection -----------------------------------------------------------------------------------


@router.post("/rounds", status_code=201, tags=["self-inspection"])
async def open_round(body: OpenRound, ctx: Command, deps: Inspections) -> Json:
    """Open a round for the level's subtree: every active grassroots union without a checklist for the
    year and period gets one, pre-filled with its pledge commitments and its members' initiatives."""
    return await selfinspection.open_round(deps, ctx, body)


@router.get("/rounds/{round_id}", tags=["self-inspection"])
async def get_round(round_id: Id, caller: CurrentCaller, deps: Inspections) -> Json:
    return await queries.round_view(deps, caller, round_id)


@router.post("/rounds/{round_id}/close", tags=["self-inspection"])
async def close_round(round_id: Id, body: CloseRound, ctx: Command, deps: Inspections) -> Json:
    return await selfinspection.close_round(deps, ctx, round_id, body)


@router.post("/rounds/{round_id}/overdue-check", tags=["self-inspection"])
async def overdue_check(round_id: Id, ctx: Command, deps: Inspections) -> Json:
    """Record now, once each, the round's checklists not submitted by the due date (the scheduler does the
    same every minute)."""
    return await overdue.check_round(deps, ctx, round_id)


@router.get("/checklists/{checklist_id}", tags=["self-inspection"])
async def get_checklist(checklist_id: Id, caller: CurrentCaller, deps: Inspections) -> Json:
    """Items with the facts as issued and as they are now; the unit's drafts and flags to its officials."""
    return await queries.checklist(deps, caller, checklist_id)


@router.post("/checklists/{checklist_id}/answers", tags=["self-inspection"])
async def answer(checklist_id: Id, body: AnswerItem, ctx: Command, deps: Inspections) -> Json:
    """Save one answer; the answer says at once whether the facts contradict it."""
    return await selfinspection.answer(deps, ctx, checklist_id, body)


@router.post("/checklists/{checklist_id}/submit", tags=["self-inspection"])
async def submit(checklist_id: Id, body: SubmitSelfInspection, ctx: Command, deps: Inspections) -> Json:
    return await selfinspection.submit(deps, ctx, checklist_id, body)


@router.post("/checklists/{checklist_id}/amend", tags=["self-inspection"])
async def amend(checklist_id: Id, body: AmendSelfInspection, ctx: Command, deps: Inspections) -> Json:
    return await selfinspection.amend(deps, ctx, checklist_id, body)


# -- upper-level inspections ---------------------------------------------------------------------------


@router.post("/plans", status_code=201, tags=["inspections"])
async def adopt_plan(body: AdoptPlan, ctx: Command, deps: Inspections) -> Json:
    return await inspections.adopt_plan(deps, ctx, body)


@router.post("/plans/{plan_id}/revise", tags=["inspections"])
async def revise_plan(plan_id: Id, body: RevisePlan, ctx: Command, deps: Inspections) -> Json:
    return await inspections.revise_plan(deps, ctx, plan_id, body)


@router.get("/proposals", tags=["inspections"])
async def proposals(
    caller: CurrentCaller,
    deps: Inspections,
    by_unit_id: Annotated[str, Query(max_length=64)],
    method: Literal["random", "risk"],
    size: Annotated[int, Query(ge=1, le=1000, description="Units to propose, 1 to 1,000.")],
    seed: Annotated[int | None, Query(ge=0, le=2**53, description="The random sample's seed.")] = None,
) -> Json:
    """Units a sample would choose — drawn reproducibly from a seed, or the riskiest with their reasons."""
    return await inspections.propose(deps, caller, by_unit_id, method, size, seed)


@router.post("/inspections", status_code=201, tags=["inspections"])
async def schedule(body: ScheduleInspection, ctx: Command, deps: Inspections) -> Json:
    return await inspections.schedule(deps, ctx, body)


@router.get("/inspections/{inspection_id}", tags=["inspections"])
async def get_inspection(inspection_id: Id, caller: CurrentCaller, deps: Inspections) -> Json:
    return await queries.inspection_view(deps, caller, inspection_id)


@router.post("/inspections/{inspection_id}/notice", tags=["inspections"])
async def notice(inspection_id: Id, body: IssueNotice, ctx: Command, deps: Inspections) -> Json:
    return await inspections.issue_notice(deps, ctx, inspection_id, body)


@router.post("/inspections/{inspection_id}/decision", tags=["inspections"])
async def decision(inspection_id: Id, body: IssueDecision, ctx: Command, deps: Inspections) -> Json:
    return await inspections.issue_decision(deps, ctx, inspection_id, body)


@router.post("/inspections/{inspection_id}/conclusion", tags=["inspections"])
async def conclusion(inspection_id: Id, body: ConcludeInspection, ctx: Command, deps: Inspections) -> Json:
    return await inspections.conclude(deps, ctx, inspection_id, body)


@router.post("/inspections/{inspection_id}/units/{unit_id}/findings", status_code=201, tags=["inspections"])
async def finding(inspection_id: Id, unit_id: Id, body: RecordFinding, ctx: Command, deps: Inspections) -> Json:
    return await inspections.record_finding(deps, ctx, inspection_id, unit_id, body)


@router.post("/inspections/{inspection_id}/units/{unit_id}/actions", status_code=201, tags=["inspections"])
async def action(inspection_id: Id, unit_id: Id, body: AssignAction, ctx: Command, deps: Inspections) -> Json:
    return await inspections.assign_action(deps, ctx, inspection_id, unit_id, body)


@router.post("/inspections/{inspection_id}/units/{unit_id}/actions/{action_id}/fix", tags=["inspections"])
async def fix(inspection_id: Id, unit_id: Id, action_id: Id, body: ReportFix, ctx: Command, deps: Inspections) -> Json:
    return await inspections.report_fix(deps, ctx, inspection_id, unit_id, action_id, body)


@router.post("/inspections/{inspection_id}/units/{unit_id}/actions/{action_id}/verify", tags=["inspections"])
async def verify(
    inspection_id: Id, unit_id: Id, action_id: Id, body: VerifyAction, ctx: Command, deps: Inspections
) -> Json:
    return await inspections.verify(deps, ctx, inspection_id, unit_id, action_id, body)


@router.post("/inspections/{inspection_id}/units/{unit_id}/actions/{action_id}/reopen", tags=["inspections"])
async def reopen(
    inspection_id: Id, unit_id: Id, action_id: Id, body: ReopenAction, ctx: Command, deps: Inspections
) -> Json:
    return await inspections.reopen(deps, ctx, inspection_id, unit_id, action_id, body)


# -- grading -------------------------------------------------------------------------------------------


@router.post("/grades", status_code=201, tags=["grading"])
async def self_grade(body: SelfGrade, ctx: Command, deps: Inspections) -> Json:
    return await grading.self_grade(deps, ctx, body)


@router.get("/grades/{unit_id}/{year}", tags=["grading"])
async def get_grade(unit_id: Id, year: YearQuery, caller: CurrentCaller, deps: Inspections) -> Json:
    return await queries.grade_view(deps, caller, unit_id, year)


@router.post("/grades/{unit_id}/{year}/confirm", tags=["grading"])
async def confirm_grade(unit_id: Id, year: YearQuery, body: ConfirmGrade, ctx: Command, deps: Inspections) -> Json:
    return await grading.confirm(deps, ctx, unit_id, year, body)
