"""Handlers of the yearly grading: a grassroots union grades itself; its parent level confirms or changes
the grade with a reason."""

from typing import Any

from services.inspections.application.deps import Deps, grading_id
from services.inspections.domain.commands import ConfirmGrade, SelfGrade
from services.inspections.domain.rules import CONFIRMERS, UNIT_OFFICIALS
from services.inspections.domain.rulesets import grading_rules, rule_set
from shared.commands import CommandContext
from shared.errors import Conflict, Forbidden, InvalidInput


async def self_grade(deps: Deps, ctx: CommandContext, cmd: SelfGrade) -> dict[str, Any]:
    unit = await deps.unit(cmd.unit_id)
    ctx.caller.require_official_of(unit, *UNIT_OFFICIALS, field="unit_id")
    rules = grading_rules(cmd.year, deps.rule_sets)
    operating_since, restructured_on = await deps.facts.dates(unit.unit_id)
    if cmd.founded_on is not None:
        if not ctx.caller.is_admin:
            raise Forbidden(
                "only the platform operator declares a founding date older than the directory's record",
                field="founded_on",
                code="grading.founded_on_operator_only",
            )
        if cmd.founded_on > deps.today():
            raise InvalidInput(
                f"{cmd.founded_on.isoformat()} is after today", field="founded_on", code="date.in_future"
            )
        operating_since = min(cmd.founded_on, operating_since or cmd.founded_on)
    grading = await deps.gradings.load(grading_id(unit.unit_id, cmd.year))
    events = grading.self_grade_for(
        unit,
        cmd.year,
        cmd.union_type,
        dict(cmd.scores),
        rules,
        deps.today(),
        ctx.caller.subject,
        operating_since=operating_since,
        restructured_on=restructured_on,
        founded_on=cmd.founded_on,
    )
    return await deps.gradings.save(
        grading, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"), status_code=201
    )


async def confirm(deps: Deps, ctx: CommandContext, unit_id: str, year: int, cmd: ConfirmGrade) -> dict[str, Any]:
    unit = await deps.unit(unit_id)
    if unit.parent_id is None:
        raise Conflict(f"{unit.path} has no level above it to confirm its grade", code="grading.no_parent")
    parent = await deps.unit(unit.parent_id, what="parent level")
    ctx.caller.require_official_of(parent, *CONFIRMERS)
    grading = await deps.gradings.get(grading_id(unit_id, year), field="year")
    events = grading.confirm(
        parent,
        unit,
        rule_set(grading.rule_set, deps.rule_sets),
        ctx.caller.subject,
        grade=cmd.grade,
        scores=dict(cmd.scores) if cmd.scores is not None else None,
        reason=cmd.reason,
    )
    return await deps.gradings.save(grading, events, ctx, at=unit.path, respond=events[0].model_dump(mode="json"))
