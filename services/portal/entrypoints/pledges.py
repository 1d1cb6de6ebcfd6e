"""Campaigns and pledges: launch a campaign with indicators, cascade its targets to the units below, sign
a pledge, report progress with evidence, and the roll-up per level."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Session
from services.portal.entrypoints import forms
from services.portal.entrypoints.abilities import LEADER_ROLES, OFFICIAL_ROLES, acts_for_pledges, may_launch_campaigns
from services.portal.entrypoints.dashboard import campaign_progress
from services.portal.entrypoints.i18n import _
from services.portal.entrypoints.web import (
    Api,
    Form,
    SignedIn,
    form_key,
    new_key,
    redirect,
    refused,
    render,
    require_sees,
    role_required,
)

router = APIRouter()

SOURCES = ("initiatives_registered", "initiatives_recognised", "initiatives_applied", "initiatives_accepted",
           "members_enrolled")  # fmt: skip


async def unit_here(api: Platform, session: Session, path: str) -> dict[str, Any]:
    return await api.query("directory", f"/units/by-path/{path}", session.token)


async def children_of(api: Platform, session: Session, unit: dict[str, Any]) -> list[dict[str, Any]]:
    subtree = await api.query("directory", f"/units/{unit['unit_id']}/subtree", session.token)
    units = subtree["units"] if isinstance(subtree, dict) else subtree
    return sorted((u for u in units if u.get("parent_id") == unit["unit_id"] and u["status"] == "active"),
                  key=lambda u: u["path"])  # fmt: skip


async def _command(api: Platform, session: Session, path: str, body: Any, form: Any) -> Any:
    assert session.token is not None
    return (await api.command("pledges", "POST", path, session.token, body, form_key(form))).body


@router.get("/campaigns")
async def campaigns_page(request: Request, session: SignedIn, api: Api) -> Response:
    assert session.person is not None
    level = api.topology.level_for("pledges", session.person.unit_path, [])
    listed = await api.level("pledges", level, "/pledges/campaigns", session.token)
    return render(request, "campaigns.html", campaigns=listed["campaigns"])


def _launch_form(
    request: Request, status: int = 200, said: Any = None, values: dict[str, str] | None = None
) -> Response:
    return render(
        request, "campaign_form.html", status=status, said=said, values=values or {}, sources=SOURCES,
        idempotency_key=new_key(),
    )  # fmt: skip


@router.get("/campaigns/new")
async def launch_form(request: Request, session: SignedIn) -> Response:
    if not may_launch_campaigns(session.person):
        return role_required(request, _("Launching a campaign"), LEADER_ROLES)
    return _launch_form(request)


def launch_body(form: Any, unit_id: str) -> dict[str, Any]:
    body = forms.fields(form, "title", "plan_number", "starts_on", "ends_on")
    body["unit_id"] = unit_id
    deadlines = [d for d in (forms.text(form, f"deadline.{i}") for i in range(4)) if d]
    body["report_deadlines"] = deadlines
    pillars = [p.strip() for p in str(form.get("pillars") or "").split(",") if p.strip()]
    body["pillars"] = pillars
    indicators = []
    for row in forms.rows(form, "indicators"):
        if not (row.keys() - {"method", "source"}):
            continue  # an unused row: only its selects have values
        if row.get("method") != "counted":
            row.pop("source", None)
        indicators.append(row)
    body["indicators"] = indicators
    return body


@router.post("/campaigns")
async def launch(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    assert session.person is not None
    unit = await unit_here(api, session, session.person.unit_path)
    try:
        answer = await _command(api, session, "/campaigns", launch_body(form, unit["unit_id"]), form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return _launch_form(request, 422, refused(problem), forms.values(form))
    session.flash.append(("ok", _("The campaign is launched. Now cascade its targets to the units below.")))
    return redirect(f"/campaigns/{answer['campaign_id']}")


async def _campaign_page(
    request: Request, campaign_id: str, session: Session, api: Platform, unit: str | None = None,
    sort: str = "achievement", direction: str = "asc", said: Any = None, status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    person = session.person
    assert person is not None
    here = unit or person.unit_path
    require_sees(person, here)
    campaign = await api.query("pledges", f"/campaigns/{campaign_id}", session.token)
    level = api.topology.level_for("pledges", here, [])
    home = await unit_here(api, session, here)
    progress, children = await asyncio.gather(
        campaign_progress(api, session, level, here, campaign, sort, direction),
        children_of(api, session, home),
        return_exceptions=True,
    )
    if isinstance(progress, BaseException):
        progress = None
    if isinstance(children, BaseException):
        children = []
    own_targets = next((t["targets"] for t in campaign.get("targets", []) if t["unit_id"] == home["unit_id"]), {})
    child_targets = {t["unit_id"]: t["targets"] for t in campaign.get("targets", [])}
    officials: list[dict[str, Any]] = []
    if here == person.unit_path:
        members = await api.query("directory", f"/units/{home['unit_id']}/members", session.token, limit=200)
        officials = [m for m in members["items"] if set(m.get("roles", [])) & set(OFFICIAL_ROLES)]
    return render(
        request, "campaign.html", status=status, c=campaign, p=progress, unit=home, children=children,
        own_targets=own_targets, child_targets=child_targets, officials=officials, said=said,
        values=values or {}, unit_path=here, is_launcher=campaign["launcher_unit_id"] == home["unit_id"],
        acting=here == person.unit_path and acts_for_pledges(person), leads=may_launch_campaigns(person),
    )  # fmt: skip


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    request: Request, campaign_id: str, session: SignedIn, api: Api, unit: str | None = None,
    sort: str = "achievement", dir: str = "asc",
) -> Response:  # fmt: skip
    return await _campaign_page(request, campaign_id, session, api, unit, sort, "desc" if dir == "desc" else "asc")


def _targets(form: Any) -> dict[str, dict[str, Any]]:
    """``target.<unit_id>.<indicator>`` cells → {unit_id: {indicator: value}} (blank cells left out)."""
    found: dict[str, dict[str, Any]] = {}
    for key in form.keys():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "target":
            value = forms.text(form, key)
            if value is not None:
                found.setdefault(parts[1], {})[parts[2]] = forms.number(value)
    return found


@router.post("/campaigns/{campaign_id}/{action}")
async def campaign_action(
    request: Request, campaign_id: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    assert session.person is not None
    unit = await unit_here(api, session, session.person.unit_path)
    if action == "targets":
        path, body = f"/campaigns/{campaign_id}/targets", {"unit_id": unit["unit_id"], "targets": _targets(form)}
        done = _("The targets are cascaded to the units below.")
    elif action == "sign":
        commitments = forms.rows(form, "commitments", numbers=("target",))
        path = "/pledges"
        body = {
            "campaign_id": campaign_id, "unit_id": unit["unit_id"], "commitments": commitments,
            "signatories": [str(v) for v in form.getlist("signatories")],
        }  # fmt: skip
        if forms.text(form, "signed_on"):
            body["signed_on"] = forms.text(form, "signed_on")
        done = _("The pledge is signed.")
    elif action == "report":
        path = f"/campaigns/{campaign_id}/reports"
        evidence = [line.strip() for line in str(form.get("evidence") or "").splitlines() if line.strip()]
        body = {
            "unit_id": unit["unit_id"],
            "evidence": evidence,
            **forms.fields(form, "indicator", "value", numbers=("value",)),
        }
        done = _("The progress is reported.")
    else:
        raise Problem(404, {"code": "portal.not_found"})
    try:
        await _command(api, session, path, body, form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        said = refused(problem)
        said.general.insert(0, _("Not done:"))
        values = {f"{action}.{k}": v for k, v in forms.values(form).items()}
        return await _campaign_page(request, campaign_id, session, api, said=said, status=problem.status, values=values)
    session.flash.append(("ok", done))
    return redirect(f"/campaigns/{campaign_id}")


@router.get("/campaigns/{campaign_id}/units/{unit_id}")
async def unit_record(request: Request, campaign_id: str, unit_id: str, session: SignedIn, api: Api) -> Response:
    """What an achievement rate counts: the unit's pledge with every version, who signed and when."""
    campaign = await api.query("pledges", f"/campaigns/{campaign_id}", session.token)
    unit = await api.query("directory", f"/units/{unit_id}", session.token)
    try:
        history = await api.query("pledges", f"/campaigns/{campaign_id}/pledges/{unit_id}", session.token)
    except Problem as problem:
        if problem.status != 404:
            raise
        history = None
    names = await api.people([v.get("actor") for v in (history or {}).get("versions", [])], session.token)
    return render(request, "campaign_unit.html", c=campaign, unit=unit, history=history, names=names)
