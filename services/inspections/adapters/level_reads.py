"""Reads of an inspections level, served by the level host at ``/levels/{level}/inspections/…``: the
formalism radar with its drill-down and risk-based proposals, overdue self-inspections, open and
overdue corrective actions, rounds, inspections and grades. ``today`` (default: today, UTC) is the day
the time-dependent signs are judged on."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.inspections.adapters import views
from services.inspections.domain import radar
from services.inspections.domain.rulesets import rules_on
from shared.errors import NotFound
from shared.level_host import Level
from shared.membership import level_units
from shared.numbers import Limit, Offset, YearQuery

router = APIRouter(prefix="/inspections", tags=["inspections level"])
Under = Annotated[str | None, Query(max_length=400, description="A unit path inside the level (default: the level).")]
Today = Annotated[date | None, Query(description="The day signs are judged on (default: today).")]


def _day(today: date | None) -> date:
    return today or datetime.now(UTC).date()


@router.get("/radar")
async def radar_view(
    read: Level, under: Under = None, today: Today = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Each unit with signs of formalism, riskiest first, with the reasons; totals per sign."""
    path, day = read.unit(under, "under"), _day(today)
    rules = rules_on(day)
    async with read.db.reader.connect() as conn:
        whole = None if path == read.level else path  # the level's units table holds only its subtree
        page = await views.radar_page(conn, level_units, whole, day, rules, limit, offset)
    return {
        "level": read.level,
        "under": path,
        "today": day.isoformat(),
        "rule_set": rules.version,
        "total": page.total,
        "signals": page.summary,
        "units": [views.risk_view(r) for r in page.units],
    }


@router.get("/radar/units/{unit_id}")
async def radar_unit(read: Level, unit_id: Annotated[str, Path(max_length=64)], today: Today = None) -> dict[str, Any]:
    """Every sign behind one unit's score, with the initiatives, dates and reports behind each."""
    day = _day(today)
    async with read.db.reader.connect() as conn:
        unit = (await conn.execute(level_units.select().where(level_units.c.unit_id == unit_id))).first()
        if unit is None or not read.caller.sees(unit.path):
            raise NotFound(
                f"unit {unit_id} is not in the level {read.level} within your unit's subtree", field="unit_id"
            )
        found = await views.drill_down(conn, level_units, unit_id, day, rules_on(day))
    return {"path": unit.path, "name": unit.name, **found}


@router.get("/radar/proposals")
async def radar_proposals(
    read: Level,
    size: Annotated[int, Query(ge=1, le=1000, description="Units to propose, 1 to 1,000.")] = 10,
    under: Under = None,
    today: Today = None,
) -> dict[str, Any]:
    """A risk-based sample: the riskiest grassroots unions, each with the reasons it is proposed."""
    path, day = read.unit(under, "under"), _day(today)
    rules = rules_on(day)
    async with read.db.reader.connect() as conn:
        page = await views.radar_page(
            conn, level_units, path, day, rules, size, kind="grassroots_union", min_score=rules.radar.risk_min_score
        )
    chosen = [radar.Candidate(r.unit_id, r.path, r.risk) for r in page.units]
    return {
        "level": read.level,
        "today": day.isoformat(),
        "rule_set": rules.version,
        "min_score": rules.radar.risk_min_score,
        "units": [
            {"unit_id": c.unit_id, "path": c.path, "score": c.risk.score, "reasons": list(c.risk.reasons)}
            for c in chosen
        ],
    }


@router.get("/overdue")
async def overdue(
    read: Level, under: Under = None, today: Today = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Self-inspections not submitted by their due date, the latest first."""
    path, day = read.unit(under, "under"), _day(today)
    async with read.db.reader.connect() as conn:
        total, rows = await views.overdue(conn, level_units, path, day, limit, offset)
    return {"level": read.level, "under": path, "today": day.isoformat(), "total": total, "units": rows}


@router.get("/actions")
async def actions(
    read: Level,
    under: Under = None,
    today: Today = None,
    overdue_only: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Corrective actions not verified yet, oldest due date first, overdue ones flagged."""
    path, day = read.unit(under, "under"), _day(today)
    async with read.db.reader.connect() as conn:
        total, rows = await views.open_actions(conn, level_units, path, day, overdue_only, limit, offset)
    return {"level": read.level, "under": path, "today": day.isoformat(), "total": total, "actions": rows}


@router.get("/rounds")
async def rounds(read: Level, today: Today = None) -> dict[str, Any]:
    path, day = read.unit(None, "level"), _day(today)
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "rounds": await views.round_list(conn, level_units, path, day)}


@router.get("/rounds/{round_id}/checklists")
async def round_checklists(
    read: Level,
    round_id: Annotated[str, Path(max_length=64)],
    under: Under = None,
    today: Today = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    path, day = read.unit(under, "under"), _day(today)
    async with read.db.reader.connect() as conn:
        total, rows = await views.round_checklists(conn, level_units, path, round_id, day, limit, offset)
    return {"level": read.level, "round_id": round_id, "total": total, "checklists": rows}


@router.get("/inspections")
async def inspection_list(read: Level, under: Under = None) -> dict[str, Any]:
    path = read.unit(under, "under")
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "inspections": await views.inspection_list(conn, level_units, path)}


@router.get("/grades")
async def grade_list(read: Level, under: Under = None, year: YearQuery | None = None) -> dict[str, Any]:
    path = read.unit(under, "under")
    async with read.db.reader.connect() as conn:
        return {"level": read.level, "grades": await views.grade_list(conn, level_units, path, year)}
