"""Handlers of the rule book (rule sets, base salary, holidays), quotas and past awards."""

import asyncio
from typing import Any

from contracts.awards import PastAwardRecorded
from services.awards.application.deps import RULEBOOK_ID, Deps
from services.awards.application.reevaluation import reevaluate
from services.awards.domain.commands import (
    AllocateQuota,
    DeclareHolidays,
    PublishRuleSet,
    RecordPastAward,
    SetBaseSalary,
)
from services.awards.domain.ledgers import quota_key
from services.awards.domain.rules import level_of, require_preparer
from shared.commands import CommandContext, commit
from shared.errors import Conflict, InvalidInput
from shared.eventstore import StreamAppend
from shared.ids import time_ordered_id


async def publish(deps: Deps, ctx: CommandContext, cmd: PublishRuleSet) -> dict[str, Any]:
    record = await deps.rulebook.load(RULEBOOK_ID)
    events = record.publish(cmd.rule_set, ctx.caller)
    at = ctx.caller.unit.path if ctx.caller.unit is not None else "hn"
    result = await deps.rulebook.save(record, events, ctx, at=at, respond={"version": cmd.rule_set.version})
    # Judge the open proposals again under the new version, in the background: a city has tens of thousands.
    task = asyncio.create_task(reevaluate(deps, f"rule set {cmd.rule_set.version} published"))
    deps.background.add(task)
    task.add_done_callback(deps.background.discard)
    return result


async def set_base_salary(deps: Deps, ctx: CommandContext, cmd: SetBaseSalary) -> dict[str, Any]:
    record = await deps.rulebook.load(RULEBOOK_ID)
    events = record.set_base_salary(cmd.effective_from, cmd.amount_vnd, cmd.source, ctx.caller)
    at = ctx.caller.unit.path if ctx.caller.unit is not None else "hn"
    return await deps.rulebook.save(
        record, events, ctx, at=at, respond={"effective_from": cmd.effective_from.isoformat()}
    )


async def declare_holidays(deps: Deps, ctx: CommandContext, cmd: DeclareHolidays) -> dict[str, Any]:
    record = await deps.rulebook.load(RULEBOOK_ID)
    events = record.declare_holidays(
        cmd.year, tuple(cmd.days_off), tuple(cmd.working_weekend_days), cmd.source, ctx.caller
    )
    at = ctx.caller.unit.path if ctx.caller.unit is not None else "hn"
    return await deps.rulebook.save(record, events, ctx, at=at, respond={"year": cmd.year})


async def allocate_quota(deps: Deps, ctx: CommandContext, cmd: AllocateQuota) -> dict[str, Any]:
    child = await deps.unit_at(cmd.unit_path)
    if child.parent_id is None:
        raise InvalidInput(
            "the top level has no parent to allocate it a quota", field="unit_path", code="award.no_parent"
        )
    parent = await deps.unit(child.parent_id)
    (await deps.book()).award(cmd.award_code, deps.clock())  # a known award
    ledger = await deps.quotas.load(quota_key(child.unit_id, cmd.year))
    events = ledger.allocate(ctx.caller, parent, child, cmd.year, cmd.award_code, cmd.count)
    response = {"unit_path": child.path, "year": cmd.year, "award_code": cmd.award_code, "count": cmd.count}
    return await deps.quotas.save(ledger, events, ctx, at=child.path, respond=response)


async def record_past_award(deps: Deps, ctx: CommandContext, cmd: RecordPastAward) -> dict[str, Any]:
    """A paper decision from before the platform; only the level that decided (or above) records it."""
    book = await deps.book()
    _, rule = book.award(cmd.award_code, cmd.decided_on)
    if rule.nominee_kind != cmd.nominee.kind:
        raise InvalidInput(
            f"{rule.code} is for a {rule.nominee_kind}", field="nominee.kind", code="award.wrong_nominee_kind"
        )
    caller = ctx.caller
    if caller.unit is None and not caller.is_admin:
        raise InvalidInput("name the unit", field="unit_path", code="award.unit_required")
    level = level_of(caller.unit) if caller.unit is not None else None
    if level is None:
        raise Conflict("the platform admin records past awards as an official of a unit", code="award.unit_required")
    require_preparer(caller, level, "record past awards")
    nominee = await deps.nominee(cmd.nominee.kind, cmd.nominee.member_id, cmd.nominee.unit_path, level)
    award_id = time_ordered_id()
    event = PastAwardRecorded(
        award_id=award_id,
        unit_id=nominee.unit_id,
        nominee=nominee,
        award_code=rule.code,
        award_name=rule.name,
        year=cmd.year,
        decision_number=cmd.decision_number,
        decided_on=cmd.decided_on,
        deciding_body=cmd.deciding_body,
        recorded_by=caller.subject,
    )
    append = StreamAppend.of(f"award-{award_id}", 0, [(event, ctx.metadata(nominee.unit_path))])
    return await commit(
        deps.store, ctx, [append], {"award_id": award_id, "award_code": rule.code, "year": cmd.year}, 201
    )
