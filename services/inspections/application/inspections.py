"""Handlers of upper-level inspections: the plan, proposals (a reproducible random sample or the riskiest
units by the radar, each with its reasons), scheduling, notice, decision, findings, corrective actions,
fixes, verification and the conclusion."""

from typing import Any

from contracts.inspections import PlannedInspection, Selection, TeamMember
from services.inspections.adapters import views
from services.inspections.application.deps import Deps, inspected_id, plan_id
from services.inspections.application.selfinspection import grassroots_under
from services.inspections.domain import radar
from services.inspections.domain.commands import (
    AdoptPlan,
    AssignAction,
    ConcludeInspection,
    IssueDecision,
    IssueNotice,
    RecordFinding,
    ReopenAction,
    ReportFix,
    RevisePlan,
    ScheduleInspection,
    VerifyAction,
)
from services.inspections.domain.inspection import Inspection, verifier_for
from services.inspections.domain.rules import GRASSROOTS, INSPECTORS, TEAM_ROLES, UNIT_OFFICIALS, below
from shared.commands import CommandContext
from shared.directory_copy import units as copy_units
from shared.errors import InvalidInput
from shared.identity import Caller
from shared.ids import time_ordered_id
from shared.units import UnitRef

# -- the plan ------------------------------------------------------------------------------------------


def _items(specs: Any) -> list[PlannedInspection]:
    return [PlannedInspection(**spec.model_dump()) for spec in specs]


async def adopt_plan(deps: Deps, ctx: CommandContext, cmd: AdoptPlan) -> dict[str, Any]:
    unit = await deps.unit(cmd.unit_id)
    ctx.caller.require_official_of(unit, *INSPECTORS, field="unit_id")
    plan = await deps.plans.load(plan_id(unit.unit_id, cmd.year, cmd.programme))
    events = plan.adopt(unit, cmd.year, cmd.programme, cmd.title, _items(cmd.items), deps.today(), ctx.caller.subject)
    return await deps.plans.save(
        plan, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"), status_code=201
    )


