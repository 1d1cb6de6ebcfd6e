"""Handlers of self-inspection: open a round (pre-filled checklists for every grassroots union of the
level), answer, submit, amend, close the round."""

import contextlib
import gc
from collections.abc import Iterator
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import select

from contracts.inspections import AnsweredItem
from services.inspections.adapters.views import under
from services.inspections.application.deps import Deps, checklist_id
from services.inspections.domain.commands import (
    AmendSelfInspection,
    AnswerItem,
    CloseRound,
    OpenRound,
    SubmitSelfInspection,
)
from services.inspections.domain.rules import GRASSROOTS, ROUND_OPENERS, UNIT_OFFICIALS
from services.inspections.domain.selfinspection import Checklist, Round, UnitFacts, period_window
from shared.commands import CommandContext
from shared.directory_copy import units as copy_units
from shared.ids import time_ordered_id
from shared.units import UnitRef

_UNIT_COLUMNS = (
    copy_units.c.unit_id, copy_units.c.path, copy_units.c.kind, copy_units.c.name, copy_units.c.parent_id,
    copy_units.c.status, copy_units.c.merged_into,
)  # fmt: skip  # UnitRef's fields, in order


async def grassroots_under(deps: Deps, level: UnitRef) -> list[UnitRef]:
    """Active grassroots unions at the level and below it, by path, from the service's copy of the directory.

    Rows fetched with ``all()``, sorted as tuples and unpacked as tuples: a city has 13,000 of them, and a
    key function and seven attribute reads per row showed in the round's profile. (The range walks the
    path index, so on SQLite they come sorted and the sort only checks it.)"""
    query = select(*_UNIT_COLUMNS).where(
        under(copy_units, level.path), copy_units.c.kind == GRASSROOTS, copy_units.c.status == "active"
    )
    async with deps.directory.db.reader.connect() as conn:  # type: ignore[union-attr]
        rows = (await conn.execute(query)).all()
    return [
        UnitRef(unit_id=unit_id, path=path, kind=kind, name=name, parent_id=parent, status=status, merged_into=into)
        for unit_id, path, kind, name, parent, status, into in sorted(rows, key=itemgetter(1))
    ]


async def facts_of(deps: Deps, unit: UnitRef, round_: Round) -> UnitFacts:
    """The unit's facts in the window of the round that issued its checklist (its year, or its half-year)."""
    found = (await deps.facts.for_units([unit.unit_id], round_.window)).get(unit.unit_id)
    return UnitFacts(unit, found.commitments if found else (), found.initiatives if found else ())


