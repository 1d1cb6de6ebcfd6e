"""Inspections: the pre-filled self-inspection checklist (the facts beside each answer, the contradiction
flag shown as soon as an answer is saved, before the checklist is submitted), rounds and overdue units,
planning an inspection from a proposed sample with its reasons, notice and decision, findings and
corrective actions, the yearly grading, the formalism radar and the dashboard's inspections figures.

The portal holds no inspection rule: the service judges contradictions, samples and grades; the level
hosts serve the lists. Every list and figure is read within the person's subtree.
"""

import asyncio
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Session
from services.portal.entrypoints import forms
from services.portal.entrypoints.i18n import N_, _
from services.portal.entrypoints.inspections_common import (
    CONTENTS,
    GRASSROOTS,
    SERVICE,
    SEVERITIES,
    TEAM_ROLES,
    checklist_id,
    evidence,
    level_of,
    lines_of,
    not_done,
    or_empty,
    person_of,
    said_of,
    send,
    unit_at,
)
from services.portal.entrypoints.problems import Said
from services.portal.entrypoints.web import Api, Form, SignedIn, hx, redirect, render, require_sees
from shared.subjects import in_subtree

router = APIRouter(prefix="/inspections")

# -- the hub: rounds, my checklists, overdue units, open actions, inspections, the radar ---------------


def _linked(overdue: dict[str, Any] | None) -> dict[str, Any] | None:
    """Each overdue unit with the id of its checklist (the level's view names the unit and the round)."""
    for row in (overdue or {}).get("units", []):
        row["checklist_id"] = checklist_id(row["unit_id"], row["year"], row["period"])
    return overdue