async def revise_plan(deps: Deps, ctx: CommandContext, pid: str, cmd: RevisePlan) -> dict[str, Any]:
    plan = await deps.plans.get(pid, field="plan_id")
    unit = await deps.unit(plan.unit_id)
    ctx.caller.require_official_of(unit, *INSPECTORS)
    events = plan.revise(unit, cmd.title, _items(cmd.items), cmd.reason, deps.today(), ctx.caller.subject)
    return await deps.plans.save(plan, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"))


# -- proposals -------------------------------------------------------------------------------------------


async def population(deps: Deps, level: UnitRef) -> list[UnitRef]:
    """The grassroots unions a level may inspect: strictly below it, active."""
    return [u for u in await grassroots_under(deps, level) if below(u, level)]


async def risk_candidates(deps: Deps, level: UnitRef) -> list[radar.Candidate]:
    """The radar's view of the level's grassroots unions, from the service's copy of the facts."""
    async with deps.directory.db.reader.connect() as conn:  # type: ignore[union-attr]
        page = await views.radar_page(conn, copy_units, level.path, deps.today(), deps.rules(), kind=GRASSROOTS)
    return [radar.Candidate(r.unit_id, r.path, r.risk) for r in page.units if r.path != level.path]


async def propose(
    deps: Deps, caller: Caller, by_unit_id: str, method: str, size: int, seed: int | None
) -> dict[str, Any]:
    """What a sample would choose (nothing is recorded): the random draw with its seed, or the riskiest
    units with the reasons each was proposed."""
    level = await deps.unit(by_unit_id, field="by_unit_id", what="level")
    caller.require_official_of(level, *INSPECTORS, field="by_unit_id")
    if method == "random":
        if seed is None:
            raise InvalidInput("a random sample needs its seed", field="seed", code="sample.seed_required")
        units = await population(deps, level)
        drawn = set(radar.random_sample([u.unit_id for u in units], size, seed))
        return {
            "method": "random",
            "seed": seed,
            "population": len(units),
            "population_digest": radar.population_digest(u.unit_id for u in units),
            "units": [
                {"unit_id": u.unit_id, "path": u.path, "name": u.name, "reasons": []}
                for u in units
                if u.unit_id in drawn
            ],
        }
    rules = deps.rules()
    candidates = await risk_candidates(deps, level)
    chosen = radar.risk_sample(candidates, size, rules.radar)
    return {
        "method": "risk",
        "rule_set": rules.version,
        "population": len(candidates),
        "min_score": rules.radar.risk_min_score,
        "units": [
            {"unit_id": c.unit_id, "path": c.path, "score": c.risk.score, "reasons": list(c.risk.reasons)}
            for c in chosen
        ],
    }


async def _team(deps: Deps, by: UnitRef, member_ids: list[str]) -> list[TeamMember]:
    """The team: officials of the inspecting level (from the directory now)."""
    team = []
    for index, member_id in enumerate(dict.fromkeys(member_ids)):
        member = await deps.directory.member(member_id)
        held = [
            r for r in TEAM_ROLES if member is not None and member["unit_id"] == by.unit_id and r in member["roles"]
        ]
        if not held:
            raise InvalidInput(
                f"member {member_id} is not an official of {by.path}: the team is made of the level's officials",
                field=f"team.{index}",
                code="inspection.team_not_official",
                params={"member_id": member_id, "level": by.path},
            )
        assert member is not None
        team.append(TeamMember(member_id=member_id, full_name=member["full_name"], role=held[0]))
    return team


async def _chosen(
    deps: Deps, by: UnitRef, cmd: ScheduleInspection
) -> tuple[list[tuple[UnitRef, tuple[str, ...]]], Selection]:
    spec = cmd.selection
    named = [await deps.unit(uid, field=f"units.{i}") for i, uid in enumerate(cmd.units)]
    if spec.method == "manual":
        return [(u, ()) for u in named], Selection(method="manual")
    if spec.size is None:
        raise InvalidInput("a sample needs its size", field="selection.size", code="sample.size_required")
    if spec.method == "random":
        if spec.seed is None:
            raise InvalidInput("a random sample needs its seed", field="selection.seed", code="sample.seed_required")
        units = await population(deps, by)
        drawn = set(radar.random_sample([u.unit_id for u in units], spec.size, spec.seed))
        if named and {u.unit_id for u in named} != drawn:
            raise InvalidInput(
                "the units listed are not the sample this seed draws; omit them or draw again",
                field="units",
                code="sample.not_the_draw",
                params={"seed": spec.seed},
            )
        selection = Selection(
            method="random",
            seed=spec.seed,
            population=len(units),
            population_digest=radar.population_digest(u.unit_id for u in units),
        )
        return [(u, ()) for u in units if u.unit_id in drawn], selection
    rules = deps.rules()
    candidates = await risk_candidates(deps, by)
    proposed = {c.unit_id: c for c in radar.risk_sample(candidates, spec.size, rules.radar)}
    for index, unit in enumerate(named):
        if unit.unit_id not in proposed:
            raise InvalidInput(
                f"{unit.path} is not among the units the radar proposes",
                field=f"units.{index}",
                code="sample.not_proposed",
                params={"unit": unit.path},
            )
    picked = named or [await deps.unit(uid) for uid in proposed]
    selection = Selection(method="risk", population=len(candidates), rule_set=rules.version)
    return [(u, proposed[u.unit_id].risk.reasons) for u in picked], selection


async def schedule(deps: Deps, ctx: CommandContext, cmd: ScheduleInspection) -> dict[str, Any]:
    by = await deps.unit(cmd.by_unit_id, field="by_unit_id", what="inspecting level")
    ctx.caller.require_official_of(by, *INSPECTORS, field="by_unit_id")
    units, selection = await _chosen(deps, by, cmd)
    team = await _team(deps, by, list(cmd.team))
    inspection = Inspection(time_ordered_id())
    events = Inspection.schedule(
        inspection.id,
        by,
        units,
        team,
        selection,
        purpose=cmd.purpose,
        content=cmd.content,
        period_from=cmd.period_from,
        period_to=cmd.period_to,
        plan_id=cmd.plan_id,
        actor=ctx.caller.subject,
    )
    return await deps.inspections.save(
        inspection, events, ctx, at=by.path, respond=events[0].model_dump(mode="json"), status_code=201
    )


async def _as_inspector(deps: Deps, ctx: CommandContext, inspection_id: str) -> tuple[Inspection, UnitRef]:
    inspection = await deps.inspections.get(inspection_id, field="inspection_id")
    by = await deps.unit(inspection.by_unit_id, what="inspecting level")
    if not inspection.on_team(ctx.caller.subject):
        ctx.caller.require_official_of(by, *INSPECTORS)
    return inspection, by


async def issue_notice(deps: Deps, ctx: CommandContext, inspection_id: str, cmd: IssueNotice) -> dict[str, Any]:
    inspection, by = await _as_inspector(deps, ctx, inspection_id)
    events = inspection.issue_notice(cmd.number, cmd.issued_on, cmd.starts_on, ctx.caller.subject)
    return await deps.inspections.save(inspection, events, ctx, at=by.path, respond=events[0].model_dump(mode="json"))


async def issue_decision(deps: Deps, ctx: CommandContext, inspection_id: str, cmd: IssueDecision) -> dict[str, Any]:
    inspection, by = await _as_inspector(deps, ctx, inspection_id)
    events = inspection.issue_decision(cmd.number, cmd.decided_on, ctx.caller.subject)
    return await deps.inspections.save(inspection, events, ctx, at=by.path, respond=events[0].model_dump(mode="json"))


async def conclude(deps: Deps, ctx: CommandContext, inspection_id: str, cmd: ConcludeInspection) -> dict[str, Any]:
    inspection, by = await _as_inspector(deps, ctx, inspection_id)
    events = inspection.conclude(cmd.conclusion, deps.today(), ctx.caller.subject)
    return await deps.inspections.save(inspection, events, ctx, at=by.path, respond=events[0].model_dump(mode="json"))


# -- findings and corrective actions -----------------------------------------------------------------


async def record_finding(
    deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str, cmd: RecordFinding
) -> dict[str, Any]:
    inspection, by = await _as_inspector(deps, ctx, inspection_id)
    unit = await deps.unit(unit_id)
    target = await deps.inspected.load(inspected_id(inspection_id, unit_id))
    events = target.record_finding(
        inspection,
        by,
        unit,
        time_ordered_id(),
        severity=cmd.severity,
        description=cmd.description,
        recommendation=cmd.recommendation,
        evidence=deps.evidence_of(cmd.evidence, unit_id, "evidence"),
        actor=ctx.caller.subject,
    )
    return await deps.inspected.save(
        target, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"), status_code=201
    )


async def assign_action(
    deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str, cmd: AssignAction
) -> dict[str, Any]:
    inspection, by = await _as_inspector(deps, ctx, inspection_id)
    unit = await deps.unit(unit_id)
    target = await deps.inspected.get(inspected_id(inspection_id, unit_id), field="unit_id")
    events = target.assign_action(
        inspection,
        by,
        unit,
        time_ordered_id(),
        finding_id=cmd.finding_id,
        description=cmd.description,
        owner=cmd.owner,
        due_on=cmd.due_on,
        today=deps.day_of(ctx, cmd.assigned_on, "assigned_on"),
        actor=ctx.caller.subject,
    )
    return await deps.inspected.save(
        target, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"), status_code=201
    )


async def report_fix(
    deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str, action_id: str, cmd: ReportFix
) -> dict[str, Any]:
    """The unit reports its fix — or, for a unit that merged, the unit it merged into."""
    inspection = await deps.inspections.get(inspection_id, field="inspection_id")
    responsible = await deps.current(await deps.unit(unit_id))
    ctx.caller.require_official_of(responsible, *UNIT_OFFICIALS)
    target = await deps.inspected.get(inspected_id(inspection_id, unit_id), field="unit_id")
    evidence = deps.evidence_of(cmd.evidence, responsible.unit_id, "evidence")
    events = target.report_fix(
        inspection, unit_id, action_id, cmd.description, evidence, deps.today(), ctx.caller.subject
    )
    return await deps.inspected.save(
        target, events, ctx, at=responsible.path, respond=events[0].model_dump(mode="json")
    )


async def _as_verifier(deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str) -> tuple[Any, ...]:
    inspection = await deps.inspections.get(inspection_id, field="inspection_id")
    inspecting = await deps.unit(inspection.by_unit_id, what="inspecting level")
    now = await deps.current(await deps.unit(unit_id))
    verifier = await deps.unit(verifier_for(inspection, inspecting, now), what="verifying level")
    ctx.caller.require_official_of(verifier, *INSPECTORS)
    target = await deps.inspected.get(inspected_id(inspection_id, unit_id), field="unit_id")
    return inspection, now, verifier, target


async def verify(
    deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str, action_id: str, cmd: VerifyAction
) -> dict[str, Any]:
    inspection, now, verifier, target = await _as_verifier(deps, ctx, inspection_id, unit_id)
    events = target.verify(inspection, unit_id, action_id, verifier.path, cmd.note, deps.today(), ctx.caller.subject)
    return await deps.inspected.save(target, events, ctx, at=now.path, respond=events[0].model_dump(mode="json"))


async def reopen(
    deps: Deps, ctx: CommandContext, inspection_id: str, unit_id: str, action_id: str, cmd: ReopenAction
) -> dict[str, Any]:
    inspection, now, verifier, target = await _as_verifier(deps, ctx, inspection_id, unit_id)
    events = target.reopen(
        inspection, unit_id, action_id, verifier.path, cmd.reason, cmd.due_on, deps.today(), ctx.caller.subject
    )
    return await deps.inspected.save(target, events, ctx, at=now.path, respond=events[0].model_dump(mode="json"))
