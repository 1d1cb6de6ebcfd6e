"""Reads over the inspections projection's tables: the radar (each unit's risk with the evidence behind it),
the overdue self-inspections, the open and overdue corrective actions, rounds, inspections and grades.

Each read takes the units table it runs beside (a level host's ``level_units``, or the service's copy of
the directory) and the path to read under. A signal counts for the unit accountable for it now: a
sub-unit's for its grassroots union, a merged unit's for the unit it merged into.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.inspections.adapters.tables import (
    actions,
    awarded,
    checklists,
    findings,
    grades,
    initiatives,
    inspected,
    inspections,
    risk,
    rounds,
    signals,
)
from services.inspections.domain import radar
from services.inspections.domain.rulesets import SIGNALS, RuleSet
from shared.subjects import ancestors


def under(units: Table, path: str | None) -> Any:
    """The units at ``path`` and below (``None``: every unit the table holds)."""
    if path is None:
        return literal(True)
    # A range, not LIKE, so the path index serves it: every descendant's path starts with "<path>." and
    # "/" is the character after ".".
    return or_(units.c.path == path, and_(units.c.path > path + ".", units.c.path < path + "/"))


def owner_of(units: Table) -> Any:
    """The unit a unit's signals count for now."""
    return case(
        (units.c.status == "merged", units.c.merged_into),
        (units.c.kind == "sub_unit", units.c.parent_id),
        else_=units.c.unit_id,
    )


@dataclass(frozen=True)
class UnitRisk:
    unit_id: str
    path: str
    name: str
    kind: str
    risk: radar.Risk


@dataclass(frozen=True)
class RadarPage:
    total: int  # units with at least one sign
    summary: dict[str, Any]  # per sign: units showing it, occurrences
    units: list[UnitRisk]


async def radar_page(
    conn: AsyncConnection,
    units: Table,
    path: str | None,
    today: date,
    rules: RuleSet,
    limit: int | None = None,
    offset: int = 0,
    *,
    kind: str | None = None,
    min_score: float | None = None,
) -> RadarPage:
    """The units under ``path`` with at least one sign on ``today``, riskiest first (ties by path): their
    score rows (one per unit on a day) ordered and cut in SQL, with the totals per sign. ``path`` None:
    every unit the table holds (a level's own path at a level host)."""
    on_day = [risk.c.from_day <= today, risk.c.until_day > today]
    chosen = [units.c.status == "active"]
    if path is not None:
        chosen.append(under(units, path))
    if kind is not None:
        chosen.append(units.c.kind == kind)
    if min_score is not None:
        on_day.append(risk.c.score >= min_score)
    if path is None and kind is None:
        # Score rows exist only for units of the table that count for themselves: no join to count them.
        counted = select(risk).where(*on_day).subquery("counted")
    else:
        joined = risk.join(units, units.c.unit_id == risk.c.unit_id)
        counted = select(risk).select_from(joined).where(*on_day, *chosen).subquery("counted")
    totals = (
        await conn.execute(
            select(
                func.count(),
                *(func.coalesce(func.sum(case((counted.c[k] > 0, 1), else_=0)), 0) for k in SIGNALS),
                *(func.coalesce(func.sum(counted.c[k]), 0) for k in SIGNALS),
            )
        )
    ).one()
    n = len(SIGNALS)
    summary = {
        k: {"label": SIGNALS[k], "units": int(totals[1 + i]), "occurrences": int(totals[1 + n + i])}
        for i, k in enumerate(SIGNALS)
    }
    if path is None and kind is None and limit is not None:
        # The page's lowest score first, from the score rows alone: the page then joins only the rows at
        # or above it to their units (for the ties' order by path), not every unit with a sign.
        cut = select(risk.c.score).where(*on_day).order_by(risk.c.score.desc()).offset(offset + limit - 1).limit(1)
        lowest = await conn.scalar(cut)
        if lowest is not None:
            on_day.append(risk.c.score >= lowest)
    query = (
        select(risk, units.c.path, units.c.name, units.c.kind.label("unit_kind"))
        .select_from(risk.join(units, units.c.unit_id == risk.c.unit_id))
        .where(*on_day, *chosen)
        .order_by(risk.c.score.desc(), units.c.path)
        .offset(offset)
    )
    rows = await conn.execute(query.limit(limit) if limit is not None else query)
    found = [
        UnitRisk(r.unit_id, r.path, r.name, r.unit_kind, radar.risk({k: r._mapping[k] for k in SIGNALS}, rules.radar))
        for r in rows
    ]
    return RadarPage(int(totals[0]), summary, found)