async def _hub(
    request: Request, session: Session, api: Platform, here: str | None = None, said: Said | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = person_of(session)
    here = here or person.unit_path
    require_sees(person, here)
    level = level_of(api, here)
    unit = await unit_at(api, session, here)
    token = session.token

    def read(path: str, empty: dict[str, Any], **params: Any) -> Any:
        return or_empty(api.level(SERVICE, level, f"/inspections/{path}", token, **params), empty)

    rounds, overdue, actions, radar, listed = await asyncio.gather(
        read("rounds", {"rounds": []}),
        read("overdue", {"total": 0, "units": []}, under=here, limit=10),
        read("actions", {"total": 0, "actions": []}, under=here, limit=10),
        read("radar", {"total": 0, "units": []}, under=here, limit=10),
        read("inspections", {"inspections": []}, under=here),
    )
    _linked(overdue)
    mine: list[dict[str, Any]] = []
    if unit["kind"] == GRASSROOTS:
        for r in rounds["rounds"][:6]:
            found = await or_empty(
                api.level(SERVICE, level, f"/inspections/rounds/{r['round_id']}/checklists", token, under=here),
                {"checklists": []},
            )
            for row in found["checklists"]:
                if row["unit_id"] == unit["unit_id"]:
                    mine.append(
                        {**row, "round": r, "checklist_id": checklist_id(row["unit_id"], r["year"], r["period"])}
                    )
    return render(
        request, "inspections/index.html", status=status, unit=unit, unit_path=here, rounds=rounds["rounds"],
        overdue=overdue, actions=actions, radar=radar, inspections=listed["inspections"][:20], mine=mine,
        acting=here == person.unit_path, is_level=unit["kind"] != GRASSROOTS, said=said,
        values=values or {"year": str(date.today().year)}, today=date.today().isoformat(),
    )  # fmt: skip


@router.get("")
async def hub(request: Request, session: SignedIn, api: Api, unit: str | None = None) -> Response:
    return await _hub(request, session, api, unit)


@router.post("/rounds")
async def open_round(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    person = person_of(session)
    unit = await unit_at(api, session, person.unit_path)
    body = {
        "level_unit_id": unit["unit_id"],
        **forms.fields(form, "year", "period", "title", "due_on", numbers=("year",)),
    }
    try:
        answer = await send(api, session, "/rounds", body, form)
    except Problem as problem:
        said = not_done(said_of(problem), ("title", "year", "period", "due_on"))
        return await _hub(request, session, api, said=said, values=forms.values(form), status=problem.status)
    session.flash.append(("ok", _("The round is open: {n} grassroots unions received their checklist.",
                                  n=answer.get("unit_count", 0))))  # fmt: skip
    return redirect(f"/inspections/rounds/{answer['round_id']}")


@router.get("/rounds/{round_id}")
async def round_page(request: Request, round_id: str, session: SignedIn, api: Api, offset: int = 0) -> Response:
    person = person_of(session)
    found = await api.query(SERVICE, f"/rounds/{round_id}", session.token)
    here = found["level_path"] if in_subtree(found["level_path"], person.unit_path) else person.unit_path
    level = level_of(api, here)
    offset = max(0, offset)
    rows = await api.level(
        SERVICE,
        level,
        f"/inspections/rounds/{round_id}/checklists",
        session.token,
        under=here,
        limit=100,
        offset=offset,
    )
    for row in rows["checklists"]:
        row["checklist_id"] = checklist_id(row["unit_id"], found["year"], found["period"])
    return render(
        request, "inspections/round.html", r=found, rows=rows, offset=offset,
        can_check=person.unit_path == found["level_path"],
    )  # fmt: skip


@router.post("/rounds/{round_id}/overdue-check")
async def overdue_check(request: Request, round_id: str, session: SignedIn, api: Api, form: Form) -> Response:
    try:
        answer = await send(api, session, f"/rounds/{round_id}/overdue-check", {}, form)
    except Problem as problem:
        said = said_of(problem)
        session.flash.append(("error", " ".join([_("Not done:"), *said.general, *said.fields.values()])))
        return redirect(f"/inspections/rounds/{round_id}")
    count = int(answer.get("overdue_recorded") or 0)
    session.flash.append(("ok", _("Overdue checklists recorded now: {n}.", n=count)))
    return redirect(f"/inspections/rounds/{round_id}")


# -- the self-inspection checklist -----------------------------------------------------------------------


async def _checklist(api: Platform, session: Session, cid: str) -> dict[str, Any]:
    found = await api.query(SERVICE, f"/checklists/{cid}", session.token)
    for index, item in enumerate(found["items"]):
        item["index"] = index
    return found


def _editable(c: dict[str, Any]) -> bool:
    return bool(c["drafts_visible"]) and c["status"] == "issued"


@router.get("/checklists/{cid}")
async def checklist_page(request: Request, cid: str, session: SignedIn, api: Api) -> Response:
    c = await _checklist(api, session, cid)
    return render(request, "inspections/checklist.html", c=c, editable=_editable(c), said=None, values={})


@router.post("/checklists/{cid}/answers")
async def answer_item(request: Request, cid: str, session: SignedIn, api: Api, form: Form) -> Response:
    """One answer saved; the page (or, with htmx, the item) shows at once whether the facts contradict it."""
    body = {
        "item": str(form.get("item") or ""), "answer": str(form.get("answer") or ""),
        "comment": str(form.get("comment") or "").strip(), "evidence": evidence(form),
    }  # fmt: skip
    said = None
    try:
        await send(api, session, f"/checklists/{cid}/answers", body, form)
    except Problem as problem:
        said = said_of(problem)
    c = await _checklist(api, session, cid)
    item = next((i for i in c["items"] if i["key"] == body["item"]), None)
    if item is None:
        raise Problem(404, {"code": "portal.not_found"})
    values = forms.values(form) if said else {}
    if hx(request):
        # htmx swaps only successful answers: the refusal is part of the item it replaces (said inside).
        return render(request, "inspections/item.html", c=c, item=item, editable=_editable(c), said=said,
                      values={f"i{item['index']}.{k}": v for k, v in values.items()})  # fmt: skip
    if said is None:
        return redirect(f"/inspections/checklists/{cid}#item-{item['index']}")
    return render(
        request, "inspections/checklist.html", status=422, c=c, editable=_editable(c), said=None, values={},
        item_said={item["key"]: said}, item_values={f"i{item['index']}.{k}": v for k, v in values.items()},
    )  # fmt: skip


@router.post("/checklists/{cid}/{action}")
async def checklist_action(
    request: Request, cid: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    if action == "submit":
        body: dict[str, Any] = {"findings": lines_of(form, "findings")}
        done = _("The self-inspection is submitted. The levels above now see its answers and flags.")
    elif action == "amend":
        body = {**forms.fields(form, "reason"), "answers": []}
        if forms.text(form, "item") and forms.text(form, "answer"):
            body["answers"] = [{
                "item": str(form.get("item")), "answer": str(form.get("answer")),
                "comment": str(form.get("comment") or "").strip(), "evidence": evidence(form),
            }]  # fmt: skip
        if lines_of(form, "findings"):
            body["findings"] = lines_of(form, "findings")
        done = _("The amendment is recorded with its reason.")
    else:
        raise Problem(404, {"code": "portal.not_found"})
    try:
        await send(api, session, f"/checklists/{cid}/{action}", body, form)
    except Problem as problem:
        said = not_done(said_of(problem), ("findings", "reason", "comment", "evidence.text", "evidence.links"))
        c = await _checklist(api, session, cid)
        values = {f"{action}.{k}": v for k, v in forms.values(form).items()}
        return render(request, "inspections/checklist.html", status=problem.status, c=c, editable=_editable(c),
                      said=said, values=values, failed=action)  # fmt: skip
    session.flash.append(("ok", done))
    return redirect(f"/inspections/checklists/{cid}")


# -- upper-level inspections: plan from a sample, notice, decision, findings, corrective actions ---------


async def _officials(api: Platform, session: Session, unit: dict[str, Any]) -> list[dict[str, Any]]:
    members = await api.query("directory", f"/units/{unit['unit_id']}/members", session.token, limit=200)
    return [m for m in members["items"] if set(m.get("roles", [])) & set(TEAM_ROLES)]


async def _plan_page(
    request: Request, session: Session, api: Platform, params: dict[str, str], said: Said | None = None,
    values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = person_of(session)
    unit = await unit_at(api, session, person.unit_path)
    method = params.get("method") or ""
    proposal, proposal_said = None, None
    if method in ("random", "risk"):
        size = forms.number(params.get("size") or "5")
        seed = forms.number(params["seed"]) if params.get("seed") else None
        try:
            proposal = await api.query(SERVICE, "/proposals", session.token, by_unit_id=unit["unit_id"],
                                       method=method, size=size, seed=seed)  # fmt: skip
        except Problem as problem:
            proposal_said = said_of(problem)
        if proposal is not None:
            names = await api.unit_names([u["path"] for u in proposal["units"] if not u.get("name")], session.token)
            for u in proposal["units"]:
                u["name"] = u.get("name") or names.get(u["path"], u["path"])
    officials = await _officials(api, session, unit)
    return render(
        request, "inspections/plan.html", status=status, unit=unit, method=method, params=params, proposal=proposal,
        proposal_said=proposal_said, officials=officials, said=said, values=values or {}, contents=CONTENTS,
        me=person.subject,
    )  # fmt: skip


@router.get("/plan")
async def plan_form(request: Request, session: SignedIn, api: Api) -> Response:
    return await _plan_page(request, session, api, dict(request.query_params))


@router.post("/plan")
async def schedule(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    person = person_of(session)
    unit = await unit_at(api, session, person.unit_path)
    method = str(form.get("method") or "manual")
    selection: dict[str, Any] = {"method": method}
    if method in ("random", "risk"):
        selection["size"] = forms.number(forms.text(form, "size") or "")
    if method == "random":
        selection["seed"] = forms.number(forms.text(form, "seed") or "")
    body = {
        "by_unit_id": unit["unit_id"], **forms.fields(form, "purpose", "content", "period_from", "period_to"),
        "team": [str(v) for v in form.getlist("team")], "selection": selection,
        "units": [] if method == "random" else [str(v) for v in form.getlist("units")],
    }  # fmt: skip
    try:
        answer = await send(api, session, "/inspections", body, form)
    except Problem as problem:
        params = {k: str(form.get(k) or "") for k in ("method", "size", "seed")}
        said = not_done(said_of(problem), ("purpose", "content", "period_from", "period_to", "team"))
        values = {**forms.values(form), "units": ",".join(str(v) for v in form.getlist("units"))}
        return await _plan_page(request, session, api, params, said, values, problem.status)
    session.flash.append(("ok", _("The inspection is scheduled. Issue its notice next.")))
    return redirect(f"/inspections/{answer['inspection_id']}")


@router.get("/radar")
async def radar_page(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, offset: int = 0
) -> Response:
    person = person_of(session)
    here = unit or person.unit_path
    require_sees(person, here)
    offset = max(0, offset)
    found = await api.level(SERVICE, level_of(api, here), "/inspections/radar", session.token, under=here,
                            limit=50, offset=offset)  # fmt: skip
    return render(request, "inspections/radar.html", radar=found, unit_path=here, offset=offset)


@router.get("/radar/{unit_id}")
async def radar_unit(request: Request, unit_id: str, session: SignedIn, api: Api) -> Response:
    """What a unit's risk score counts: every sign with the initiatives, reports and actions behind it."""
    person = person_of(session)
    unit = await api.query("directory", f"/units/{unit_id}", session.token)
    require_sees(person, unit["path"])
    found = await api.level(SERVICE, level_of(api, unit["path"]), f"/inspections/radar/units/{unit_id}", session.token)
    return render(request, "inspections/radar_unit.html", d=found, unit=unit)


@router.get("/overdue")
async def overdue_page(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, offset: int = 0
) -> Response:
    person = person_of(session)
    here = unit or person.unit_path
    require_sees(person, here)
    offset = max(0, offset)
    found = await api.level(SERVICE, level_of(api, here), "/inspections/overdue", session.token, under=here,
                            limit=50, offset=offset)  # fmt: skip
    return render(request, "inspections/overdue.html", overdue=_linked(found), unit_path=here, offset=offset)


@router.get("/actions")
async def actions_page(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, offset: int = 0, overdue: bool = False
) -> Response:
    person = person_of(session)
    here = unit or person.unit_path
    require_sees(person, here)
    offset = max(0, offset)
    found = await api.level(SERVICE, level_of(api, here), "/inspections/actions", session.token, under=here,
                            overdue_only=overdue, limit=50, offset=offset)  # fmt: skip
    return render(request, "inspections/actions.html", actions=found, unit_path=here, offset=offset, overdue=overdue)


@router.get("/dashboard-part")
async def dashboard_part(request: Request, session: SignedIn, api: Api, unit: str | None = None) -> Response:
    """The dashboard's inspections panels (loaded into it): overdue self-inspections, open corrective
    actions oldest first, the radar's top signals; each figure opens the list it counts."""
    person = person_of(session)
    here = unit or person.unit_path
    require_sees(person, here)
    level, token = level_of(api, here), session.token
    overdue, actions, radar = await asyncio.gather(
        or_empty(api.level(SERVICE, level, "/inspections/overdue", token, under=here, limit=5), None),
        or_empty(api.level(SERVICE, level, "/inspections/actions", token, under=here, limit=5), None),
        or_empty(api.level(SERVICE, level, "/inspections/radar", token, under=here, limit=5), None),
    )
    return render(request, "inspections/dashboard_part.html", overdue=_linked(overdue), actions=actions, radar=radar,
                  unit_path=here)  # fmt: skip


# -- one inspection (its routes last: ``/inspections/{id}`` would take the names above) -------------------


async def _inspection(
    request: Request, session: Session, api: Platform, inspection_id: str, said: Said | None = None,
    failed: str = "", values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = person_of(session)
    found = await api.query(SERVICE, f"/inspections/{inspection_id}", session.token)
    inspecting = person.unit_path == found["by_path"]
    for u in found["units"]:
        u["ours"] = person.unit_path == u["path"]
        u["verifier"] = inspecting or (in_subtree(u["path"], person.unit_path) and person.unit_path != u["path"])
    return render(
        request, "inspections/inspection.html", status=status, i=found, s=found, inspecting=inspecting,
        said=said, failed=failed, values=values or {}, severities=SEVERITIES, today=date.today().isoformat(),
    )  # fmt: skip


@router.get("/{inspection_id}")
async def inspection_page(request: Request, inspection_id: str, session: SignedIn, api: Api) -> Response:
    return await _inspection(request, session, api, inspection_id)


def _inspection_body(action: str, form: Any) -> dict[str, Any]:
    if action == "notice":
        return forms.fields(form, "number", "issued_on", "starts_on")
    if action == "decision":
        return forms.fields(form, "number", "decided_on")
    if action == "conclusion":
        return forms.fields(form, "conclusion")
    if action == "findings":
        return {**forms.fields(form, "severity", "description", "recommendation"), "evidence": evidence(form)}
    if action == "actions":
        return forms.fields(form, "finding_id", "description", "owner", "due_on")
    if action == "fix":
        return {**forms.fields(form, "description"), "evidence": evidence(form)}
    if action == "verify":
        return {"note": str(form.get("note") or "").strip()}
    if action == "reopen":
        return forms.fields(form, "reason", "due_on")
    raise Problem(404, {"code": "portal.not_found"})


# The fields the inspection page's forms show a message beside.
INSPECTION_FIELDS = (
    "number", "issued_on", "starts_on", "decided_on", "conclusion", "severity", "description", "recommendation",
    "evidence.text", "evidence.links", "finding_id", "owner", "due_on", "note", "reason",
)  # fmt: skip

DONE = {
    "notice": N_("The notice is issued."),
    "decision": N_("The decision is issued."),
    "conclusion": N_("The inspection is concluded."),
    "findings": N_("The finding is recorded."),
    "actions": N_("The corrective action is assigned."),
    "fix": N_("The fix is reported. The inspecting level verifies it."),
    "verify": N_("The corrective action is verified."),
    "reopen": N_("The corrective action is reopened with a new due date."),
}


async def _inspection_command(
    request: Request, session: Session, api: Platform, inspection_id: str, path: str, action: str, form: Any,
    anchor: str = "",
) -> Response:  # fmt: skip
    try:
        await send(api, session, f"/inspections/{inspection_id}{path}", _inspection_body(action, form), form)
    except Problem as problem:
        said = not_done(said_of(problem), INSPECTION_FIELDS)
        failed = anchor or action
        values = {f"{failed}.{k}": v for k, v in forms.values(form).items()}
        return await _inspection(request, session, api, inspection_id, said, failed, values, problem.status)
    session.flash.append(("ok", _(DONE[action])))
    return redirect(f"/inspections/{inspection_id}" + (f"#{anchor}" if anchor else ""))


@router.post("/{inspection_id}/{action}")
async def inspection_action(
    request: Request, inspection_id: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    if action not in ("notice", "decision", "conclusion"):
        raise Problem(404, {"code": "portal.not_found"})
    return await _inspection_command(request, session, api, inspection_id, f"/{action}", action, form)


@router.post("/{inspection_id}/units/{unit_id}/{action}")
async def unit_action(
    request: Request, inspection_id: str, unit_id: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    if action not in ("findings", "actions"):
        raise Problem(404, {"code": "portal.not_found"})
    path = f"/units/{unit_id}/{action}"
    return await _inspection_command(request, session, api, inspection_id, path, action, form, f"u-{unit_id}-{action}")


@router.post("/{inspection_id}/units/{unit_id}/actions/{action_id}/{action}")
async def corrective_action(
    request: Request, inspection_id: str, unit_id: str, action_id: str, action: str, session: SignedIn, api: Api,
    form: Form,
) -> Response:  # fmt: skip
    if action not in ("fix", "verify", "reopen"):
        raise Problem(404, {"code": "portal.not_found"})
    path = f"/units/{unit_id}/actions/{action_id}/{action}"
    return await _inspection_command(
        request, session, api, inspection_id, path, action, form, f"a-{action_id}-{action}"
    )
