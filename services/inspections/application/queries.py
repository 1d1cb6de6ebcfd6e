"""Reads the service answers itself (the level views are the level host's): a checklist as its unit or
the levels above may see it, a round, an inspection with its findings and actions, a unit's grade."""

from typing import Any

from contracts.inspections import (
    CommitmentItem,
    CorrectiveActionAssigned,
    CorrectiveActionFixReported,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    FindingRecorded,
    GradeConfirmed,
    SelfGraded,
)
from services.inspections.application.deps import Deps, grading_id, inspected_id
from services.inspections.application.selfinspection import facts_of
from services.inspections.domain.rulesets import GRADE_LABELS
from services.inspections.domain.selfinspection import contradiction
from shared.identity import Caller
from shared.subjects import ancestors, in_subtree


async def checklist(deps: Deps, caller: Caller, cid: str) -> dict[str, Any]:
    """The unit's own officials see their drafts and every contradiction as they answer; the levels
    above see the answers and contradictions once it is submitted. ``now`` is each item in the facts of
    the checklist's window (its half-year or its year), as they are today."""
    found = await deps.checklists.get(cid, field="checklist_id")
    unit = await deps.unit(found.unit_id)
    own = caller.is_admin or caller.is_at(unit)
    if not own:
        caller.require_subtree(unit.path, hide=True)
    round_ = await deps.rounds.get(found.round_id)
    facts = (await facts_of(deps, unit, round_)).items()
    shown = own or found.status == "submitted"
    submitted = {c.item: c for c in found.contradictions}
    items = []
    for key, issued in found.items.items():
        now = facts.get(key, issued)
        answer = found.answers.get(key) if shown else None
        flag = contradiction(answer, now) if own and answer is not None else submitted.get(key) if shown else None
        entry: dict[str, Any] = {
            "key": key,
            "kind": "commitment" if isinstance(issued, CommitmentItem) else "initiative",
            "issued": issued.model_dump(mode="json"),
            "now": now.model_dump(mode="json"),
            "answer": answer.model_dump(mode="json") if answer else None,
            "contradiction": flag.model_dump(mode="json") if flag else None,
        }
        items.append(entry)
    today = deps.today()
    return {
        "checklist_id": cid,
        "unit_id": unit.unit_id,
        "path": unit.path,
        "name": unit.name,
        "round_id": found.round_id,
        "year": round_.year,
        "period": round_.period,
        "window": {"from": round_.window.starts_on.isoformat(), "to": round_.window.ends_on.isoformat()},
        "due_on": found.due_on.isoformat(),
        "status": found.status,
        "overdue": found.status == "issued" and today > found.due_on,
        "days_late": max(0, (today - found.due_on).days) if found.status == "issued" else None,
        "amendments": found.amendments,
        "findings": list(found.findings) if shown else [],
        "contradictions": [c.model_dump(mode="json") for c in found.contradictions] if shown else [],
        "items": items,
        "drafts_visible": own,
    }


async def round_view(deps: Deps, caller: Caller, round_id: str) -> dict[str, Any]:
    found = await deps.rounds.get(round_id, field="round_id")
    level = await deps.unit(found.level_unit_id, what="level")
    if not (caller.sees(level.path) or (caller.unit is not None and level.path in ancestors(caller.unit_path))):
        caller.require_subtree(level.path, hide=True)
    return {
        "round_id": round_id,
        "level_unit_id": level.unit_id,
        "level_path": level.path,
        "year": found.year,
        "period": found.period,
        "window": {"from": found.window.starts_on.isoformat(), "to": found.window.ends_on.isoformat()},
        "due_on": found.due_on.isoformat(),
        "closed": found.closed,
        "rule_set": found.rule_set,
        "checklists": await deps.records.counts(round_id),
    }


async def inspection_view(deps: Deps, caller: Caller, inspection_id: str) -> dict[str, Any]:
    found = await deps.inspections.get(inspection_id, field="inspection_id")
    scheduled = found.scheduled
    assert scheduled is not None  # an inspection's stream starts with its scheduling
    by = await deps.unit(found.by_unit_id, what="inspecting level")
    paths = await deps.directory.paths(list(found.units))
    visible = [uid for uid in found.units if caller.sees(paths.get(uid, ""))]
    if not caller.sees(by.path) and not visible:
        caller.require_subtree(by.path, hide=True)
    units = []
    for unit_id in found.units if caller.sees(by.path) else visible:
        findings: list[dict[str, Any]] = []
        acts: dict[str, dict[str, Any]] = {}
        for env in await deps.store.load(deps.inspected.stream(inspected_id(inspection_id, unit_id))):
            event = env.to_event()
            match event:
                case FindingRecorded():
                    findings.append(event.model_dump(mode="json"))
                case CorrectiveActionAssigned():
                    acts[event.action_id] = {**event.model_dump(mode="json"), "status": "open", "history": []}
                case CorrectiveActionFixReported() | CorrectiveActionVerified() | CorrectiveActionReopened():
                    step = {"event": env.event_type, "at": env.occurred_at.isoformat(), **event.model_dump(mode="json")}
                    act = acts[event.action_id]
                    act["history"].append(step)
                    act["status"] = {
                        "CorrectiveActionFixReported": "fix_reported",
                        "CorrectiveActionVerified": "verified",
                    }.get(env.event_type, "open")
                    if isinstance(event, CorrectiveActionReopened):
                        act["due_on"] = event.due_on.isoformat()
        selected = found.units[unit_id]
        units.append(
            {
                "unit_id": unit_id,
                "path": paths.get(unit_id, selected.path),
                "selected_as": selected.path,
                "reasons": list(selected.reasons),
                "findings": findings,
                "actions": list(acts.values()),
            }
        )
    return {
        "inspection_id": inspection_id,
        "by_unit_id": by.unit_id,
        "by_path": by.path,
        "status": found.status,
        "content": found.content,
        "purpose": scheduled.purpose,
        "plan_id": scheduled.plan_id,
        "period_from": scheduled.period_from.isoformat(),
        "period_to": scheduled.period_to.isoformat(),
        "selection": scheduled.selection.model_dump(mode="json"),
        "notice": found.notice.model_dump(mode="json") if found.notice else None,
        "decision": found.decision.model_dump(mode="json") if found.decision else None,
        "conclusion": found.conclusion.model_dump(mode="json") if found.conclusion else None,
        "team": [m.model_dump() for m in found.team.values()],
        "units": units,
    }


async def grade_view(deps: Deps, caller: Caller, unit_id: str, year: int) -> dict[str, Any]:
    """A unit's grade and its history; published to the unit's members (and the levels above)."""
    unit = await deps.unit(unit_id)
    if not (caller.sees(unit.path) or (caller.unit is not None and in_subtree(caller.unit_path, unit.path))):
        caller.require_subtree(unit.path, hide=True)
    history = []
    for env in await deps.store.load(deps.gradings.stream(grading_id(unit_id, year))):
        event = env.to_event()
        if isinstance(event, SelfGraded | GradeConfirmed):
            history.append(
                {"event": env.event_type, "at": env.occurred_at.isoformat(), **event.model_dump(mode="json")}
            )
    if not history:
        await deps.gradings.get(grading_id(unit_id, year), field="year")  # the 404
    confirmed = next((h for h in reversed(history) if h["event"] == "GradeConfirmed"), None)
    return {
        "unit_id": unit_id,
        "path": unit.path,
        "year": year,
        "grade": confirmed["grade"] if confirmed else None,
        "label": GRADE_LABELS[confirmed["grade"]] if confirmed else None,
        "confirmed": confirmed is not None,
        "history": history,
    }
