"""Ideas and initiatives: submission, the incubator's queue, the registration form (messages beside the
fields, possible duplicates before submitting), review, scoring and decisions, application, escalation
and the parent's decision, replication."""

import asyncio
import itertools
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Session
from services.portal.entrypoints import forms
from services.portal.entrypoints.i18n import N_, _
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
)

router = APIRouter()

REGISTRATION_FIELDS = (
    "title", "objective", "steps", "scope_of_application", "expected_effectiveness", "pillar", "field",
    "campaign_id", "estimated_benefit_vnd", "first_applied_on",
)  # fmt: skip
PILLARS = {"doi_moi": N_("Innovation"), "sang_tao": N_("Creativity"), "hieu_qua": N_("Effectiveness")}
STATUSES = ("draft", "registered", "under_review", "returned", "recognised", "rejected", "applied", "accepted")


async def _command(
    api: Platform, session: Session, method: str, path: str, body: Any, form: Any, service: str = "registry"
) -> Any:
    assert session.token is not None
    return (await api.command(service, method, path, session.token, body, form_key(form))).body


# -- ideas and the incubator -------------------------------------------------------------------------


@router.get("/ideas")
async def ideas_page(request: Request, session: SignedIn, api: Api) -> Response:
    assert session.person is not None
    queue = await api.query("registry", "/ideas", session.token, under=session.person.unit_path, limit=100)
    names = await api.people([i.get("mentor") for i in queue["items"]], session.token)
    return render(request, "ideas.html", ideas=queue["items"], total=queue["total"], said=None, values={}, names=names)