async def radar_rows(
    conn: AsyncConnection, units: Table, path: str | None, today: date, rules: RuleSet
) -> list[UnitRisk]:
    """Every unit under ``path`` with at least one sign, riskiest first (ties by path)."""
    return (await radar_page(conn, units, path, today, rules)).units


def risk_view(row: UnitRisk) -> dict[str, Any]:
    return {
        "unit_id": row.unit_id,
        "path": row.path,
        "name": row.name,
        "kind": row.kind,
        "score": row.risk.score,
        "signals": dict(row.risk.counts),
        "reasons": list(row.risk.reasons),
    }


async def accountable_ids(conn: AsyncConnection, units: Table, unit_id: str) -> list[str]:
    """The unit and the units whose signs count for it (its sub-units, units merged into it)."""
    owner = owner_of(units)
    return [uid for (uid,) in await conn.execute(select(units.c.unit_id).where(owner == unit_id))] or [unit_id]


async def drill_down(conn: AsyncConnection, units: Table, unit_id: str, today: date, rules: RuleSet) -> dict[str, Any]:
    """Every sign behind a unit's score, with the initiatives, dates and reports that make it."""
    ids = await accountable_ids(conn, units, unit_id)
    names = {
        r.unit_id: r.path
        for r in await conn.execute(select(units.c.unit_id, units.c.path).where(units.c.unit_id.in_(ids)))
    }
    found: list[dict[str, Any]] = []
    rows = await conn.execute(
        select(signals)
        .where(signals.c.unit_id.in_(ids), signals.c.active_from <= today)
        .order_by(signals.c.active_from)
    )
    for row in rows:
        found.append(
            {
                "signal": row.kind,
                "label": SIGNALS.get(row.kind, row.kind),
                "unit_path": names.get(row.unit_id),
                "since": row.active_from.isoformat(),
                "subject": row.subject,
                "rule_set": row.rule_set,
                "evidence": row.detail,
            }
        )
    cutoff = radar.stale_cutoff(today, rules.radar)
    stale = await conn.execute(
        select(initiatives)
        .where(
            initiatives.c.unit_id.in_(ids),
            initiatives.c.applied_on.is_(None),
            initiatives.c.registered_on <= cutoff,
            initiatives.c.status != "rejected",
        )
        .order_by(initiatives.c.registered_on)
    )
    for row in stale:
        found.append(
            {
                "signal": "never_applied",
                "label": SIGNALS["never_applied"],
                "unit_path": names.get(row.unit_id),
                "since": radar.stale_cutoff(today, rules.radar).isoformat(),
                "subject": row.initiative_id,
                "rule_set": rules.version,
                "evidence": {
                    "initiative_id": row.initiative_id,
                    "title": row.title,
                    "status": row.status,
                    "registered_on": row.registered_on.isoformat(),
                    "months": rules.radar.never_applied_months,
                },
            }
        )
    late = await conn.execute(
        select(actions)
        .where(actions.c.unit_id.in_(ids), actions.c.status == "open", actions.c.due_on < today)
        .order_by(actions.c.due_on)
    )
    for row in late:
        found.append(
            {
                "signal": "action_overdue",
                "label": SIGNALS["action_overdue"],
                "unit_path": names.get(row.unit_id),
                "since": row.due_on.isoformat(),
                "subject": row.action_id,
                "rule_set": rules.version,
                "evidence": {
                    "inspection_id": row.inspection_id,
                    "action_id": row.action_id,
                    "description": row.description,
                    "owner": row.owner,
                    "due_on": row.due_on.isoformat(),
                    "days_overdue": (today - row.due_on).days,
                },
            }
        )
    share = rules.radar.awards_max_official_share
    by_year = await conn.execute(
        select(
            awarded.c.year,
            func.count().label("total"),
            func.sum(case((awarded.c.official, 1), else_=0)).label("officials"),
        )
        .where(awarded.c.by_unit_id.in_(ids))
        .group_by(awarded.c.year)
    )
    for row in by_year:
        if row.officials * 1.0 > row.total * share:
            found.append(
                {
                    "signal": "awards_to_officials",
                    "label": SIGNALS["awards_to_officials"],
                    "unit_path": names.get(unit_id),
                    "since": f"{row.year}-01-01",
                    "subject": str(row.year),
                    "rule_set": rules.version,
                    "evidence": {
                        "year": row.year,
                        "awards": row.total,
                        "to_officials": row.officials,
                        "to_direct_workers": row.total - row.officials,
                        "max_share": share,
                    },
                }
            )
    return {"unit_id": unit_id, "today": today.isoformat(), "rule_set": rules.version, "signals": found}


