"""Yearly grading of grassroots unions: the union scores itself on the indicator set of its kind, the parent
level confirms or changes the grade with a reason. The service judges eligibility and thresholds.
"""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Session
from services.portal.entrypoints import forms
from services.portal.entrypoints.i18n import _
from services.portal.entrypoints.inspections_common import (
    GRADES,
    GRASSROOTS,
    SERVICE,
    UNION_TYPES,
    level_of,
    not_done,
    person_of,
    said_of,
    send,
    unit_at,
)
from services.portal.entrypoints.problems import Said
from services.portal.entrypoints.web import Api, Form, SignedIn, redirect, render, require_sees

# Included before the inspections router: its ``/inspections/{id}`` would take ``/inspections/grades``.
router = APIRouter(prefix="/inspections")


def graded_year(today: date) -> int:
    """The year a union grades now: this year from December (when grading opens), else the last one."""
    return today.year if today.month == 12 else today.year - 1


@router.get("/grades")
async def grades_page(request: Request, session: SignedIn, api: Api, unit: str | None = None,
                      year: int | None = None) -> Response:  # fmt: skip
    return await _grades(request, session, api, unit, year)


async def _grades(
    request: Request, session: Session, api: Platform, here: str | None = None, year: int | None = None,
    said: Said | None = None, values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = person_of(session)
    here = here or person.unit_path
    require_sees(person, here)
    unit = await unit_at(api, session, here)
    listed = await api.level(SERVICE, level_of(api, here), "/inspections/grades", session.token, under=here, year=year)
    typed = values or {}
    indicators = [typed[k] for k in sorted(typed) if k.startswith("scores.") and k.endswith(".code") and typed[k]]
    return render(
        request, "inspections/grades.html", status=status, unit=unit, grades=listed["grades"], year=year,
        can_grade=unit["kind"] == GRASSROOTS and here == person.unit_path, said=said,
        values=values or {"year": str(graded_year(date.today()))}, union_types=UNION_TYPES, indicators=indicators,
    )  # fmt: skip


@router.post("/grades")
async def self_grade(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    person = person_of(session)
    unit = await unit_at(api, session, person.unit_path)
    scores = {
        row["code"]: row.get("points") for row in forms.rows(form, "scores", numbers=("points",)) if "code" in row
    }
    body = {"unit_id": unit["unit_id"], **forms.fields(form, "year", "union_type", numbers=("year",)), "scores": scores}
    try:
        await send(api, session, "/grades", body, form)
    except Problem as problem:
        said = not_done(said_of(problem), ("year", "union_type", "scores"))
        values = forms.values(form)
        missing = (problem.body.get("params") or {}).get("missing") or []
        known = {v for k, v in values.items() if k.endswith(".code")}
        extra = [code for code in missing if code not in known]
        start = sum(1 for k in values if k.endswith(".code"))
        for n, code in enumerate(extra):
            values[f"scores.{start + n}.code"] = code
        return await _grades(request, session, api, said=said, values=values, status=problem.status)
    session.flash.append(("ok", _("The self-grading is recorded. The parent level confirms or changes it.")))
    return redirect(f"/inspections/grades/{unit['unit_id']}/{body.get('year')}")


@router.get("/grades/{unit_id}/{year}")
async def grade_page(request: Request, unit_id: str, year: int, session: SignedIn, api: Api) -> Response:
    return await _grade(request, session, api, unit_id, year)


async def _grade(
    request: Request, session: Session, api: Platform, unit_id: str, year: int, said: Said | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = person_of(session)
    g = await api.query(SERVICE, f"/grades/{unit_id}/{year}", session.token)
    parent = ".".join(g["path"].split(".")[:-1])
    scores: list[dict[str, Any]] = []
    for h in g["history"]:
        scores = h.get("scores") or scores  # the latest self-grading's points per indicator
    return render(
        request, "inspections/grade.html", status=status, g=g, scores=scores, grades=GRADES,
        can_confirm=person.unit_path == parent, said=said, values=values or {},
    )  # fmt: skip


@router.post("/grades/{unit_id}/{year}/confirm")
async def confirm_grade(request: Request, unit_id: str, year: int, session: SignedIn, api: Api, form: Form) -> Response:
    body: dict[str, Any] = {"reason": str(form.get("reason") or "").strip()}
    if forms.text(form, "grade"):
        body["grade"] = forms.text(form, "grade")
    try:
        await send(api, session, f"/grades/{unit_id}/{year}/confirm", body, form)
    except Problem as problem:
        said = not_done(said_of(problem), ("grade", "reason"))
        return await _grade(request, session, api, unit_id, year, said, forms.values(form), problem.status)
    session.flash.append(("ok", _("The grade is confirmed.")))
    return redirect(f"/inspections/grades/{unit_id}/{year}")