@router.post("/ideas")
async def submit_idea(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    try:
        await _command(api, session, "POST", "/ideas", forms.fields(form, "text"), form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        queue = await api.query("registry", "/ideas", session.token, under=session.person.unit_path, limit=100)
        return render(
            request, "ideas.html", status=422, ideas=queue["items"], total=queue["total"], said=refused(problem),
            values=forms.values(form), names={},
        )  # fmt: skip
    session.flash.append(("ok", _("Your idea was submitted to the incubator.")))
    return redirect("/ideas")


@router.post("/ideas/{idea_id}/{action}")
async def idea_action(request: Request, idea_id: str, action: str, session: SignedIn, api: Api, form: Form) -> Response:
    paths = {"claim": "claim", "comment": "comments", "convert": "convert"}
    if action not in paths:
        raise Problem(404, {"code": "portal.not_found"})
    body: dict[str, Any] = {}
    if action == "comment":
        body = forms.fields(form, "comment")
    elif action == "convert":
        body = forms.fields(form, "title") | {"authors": forms.rows(form, "authors", numbers=("share",))}
    try:
        answer = await _command(api, session, "POST", f"/ideas/{idea_id}/{paths[action]}", body, form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        said = refused(problem)
        session.flash.extend(("error", m) for m in [*said.general, *said.fields.values()])
        return redirect("/ideas")
    if action == "convert":
        session.flash.append(("ok", _("The idea is now a draft initiative: complete its registration.")))
        return redirect(f"/initiatives/new?draft_id={answer.get('initiative_id', '')}")
    session.flash.append(("ok", _("Saved.")))
    return redirect("/ideas")


# -- registration ------------------------------------------------------------------------------------


def registration_body(form: Any) -> dict[str, Any]:
    body = forms.fields(form, *REGISTRATION_FIELDS, numbers=("estimated_benefit_vnd",))
    body["authors"] = forms.rows(form, "authors", numbers=("share",))
    return body


async def _campaigns(api: Platform, session: Session) -> list[dict[str, Any]]:
    try:
        found = await api.query("pledges", "/campaigns", session.token, limit=50)
    except Problem:
        return []
    return [c for c in found.get("items", found.get("campaigns", [])) if c.get("status", "open") == "open"]


@router.get("/initiatives/new")
async def registration_form(request: Request, session: SignedIn, api: Api, draft_id: str | None = None) -> Response:
    values: dict[str, str] = {"authors.0.share": "100"}
    if draft_id:
        draft = await api.query("registry", f"/initiatives/{draft_id}", session.token)
        values["title"] = draft.get("title", "")
        # The service's own read: a draft converted a moment ago may not have reached the level's view yet.
        authors = (draft.get("registration") or {}).get("authors") or draft.get("authors")
        for index, author in enumerate(authors or []):
            values[f"authors.{index}.name"] = author.get("name", "")
            values[f"authors.{index}.share"] = str(author.get("share", ""))
    return render(
        request, "initiative_form.html", values=values, said=None, draft_id=draft_id, pillars=PILLARS,
        campaigns=await _campaigns(api, session), idempotency_key=new_key(),
    )  # fmt: skip


@router.post("/initiatives")
async def register(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    body = registration_body(form)
    if forms.text(form, "draft_id"):
        body["draft_id"] = forms.text(form, "draft_id")
    try:
        answer = await _command(api, session, "POST", "/initiatives", body, form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return render(
            request, "initiative_form.html", status=422, values=forms.values(form), said=refused(problem),
            draft_id=forms.text(form, "draft_id"), pillars=PILLARS, campaigns=await _campaigns(api, session),
            idempotency_key=new_key(),
        )  # fmt: skip
    session.flash.append(("ok", _("The initiative is registered.")))
    return redirect(f"/initiatives/{answer['initiative_id']}")


def _pairs(title: str, most: int = 4) -> list[str]:
    """Vietnamese words are syllables: one says little ("mô", "ca"), two side by side say what the title is
    about ("Bữa cơm", "mã QR"). The longest pairs, each searched as both its syllables; a one-word title
    is searched as it is."""
    syllables = title.split()[:30]
    if len(syllables) == 1:
        return syllables if len(syllables[0]) >= 3 else []
    pairs = {f"{a} {b}" for a, b in itertools.pairwise(syllables)}
    return sorted(pairs, key=lambda pair: (-len(pair), pair))[:most]


@router.get("/initiatives/duplicates")
async def duplicates(request: Request, session: SignedIn, api: Api, title: str = "") -> Response:
    """Initiatives already in the book that share the title's word pairs (shown before submitting)."""
    assert session.person is not None
    found: dict[str, dict[str, Any]] = {}
    if queries := _pairs(title):
        level = api.topology.level_for("registry", session.person.unit_path, [])
        pages = await asyncio.gather(
            *(api.level("registry", level, "/registry/book", session.token, q=q, limit=10, unit=None) for q in queries),
            return_exceptions=True,
        )
        for page in pages:
            if isinstance(page, dict):
                for item in page["items"]:
                    item.setdefault("hits", 0)
                    found.setdefault(item["initiative_id"], item)["hits"] += 1
    ranked = sorted(found.values(), key=lambda i: -i["hits"])[:5]
    return render(request, "parts/duplicates.html", duplicates=ranked)


# -- lists, detail and decisions ---------------------------------------------------------------------


@router.get("/initiatives")
async def initiatives_page(
    request: Request, session: SignedIn, api: Api, status: str | None = None, unit: str | None = None
) -> Response:
    assert session.person is not None
    under = unit or session.person.unit_path
    require_sees(session.person, under)
    found = await api.query(
        "registry", "/initiatives", session.token, under=under, status=status if status in STATUSES else None, limit=100
    )
    return render(request, "initiatives.html", page=found, chosen=status, statuses=STATUSES, unit_path=under)


@router.get("/initiatives/{initiative_id}")
async def initiative_page(request: Request, initiative_id: str, session: SignedIn, api: Api) -> Response:
    return await _detail(request, initiative_id, session, api)


async def _detail(
    request: Request, initiative_id: str, session: Session, api: Platform, said: Any = None, status: int = 200,
    values: dict[str, str] | None = None, action: str | None = None,
) -> Response:  # fmt: skip
    assert session.person is not None
    initiative = await api.query("registry", f"/initiatives/{initiative_id}", session.token)
    require_sees(session.person, initiative["unit_path"])
    level = api.topology.level_for("registry", initiative["unit_path"], [])
    try:
        viewed = await api.level("registry", level, f"/registry/initiatives/{initiative_id}", session.token)
    except Problem:
        viewed = {}
    names = await api.people([h.get("by") for h in initiative.get("history", [])], session.token)
    return render(
        request, "initiative.html", status=status, i=initiative, viewed=viewed, pillars=PILLARS, said=said, names=names,
        values=values or {}, pending_here=viewed.get("pending_at_path") == session.person.unit_path,
        failed=action,
    )  # fmt: skip


def _registration_values(initiative: dict[str, Any]) -> dict[str, str]:
    registration = initiative.get("registration") or {}
    values = {k: str(v) for k, v in registration.items() if k in REGISTRATION_FIELDS and v is not None}
    for index, author in enumerate(registration.get("authors") or []):
        values[f"authors.{index}.name"] = author.get("name", "")
        values[f"authors.{index}.share"] = str(author.get("share", ""))
    return values


@router.get("/initiatives/{initiative_id}/revise")
async def revise_form(request: Request, initiative_id: str, session: SignedIn, api: Api) -> Response:
    """A returned initiative, its registration filled in as it was, for the authors to revise."""
    initiative = await api.query("registry", f"/initiatives/{initiative_id}", session.token)
    return render(
        request, "initiative_form.html", values=_registration_values(initiative), said=None, draft_id=None,
        pillars=PILLARS, campaigns=await _campaigns(api, session), idempotency_key=new_key(),
        form_action=f"/initiatives/{initiative_id}/revise", heading=_("Revise the initiative"),
    )  # fmt: skip


@router.post("/initiatives/{initiative_id}/revise")
async def revise(request: Request, initiative_id: str, session: SignedIn, api: Api, form: Form) -> Response:
    try:
        await _command(api, session, "POST", f"/initiatives/{initiative_id}/revise", registration_body(form), form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return render(
            request, "initiative_form.html", status=422, values=forms.values(form), said=refused(problem),
            draft_id=None, pillars=PILLARS, campaigns=await _campaigns(api, session), idempotency_key=new_key(),
            form_action=f"/initiatives/{initiative_id}/revise", heading=_("Revise the initiative"),
        )  # fmt: skip
    session.flash.append(("ok", _("The revised initiative is sent for review again.")))
    return redirect(f"/initiatives/{initiative_id}")


ACTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # action: (service path below the initiative, text fields, number fields)
    "score": ("scores", ("scorer_name", "comment", "novelty", "feasibility", "effectiveness", "influence"),
              ("novelty", "feasibility", "effectiveness", "influence")),
    "recognise": ("recognise", ("decision_number", "decision_date"), ()),
    "reject": ("reject", ("reasons",), ()),
    "return": ("return", ("requests",), ()),
    "application": ("applications", ("where", "since", "evidence", "actual_benefit_vnd"), ("actual_benefit_vnd",)),
    "accept": ("accept", ("actual_benefit_vnd", "note"), ("actual_benefit_vnd",)),
    "escalate": ("escalation", ("summary",), ()),
    "forward": ("escalation/forward", ("note",), ()),
    "return-escalation": ("escalation/return", ("reasons",), ()),
    "replicate": ("replication", ("note",), ()),
    "replication-report": ("replication/reports", ("evidence",), ()),
}  # fmt: skip
DONE = {
    "score": N_("Your score is recorded."),
    "recognise": N_("The initiative is recognised."),
    "reject": N_("The initiative is rejected."),
    "return": N_("The initiative is returned to its authors."),
    "application": N_("The application is reported."),
    "accept": N_("The initiative is accepted."),
    "escalate": N_("The request was sent to the level above."),
    "forward": N_("The request was forwarded to the level above."),
    "return-escalation": N_("The request was returned with your reasons."),
    "replicate": N_("Replication is ordered."),
    "replication-report": N_("The replication is reported."),
}


@router.post("/initiatives/{initiative_id}/{action}")
async def initiative_action(
    request: Request, initiative_id: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    if action not in ACTIONS:
        raise Problem(404, {"code": "portal.not_found"})
    path, names, numbers = ACTIONS[action]
    body = forms.fields(form, *names, numbers=numbers)
    try:
        await _command(api, session, "POST", f"/initiatives/{initiative_id}/{path}", body, form)
    except Problem as problem:
        if problem.status >= 500:
            raise
        said = refused(problem)
        said.general.insert(0, _("Not done:"))
        return await _detail(
            request,
            initiative_id,
            session,
            api,
            said=said,
            status=problem.status,
            values={f"{action}.{k}": v for k, v in forms.values(form).items()},
            action=action,
        )
    session.flash.append(("ok", _(DONE[action])))
    back = str(form.get("back") or "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else f"/initiatives/{initiative_id}")