async def overdue(
    conn: AsyncConnection, units: Table, path: str | None, today: date, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """Self-inspections not submitted by their due date, the latest first (oldest due date)."""
    where = and_(
        checklists.c.status == "issued", checklists.c.due_on < today, under(units, path), units.c.status == "active"
    )
    joined = checklists.join(units, units.c.unit_id == checklists.c.unit_id).join(
        rounds, rounds.c.round_id == checklists.c.round_id, isouter=True
    )
    total = await conn.scalar(select(func.count()).select_from(joined).where(where)) or 0
    rows = await conn.execute(
        select(checklists, units.c.path, units.c.name, rounds.c.title, rounds.c.level_path)
        .select_from(joined)
        .where(where)
        .order_by(checklists.c.due_on, units.c.path)
        .limit(limit)
        .offset(offset)
    )
    return total, [
        {
            "unit_id": r.unit_id,
            "path": r.path,
            "name": r.name,
            "round_id": r.round_id,
            "round": r.title,
            "round_level": r.level_path,
            "year": r.year,
            "period": r.period,
            "due_on": r.due_on.isoformat(),
            "days_late": (today - r.due_on).days,
            "recorded_overdue_on": _iso(r.overdue_detected),
        }
        for r in rows
    ]


async def open_actions(
    conn: AsyncConnection, units: Table, path: str | None, today: date, only_overdue: bool, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """Corrective actions not verified yet, oldest due date first; overdue ones are flagged."""
    owner = owner_of(units)
    o = units.alias("o")
    conds = [actions.c.status != "verified", under(o, path)]
    if only_overdue:
        conds += [actions.c.status == "open", actions.c.due_on < today]
    joined = actions.join(units, units.c.unit_id == actions.c.unit_id).join(o, o.c.unit_id == owner)
    joined = joined.join(findings, findings.c.finding_id == actions.c.finding_id, isouter=True)
    total = await conn.scalar(select(func.count()).select_from(joined).where(*conds)) or 0
    rows = await conn.execute(
        select(actions, o.c.path, o.c.name, findings.c.severity, findings.c.description.label("finding"))
        .select_from(joined)
        .where(*conds)
        .order_by(actions.c.due_on, actions.c.action_id)
        .limit(limit)
        .offset(offset)
    )
    return total, [
        {
            "action_id": r.action_id,
            "inspection_id": r.inspection_id,
            "unit_id": r.unit_id,
            "path": r.path,
            "name": r.name,
            "finding_id": r.finding_id,
            "finding": r.finding,
            "severity": r.severity,
            "description": r.description,
            "owner": r.owner,
            "due_on": r.due_on.isoformat(),
            "status": r.status,
            "overdue": r.status == "open" and r.due_on < today,
            "days_overdue": max(0, (today - r.due_on).days) if r.status == "open" else 0,
            "fix_reported_on": _iso(r.fix_reported_on),
            "reopened": r.reopened,
        }
        for r in rows
    ]


async def round_list(conn: AsyncConnection, units: Table, path: str, today: date) -> list[dict[str, Any]]:
    """Rounds opened at the level, above it (they reach it) or below it, with their checklists' states."""
    seen = or_(rounds.c.level_path.in_([*ancestors(path), path]), rounds.c.level_path.like(path + ".%"))
    state = case(
        (and_(checklists.c.status == "issued", checklists.c.due_on < today), "overdue"), else_=checklists.c.status
    ).label("state")
    tallies = await conn.execute(
        select(checklists.c.round_id, state, func.count())
        .select_from(checklists.join(units, units.c.unit_id == checklists.c.unit_id))
        .where(under(units, path))
        .group_by(checklists.c.round_id, state)
    )
    counted: dict[str, dict[str, int]] = {}
    for round_id, name, n in tallies:
        counted.setdefault(round_id, {})[name] = n
    rows = await conn.execute(select(rounds).where(seen).order_by(rounds.c.opened_on.desc(), rounds.c.round_id))
    return [
        {
            "round_id": r.round_id,
            "level_path": r.level_path,
            "year": r.year,
            "period": r.period,
            "title": r.title,
            "opened_on": r.opened_on.isoformat(),
            "due_on": r.due_on.isoformat(),
            "status": r.status,
            "checklists": {
                k: counted.get(r.round_id, {}).get(k, 0) for k in ("issued", "submitted", "overdue", "withdrawn")
            },
        }
        for r in rows
    ]


async def round_checklists(
    conn: AsyncConnection, units: Table, path: str, round_id: str, today: date, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    where = and_(checklists.c.round_id == round_id, under(units, path))
    joined = checklists.join(units, units.c.unit_id == checklists.c.unit_id)
    total = await conn.scalar(select(func.count()).select_from(joined).where(where)) or 0
    rows = await conn.execute(
        select(checklists, units.c.path, units.c.name)
        .select_from(joined)
        .where(where)
        .order_by(units.c.path)
        .limit(limit)
        .offset(offset)
    )
    return total, [
        {
            "unit_id": r.unit_id,
            "path": r.path,
            "name": r.name,
            "status": r.status,
            "overdue": r.status == "issued" and r.due_on < today,
            "due_on": r.due_on.isoformat(),
            "submitted_at": _iso(r.submitted_at),
            "days_late": r.days_late,
            "contradictions": r.contradictions,
            "amendments": r.amendments,
        }
        for r in rows
    ]


async def inspection_list(conn: AsyncConnection, units: Table, path: str) -> list[dict[str, Any]]:
    """Inspections made by the level or below it, and those of units of the level by a level above."""
    mine = or_(inspections.c.by_path == path, inspections.c.by_path.like(path + ".%"))
    of_mine = inspections.c.inspection_id.in_(
        select(inspected.c.inspection_id).join(units, units.c.unit_id == inspected.c.unit_id).where(under(units, path))
    )
    rows = await conn.execute(select(inspections).where(or_(mine, of_mine)).order_by(inspections.c.period_from.desc()))
    found = []
    for r in rows:
        listed = await conn.execute(
            select(inspected.c.unit_id, inspected.c.reasons, units.c.path)
            .join(units, units.c.unit_id == inspected.c.unit_id, isouter=True)
            .where(inspected.c.inspection_id == r.inspection_id)
        )
        found.append(
            {
                "inspection_id": r.inspection_id,
                "by_path": r.by_path,
                "content": r.content,
                "purpose": r.purpose,
                "status": r.status,
                "period_from": r.period_from.isoformat(),
                "period_to": r.period_to.isoformat(),
                "selection": r.selection,
                "notice": r.notice,
                "decision": r.decision,
                "conclusion": r.conclusion,
                "units": [{"unit_id": u.unit_id, "path": u.path, "reasons": u.reasons} for u in listed],
            }
        )
    return found


async def grade_list(conn: AsyncConnection, units: Table, path: str, year: int | None) -> list[dict[str, Any]]:
    conds = [under(units, path)] + ([grades.c.year == year] if year else [])
    rows = await conn.execute(
        select(grades, units.c.path, units.c.name)
        .join(units, units.c.unit_id == grades.c.unit_id)
        .where(*conds)
        .order_by(grades.c.year.desc(), units.c.path)
    )
    return [
        {
            "unit_id": r.unit_id,
            "path": r.path,
            "name": r.name,
            "year": r.year,
            "union_type": r.union_type,
            "self_grade": r.self_grade,
            "self_points": r.self_points,
            "grade": r.grade,
            "points": r.points,
            "confirmed": r.grade is not None,
            "changed": r.changed,
            "reason": r.reason,
            "revision": r.revision,
            "rule_set": r.rule_set,
            "confirmed_by": r.by_path,
        }
        for r in rows
    ]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