_paused = 0  # opening rounds running now (they may overlap on the event loop)
_was_on = True  # the collector's state before the first of them began


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a round is opened.

    A city's round builds about a million objects (facts, items, events, their JSON) that all live until
    its commit: every collection meanwhile walks them and finds nothing to free — a third of the opening's
    CPU time, measured (tests/benchmarks/inspections.py). Reference counting still frees what dies; the
    collector resumes when the last opening running ends (and was on before the first began)."""
    global _paused, _was_on
    if _paused == 0:
        _was_on = gc.isenabled()
    _paused += 1
    gc.disable()
    try:
        yield
    finally:
        _paused -= 1
        if _paused == 0 and _was_on:
            gc.enable()


async def open_round(deps: Deps, ctx: CommandContext, cmd: OpenRound) -> dict[str, Any]:
    with _collector_paused():
        return await _open_round(deps, ctx, cmd)


async def _open_round(deps: Deps, ctx: CommandContext, cmd: OpenRound) -> dict[str, Any]:
    level = await deps.unit(cmd.level_unit_id, field="level_unit_id", what="level")
    ctx.caller.require_official_of(level, *ROUND_OPENERS, field="level_unit_id")
    today = deps.day_of(ctx, cmd.opened_on, "opened_on")
    covered = await deps.records.covered(cmd.year, cmd.period)
    everyone = await grassroots_under(deps, level)
    units = [u for u in everyone if u.unit_id not in covered]
    window = period_window(cmd.year, cmd.period)
    facts = await deps.facts.for_units([u.unit_id for u in units], window, path=level.path)
    given = [
        UnitFacts(u, facts[u.unit_id].commitments, facts[u.unit_id].initiatives) if u.unit_id in facts else UnitFacts(u)
        for u in units
    ]
    round_id = time_ordered_id()
    opening, issued = Round.open(
        round_id,
        level,
        given,
        year=cmd.year,
        period=cmd.period,
        title=cmd.title,
        due_on=cmd.due_on,
        today=today,
        rules=deps.rules(today),
        actor=ctx.caller.subject,
    )
    paths = {u.unit_id: u.path for u in units}
    appends = [
        deps.checklists.append(Checklist(checklist_id(e.unit_id, e.year, e.period)), [e], ctx, at=paths[e.unit_id])
        for e in issued
    ]
    response = {**opening.model_dump(mode="json"), "already_covered": len(everyone) - len(units)}
    return await deps.rounds.save(
        Round(round_id), [opening], ctx, at=level.path, respond=response, status_code=201, also=appends
    )


async def _own_checklist(deps: Deps, ctx: CommandContext, cid: str) -> tuple[Checklist, UnitRef, Round]:
    checklist = await deps.checklists.get(cid, field="checklist_id")
    unit = await deps.unit(checklist.unit_id)
    ctx.caller.require_official_of(unit, *UNIT_OFFICIALS)  # a unit answers only its own checklist
    return checklist, unit, await deps.rounds.get(checklist.round_id)


def _answered(deps: Deps, spec: AnswerItem, unit_id: str, field: str) -> AnsweredItem:
    evidence = deps.evidence_of(spec.evidence, unit_id, f"{field}evidence")
    return AnsweredItem(item=spec.item, answer=spec.answer, comment=spec.comment, evidence=evidence)


async def answer(deps: Deps, ctx: CommandContext, cid: str, cmd: AnswerItem) -> dict[str, Any]:
    checklist, unit, round_ = await _own_checklist(deps, ctx, cid)
    facts = await facts_of(deps, unit, round_)
    events = checklist.answer(round_, _answered(deps, cmd, unit.unit_id, ""), facts, ctx.caller.subject)
    response = {"checklist_id": cid, **events[0].model_dump(mode="json")}
    return await deps.checklists.save(checklist, events, ctx, at=unit.path, respond=response)


async def submit(deps: Deps, ctx: CommandContext, cid: str, cmd: SubmitSelfInspection) -> dict[str, Any]:
    checklist, unit, round_ = await _own_checklist(deps, ctx, cid)
    answers = [_answered(deps, a, unit.unit_id, f"answers.{i}.") for i, a in enumerate(cmd.answers)]
    facts = await facts_of(deps, unit, round_)
    now = deps.clock()
    day = deps.day_of(ctx, cmd.submitted_on, "submitted_on")
    at = now if day == now.date() else datetime.combine(day, now.timetz())
    events = checklist.submit(round_, answers, list(cmd.findings), facts, at, ctx.caller.subject)
    response = {"checklist_id": cid, "path": unit.path, **events[0].model_dump(mode="json")}
    return await deps.checklists.save(checklist, events, ctx, at=unit.path, respond=response)


async def amend(deps: Deps, ctx: CommandContext, cid: str, cmd: AmendSelfInspection) -> dict[str, Any]:
    checklist, unit, round_ = await _own_checklist(deps, ctx, cid)
    answers = [_answered(deps, a, unit.unit_id, f"answers.{i}.") for i, a in enumerate(cmd.answers)]
    facts = await facts_of(deps, unit, round_)
    findings = list(cmd.findings) if cmd.findings is not None else None
    events = checklist.amend(round_, cmd.reason, answers, findings, facts, ctx.caller.subject)
    response = {"checklist_id": cid, "path": unit.path, **events[0].model_dump(mode="json")}
    return await deps.checklists.save(checklist, events, ctx, at=unit.path, respond=response)


async def close_round(deps: Deps, ctx: CommandContext, round_id: str, cmd: CloseRound) -> dict[str, Any]:
    round_ = await deps.rounds.get(round_id, field="round_id")
    level = await deps.unit(round_.level_unit_id, what="level")
    ctx.caller.require_official_of(level, *ROUND_OPENERS)
    tally = await deps.records.counts(round_id)
    events = round_.close(deps.today(), cmd.summary, tally["submitted"], tally["overdue"], ctx.caller.subject)
    response = {**events[0].model_dump(mode="json"), "checklists": tally}
    return await deps.rounds.save(round_, events, ctx, at=level.path, respond=response)
