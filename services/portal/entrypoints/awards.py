"""Awards (khen thưởng): propose with the eligibility evidence criterion by criterion, the review board of a
level (by campaign and year), publicity and objections, the council's vote, escalation and the upper level's
inbox, the decision, the documents (dossier, decision, certificate as .docx and PDF, fetched with the
person's token), a person's or a collective's award history, and the city's conferred awards on the public
page and the dashboard.

The portal holds no award rule: the service judges eligibility and every step; the rule book (``/rulebook``)
only names the awards and their criteria on the forms.
"""

import asyncio
import re
import time
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Person, Session
from services.portal.entrypoints import forms
from services.portal.entrypoints.abilities import PREPARING_ROLES, may_propose_awards
from services.portal.entrypoints.award_words import alabel, reason
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
    role_required,
)
from shared.subjects import in_subtree
from shared.text import fold

router = APIRouter()

BOARD_STATES = ("proposed", "eligible", "not_eligible", "escalated", "decided_here", "decided_above", "rejected",
                "revoked")  # fmt: skip
EVIDENCE_KINDS = ("appraisal", "effect_certificate", "recognition_decision", "attestation", "other")
ACHIEVEMENT_KINDS = ("year", "initiative", "campaign")
LEVEL_RANK = {"grassroots": 1, "upper_level": 2, "city": 3, "national": 4}
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
FEED_PAGE = 500  # conferred awards read from the public feed for a search (the newest first)


def merged(defaults: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    return {**defaults, **values}


def level_kind(path: str) -> str:
    """The level a unit's path stands for (the city, a district or industry union, a grassroots union)."""
    depth = path.count(".")
    return "city" if depth == 0 else "upper_level" if depth == 1 else "grassroots"


def seg(value: str) -> str:
    """One path segment of a service URL: what a person typed never reaches another route or a query."""
    return quote(str(value), safe="")


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, alabel=alabel, reason=reason, merged=merged, **context)


def _int(raw: str | None, low: int, high: int) -> int | None:
    digits = (raw or "").strip()
    return int(digits) if re.fullmatch(r"[0-9]{1,9}", digits) and low <= int(digits) <= high else None


# -- the rule book: which awards exist now, their criteria -----------------------------------------------

_RULEBOOK: dict[int, tuple[float, dict[str, Any]]] = {}


async def rulebook(api: Platform) -> dict[str, Any]:
    """Every award in force today (the latest version of each family), and every award name ever (kept a
    minute: the rule book changes when an official publishes a version)."""
    cached = _RULEBOOK.get(id(api))
    if cached and cached[0] > time.monotonic():
        return cached[1]
    book = await api.query("awards", "/rulebook", None)
    today, current, names = date.today().isoformat(), {}, {}
    for family in book.get("rule_sets", []):
        versions = sorted(family["versions"], key=lambda v: v["effective_from"])
        for version in versions:
            names.update({a["code"]: a["name"] for a in version["awards"]})
        in_force = [v for v in versions if v["effective_from"] <= today] or versions[:1]
        for award in in_force[-1]["awards"] if in_force else []:
            current[award["code"]] = {**award, "family": family["family"], "rule_set": in_force[-1]["version"]}
    found = {"awards": current, "names": names}
    _RULEBOOK[id(api)] = (time.monotonic() + 60, found)
    return found


def offered(book: dict[str, Any], unit_path: str) -> list[dict[str, Any]]:
    """The awards a unit may propose: decided at its level or above (the service refuses the others)."""
    rank = LEVEL_RANK[level_kind(unit_path)]
    return sorted(
        (a for a in book["awards"].values() if LEVEL_RANK.get(a["authority"], 0) >= rank),
        key=lambda a: (LEVEL_RANK.get(a["authority"], 0), a["family"], a["name"], a["nominee_kind"]),
    )


def attestable(awards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The criteria a proposer attests (with an evidence file), once each."""
    seen: dict[str, dict[str, Any]] = {}
    for award in awards:
        for criterion in award["criteria"]:
            if criterion["check"] == "attested":
                seen.setdefault(criterion["code"], criterion)
    return list(seen.values())


# -- reads shared by pages -------------------------------------------------------------------------------


def _token(session: Session) -> str:
    assert session.token is not None
    return session.token


async def inbox(api: Platform, session: Session, level: str) -> list[dict[str, Any]]:
    """Award proposals waiting at a level, oldest first, with how long each has waited (since it was sent)."""
    found = await api.query("awards", f"/inbox/{seg(level)}", session.token)
    items = found["items"][:50]
    details = await asyncio.gather(
        *(api.query("awards", f"/proposals/{seg(i['proposal_id'])}", session.token) for i in items),
        return_exceptions=True,
    )
    today = date.today()
    for item, detail in zip(items, details, strict=True):
        sent = detail.get("escalations", [])[-1] if isinstance(detail, dict) and detail.get("escalations") else {}
        item["sent_on"] = sent.get("submitted_on")
        item["from_name"] = (sent.get("from_level") or {}).get("name", "")
        item["award_name"] = detail.get("award_name", item["award_code"]) if isinstance(detail, dict) else ""
        item["waited_days"] = (today - date.fromisoformat(item["sent_on"])).days if item["sent_on"] else None
    return sorted(items, key=lambda i: i["sent_on"] or "")


async def conferred_feed(api: Platform, unit_path: str, limit: int = FEED_PAGE) -> list[dict[str, Any]]:
    """Conferred awards of a subtree, newest first, from the service's public feed (only public data:
    name, unit, award, decision); an award revoked since is left out."""
    found = await api.query("awards", "/public/awards", None, limit=limit, unit_path=unit_path)
    data = [item["data"] for item in found.get("items", [])]
    revoked = {d["award_id"] for d in data if d.get("status") == "revoked"}
    keep = ("award_id", "nominee_name", "unit_name", "unit_path", "award_name", "year", "decision_number",
            "decided_on", "deciding_body")  # fmt: skip
    kept = [d for d in data if d.get("status") == "conferred" and d["award_id"] not in revoked]
    return [{k: d.get(k) for k in keep} for d in kept]


def search(items: list[dict[str, Any]], q: str) -> list[dict[str, Any]]:
    """Every word of the query in the name, unit or award, with or without diacritics."""
    words = fold(q).split()
    if not words:
        return items
    return [
        i for i in items
        if all(w in fold(f"{i['nominee_name']} {i['unit_name']} {i['award_name']} {i['year']}") for w in words)
    ]  # fmt: skip


async def dashboard_panel(api: Platform, session: Session, here: str) -> dict[str, Any] | None:
    """The dashboard's awards: proposals waiting at this level with their age, the conferred awards counted
    (the count opens the review board filtered to them) and the most recent ones."""
    if "awards" not in api.topology.services:
        return None
    try:
        board, waiting, recent = await asyncio.gather(
            api.query("awards", f"/board/{seg(here)}", session.token),
            inbox(api, session, here),
            conferred_feed(api, here, limit=20),
        )
    except Problem:  # the awards service down: the rest of the dashboard still shows
        return None
    counts = board["counts"]
    return {
        "inbox": waiting, "conferred": counts.get("decided_here", 0) + counts.get("decided_above", 0),
        "proposed": sum(counts.values()), "recent": recent[:5],
    }  # fmt: skip


# -- the review board --------------------------------------------------------------------------------------


@router.get("/awards")
async def board_page(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, year: str | None = None,
    campaign: str | None = None, state: str | None = None,
) -> Response:  # fmt: skip
    return await _board(request, session, api, unit, year, campaign, state)


LISTABLE = ("filed", "accepted", "public")  # a level publishes its list and its council votes on it


async def _board(
    request: Request, session: Session, api: Platform, unit: str | None, year: str | None, campaign: str | None,
    state: str | None, said: Any = None, values: dict[str, str] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    person = session.person
    assert person is not None
    here = (unit or person.unit_path).strip()
    require_sees(person, here)
    chosen_year = _int(year, 2000, 2100)
    campaign_id = (campaign or "").strip()[:64] or None
    board, waiting, book = await asyncio.gather(
        api.query("awards", f"/board/{seg(here)}", session.token, year=chosen_year, campaign_id=campaign_id),
        inbox(api, session, here),
        rulebook(api),
    )
    items = board["items"]
    listable = [i for i in items if i["status"] in LISTABLE]
    if state == "conferred":
        items = [i for i in items if i["board_state"] in ("decided_here", "decided_above")]
    elif state in BOARD_STATES:
        items = [i for i in items if i["board_state"] == state]
    else:
        state = None
    items.sort(key=lambda i: (not i["flagged"], i.get("unit_path") or "", i["nominee_name"]))
    return page(
        request, "awards/board.html", status=status, board=board, items=items, inbox=waiting, unit_path=here,
        year=chosen_year, campaign=campaign_id or "", state=state, states=BOARD_STATES, names=book["names"],
        campaigns=await _campaigns(api, session), listable=listable[:200], said=said, values=values or {},
        today=date.today().isoformat(), label_of=VOTE_LABELS,
    )  # fmt: skip


VOTE_LABELS = {"votes_for": N_("Votes for"), "votes_against": N_("Votes against"), "votes_abstain": N_("Abstentions")}


def list_body(form: Any) -> tuple[str, dict[str, Any]]:
    """The board's list form → one publicity or one meeting's votes for the ticked proposals."""
    ticked = [str(p)[:64] for p in form.getlist("pick")][:500]
    if form.get("do") == "vote":
        meeting = forms.fields(
            form, "minutes_number", "held_on", "place", "chair", "secretary", "members_total", "members_present",
            numbers=("members_total", "members_present"),
        )  # fmt: skip
        counts = ("votes_for", "votes_against", "votes_abstain")
        votes = [{"proposal_id": pid} | {c: forms.number(forms.text(form, f"{c}.{pid}") or "0") for c in counts}
                 for pid in ticked]  # fmt: skip
        return "/votes", {"meeting": meeting, "votes": votes}
    return "/publicity", {"proposal_ids": ticked} | forms.fields(form, "opens_on")


@router.post("/awards/list")
async def list_action(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    path, body = list_body(form)
    unit, year, campaign = (str(form.get(k) or "") or None for k in ("unit", "year", "campaign"))
    key = form_key(form)
    try:
        await api.command("awards", "POST", path, _token(session), body, key)
    except Problem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        said = _said_on_action(refused(problem))
        shown = {"minutes_number", "held_on", "place", "chair", "secretary", "members_total", "members_present",
                 "opens_on"}  # fmt: skip
        said.general += [m for name, m in said.fields.items() if name not in shown]  # a row's count: said above
        said.fields = {name: m for name, m in said.fields.items() if name in shown}
        if not form.getlist("pick"):
            said.general.append(_("Tick the proposals of the list."))
        said.general.insert(0, _("Not done:"))
        values = {f"list.{k}": v for k, v in forms.values(form).items()}
        return await _board(request, session, api, unit, year, campaign, None, said, values, problem.status)
    done = _("The council's vote is recorded.") if path == "/votes" else _("The list is made public.")
    session.flash.append(("ok", done))
    query = "&".join(f"{k}={quote(v)}" for k, v in (("unit", unit), ("year", year), ("campaign", campaign)) if v)
    return redirect("/awards" + (f"?{query}" if query else ""))


async def _campaigns(api: Platform, session: Session) -> list[dict[str, Any]]:
    try:
        found = await api.query("pledges", "/campaigns", session.token, limit=50)
    except Problem:
        return []
    return list(found.get("items", found.get("campaigns", [])))


# -- proposing ---------------------------------------------------------------------------------------------


async def _proposal_form_context(api: Platform, session: Session) -> dict[str, Any]:
    person = session.person
    assert person is not None
    book = await rulebook(api)
    awards = offered(book, person.unit_path)
    members: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    try:
        unit = await api.query("directory", f"/units/by-path/{person.unit_path}", session.token)
        listed, subtree = await asyncio.gather(
            api.query("directory", f"/units/{unit['unit_id']}/members", session.token, limit=500),
            api.query("directory", f"/units/{unit['unit_id']}/subtree", session.token),
        )
        members = sorted(listed["items"], key=lambda m: m.get("full_name", ""))
        units = subtree["units"][:300]
    except Problem:
        pass  # the operator belongs to no unit: the form still offers the awards
    return {
        "awards": awards, "criteria": attestable(awards), "members": members, "units": units,
        "campaigns": await _campaigns(api, session), "evidence_kinds": EVIDENCE_KINDS,
        "achievement_kinds": ACHIEVEMENT_KINDS, "this_year": date.today().year,
    }  # fmt: skip


@router.get("/awards/new")
async def proposal_form(request: Request, session: SignedIn, api: Api) -> Response:
    if not may_propose_awards(session.person):
        return role_required(request, _("Proposing an award"), PREPARING_ROLES)
    context = await _proposal_form_context(api, session)
    year = str(context["this_year"])
    values = {"year": year, "achievement_kind": "year", "achievement_ref": year}
    return page(request, "awards/propose.html", values=values, said=None, idempotency_key=new_key(), **context)


async def _handling_unit(api: Platform, session: Session, unit_path: str) -> str:
    """The unit that handles the proposal, for which its evidence is uploaded: the unit itself, or the
    grassroots union above a sub-unit (the service's rule; see ``handling_level``)."""
    unit = await api.query("directory", f"/units/by-path/{unit_path}", session.token)
    if unit.get("kind") != "sub_unit":
        return str(unit["unit_id"])
    chain = await api.query("directory", f"/units/{unit['unit_id']}/ancestors", session.token)
    above = [u for u in chain["ancestors"] if u.get("kind") != "sub_unit"]
    return str(above[-1]["unit_id"]) if above else str(unit["unit_id"])


def proposal_body(form: Any, book: dict[str, Any]) -> dict[str, Any]:
    kind = forms.text(form, "nominee_kind") or "individual"
    nominee: dict[str, Any] = {"kind": kind}
    if kind == "collective":
        nominee["unit_path"] = forms.text(form, "nominee_unit")
    else:
        nominee["member_id"] = forms.text(form, "nominee_member")
    body: dict[str, Any] = {"nominee": {k: v for k, v in nominee.items() if v is not None}}
    body |= forms.fields(form, "award_code", "year", "campaign_id", "summary", "justification", numbers=("year",))
    body["achievement"] = {
        "kind": forms.text(form, "achievement_kind") or "year",
        **({"ref": ref} if (ref := forms.text(form, "achievement_ref")) else {}),
        **({"summary": s} if (s := forms.text(form, "achievement_summary")) else {}),
    }
    award = book["awards"].get(str(body.get("award_code")))
    own = {c["code"] for c in award["criteria"]} if award else set()
    # Only the chosen award's criteria are attested (the form lists those of every award it offers).
    body["attested"] = [str(c) for c in form.getlist("attested") if str(c) in own]
    return body


FIELD_OF = {"nominee.member_id": "nominee_member", "nominee.unit_path": "nominee_unit", "nominee": "nominee_member",
            "achievement.kind": "achievement_kind", "achievement.ref": "achievement_ref",
            "achievement.summary": "achievement_summary"}  # fmt: skip


def _said_on_form(said: Any) -> Any:
    """The service's field names → the form's (``evidence.0.file.sha256`` → ``evidence``, …)."""
    moved = {}
    for name, message in said.fields.items():
        if name.startswith("evidence"):
            name = "evidence"
        elif name.startswith("attested"):
            name = "attested"
        name = FIELD_OF.get(name, name)
        if name in FORM_FIELDS:
            moved.setdefault(name, message)
        else:  # no field of the form says it (e.g. ``nominee.kind``): above the form, never lost
            said.general.append(message)
    said.fields = moved
    return said


FORM_FIELDS = {"nominee_member", "nominee_unit", "award_code", "year", "campaign_id", "achievement_kind",
               "achievement_ref", "achievement_summary", "summary", "attested", "evidence",
               "justification"}  # fmt: skip


@router.post("/awards/proposals")
async def propose(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    person = session.person
    assert person is not None
    book = await rulebook(api)
    body = proposal_body(form, book)
    key = form_key(form)
    try:
        evidence = await _evidence(api, session, form, person)
        if evidence:
            body["evidence"] = evidence
        answer = await api.command("awards", "POST", "/proposals", _token(session), body, key)
    except Problem as problem:
        if problem.status >= 500 or problem.status in (401,):
            raise
        context = await _proposal_form_context(api, session)
        return page(
            request, "awards/propose.html", status=problem.status if problem.status in (409, 413) else 422,
            values=forms.values(form) | {"attested_list": [str(c) for c in form.getlist("attested")]},
            said=_said_on_form(refused(problem)), idempotency_key=new_key(), **context,
        )  # fmt: skip
    session.flash.append(("ok", _("The proposal is filed; its eligibility is judged below.")))
    return redirect(f"/awards/proposals/{answer.body['proposal_id']}")


async def _evidence(api: Platform, session: Session, form: Any, person: Person) -> list[dict[str, Any]]:
    """Upload the attached files for the handling unit first; the proposal then names them by hash."""
    out = []
    for index in range(2):
        upload = form.get(f"evidence.{index}.file")
        if upload is None or not hasattr(upload, "read") or not upload.filename:
            continue
        data = await upload.read(MAX_EVIDENCE_BYTES + 1)
        if len(data) > MAX_EVIDENCE_BYTES:
            raise Problem(422, {"errors": [{"field": "evidence", "code": "too_large", "msg": "file too large"}]})
        unit_id = await _handling_unit(api, session, person.unit_path)
        stored = await api.upload(
            "awards", "/evidence", _token(session), {"unit_id": unit_id},
            (upload.filename, data, upload.content_type or "application/octet-stream"),
        )  # fmt: skip
        kind = forms.text(form, f"evidence.{index}.kind") or "appraisal"
        item: dict[str, Any] = {"kind": kind, "file": {"sha256": stored["sha256"], "name": stored.get("name")}}
        if label := forms.text(form, f"evidence.{index}.label"):
            item["label"] = label
        out.append(item)
    return out


# -- one proposal: eligibility, publicity, objections, the vote, escalation, decision -------------------------


@router.get("/awards/proposals/{proposal_id}")
async def proposal_page(request: Request, proposal_id: str, session: SignedIn, api: Api) -> Response:
    return await _detail(request, proposal_id, session, api)


async def _detail(
    request: Request, proposal_id: str, session: Session, api: Platform, said: Any = None, status: int = 200,
    values: dict[str, str] | None = None, failed: str | None = None,
) -> Response:  # fmt: skip
    person = session.person
    assert person is not None
    p = await api.query("awards", f"/proposals/{seg(proposal_id)}", session.token)
    book = await rulebook(api)
    rule = book["awards"].get(p["award_code"], {})
    award = None
    if p.get("award_id"):
        history = await api.query("awards", f"/history/{seg(p['nominee']['id'])}", session.token)
        award = next((a for a in history["awards"] if a["award_id"] == p["award_id"]), None)
    here = person.unit_path
    admin = "admin" in person.roles
    level = p["level"]
    at_level = admin or here == level["path"]
    # The decision document is the deciding level's (a unit below it gets the certificate, not the register).
    decision_readable = admin or in_subtree(level["path"], here)
    at_inbox = admin or (p.get("inbox") is not None and here == p["inbox"]["path"])
    escalates = LEVEL_RANK.get(rule.get("authority", "grassroots"), 1) > LEVEL_RANK.get(level["kind"], 1)
    return page(
        request, "awards/proposal.html", status=status, p=p, rule=rule, award=award, said=said,
        values=values or {}, failed=failed, at_level=at_level, at_inbox=at_inbox, escalates=escalates,
        decision_readable=decision_readable,
        today=date.today().isoformat(), quote=quote,
    )  # fmt: skip


def _one(pid: str, form: Any) -> dict[str, Any]:
    return {"proposal_ids": [pid]}


def _vote(pid: str, form: Any) -> dict[str, Any]:
    meeting = forms.fields(
        form, "minutes_number", "held_on", "place", "chair", "secretary", "members_total", "members_present",
        numbers=("members_total", "members_present"),
    )  # fmt: skip
    votes = forms.fields(form, "votes_for", "votes_against", "votes_abstain",
                         numbers=("votes_for", "votes_against", "votes_abstain"))  # fmt: skip
    return {"meeting": meeting, "votes": [{"proposal_id": pid, **votes}]}


def _answer(pid: str, form: Any) -> dict[str, Any]:
    return forms.fields(form, "answer") | {"upheld": form.get("upheld") == "yes"}


# action: (service path (with {pid}), the body from the form, the done message)
ACTIONS: dict[str, tuple[str, Any, str]] = {
    "publicise": ("/publicity", lambda pid, f: _one(pid, f) | forms.fields(f, "opens_on"),
                  N_("The list is made public.")),
    "object": ("/proposals/{pid}/objections", lambda pid, f: forms.fields(f, "text"),
               N_("Your objection is recorded.")),
    "answer": ("/proposals/{pid}/objections/{oid}/answer", _answer, N_("The objection is answered.")),
    "vote": ("/votes", _vote, N_("The council's vote is recorded.")),
    "escalate": ("/escalations", lambda pid, f: _one(pid, f) | forms.fields(f, "submission_number", "submitted_on"),
                 N_("The proposal is sent to the level above with its dossier.")),
    "accept": ("/proposals/{pid}/accept", lambda pid, f: {}, N_("The proposal is taken on at your level.")),
    "return": ("/proposals/{pid}/return", lambda pid, f: forms.fields(f, "reasons"),
               N_("The proposal is returned with your reasons.")),
    "decide": ("/decisions", lambda pid, f: _one(pid, f) | forms.fields(
        f, "decision_number", "decided_on", "deciding_body", "signer_name", "signer_title"),
        N_("The award is conferred.")),
    "reject": ("/proposals/{pid}/reject", lambda pid, f: forms.fields(f, "reasons"), N_("The proposal is rejected.")),
    "withdraw": ("/proposals/{pid}/withdraw", lambda pid, f: forms.fields(f, "reason"),
                 N_("The proposal is withdrawn.")),
    "justify": ("/proposals/{pid}/justify", lambda pid, f: forms.fields(f, "justification"),
                N_("The justification is recorded.")),
}  # fmt: skip


def _said_on_action(said: Any) -> Any:
    """``meeting.held_on`` / ``votes.0.votes_for`` → the action form's own field names."""
    moved: dict[str, str] = {}
    for name, message in said.fields.items():
        short = name.removeprefix("meeting.").removeprefix("votes.0.")
        if short.startswith("proposal_ids"):
            said.general.append(message)
            continue
        moved.setdefault(short, message)
    said.fields = moved
    return said


@router.post("/awards/proposals/{proposal_id}/{action}")
async def proposal_action(
    request: Request, proposal_id: str, action: str, session: SignedIn, api: Api, form: Form
) -> Response:
    if action not in ACTIONS:
        raise Problem(404, {"code": "portal.not_found"})
    path, body_of, done = ACTIONS[action]
    objection = str(form.get("objection_id") or "")[:64]
    url = path.format(pid=quote(proposal_id, safe=""), oid=quote(objection, safe=""))
    key = form_key(form)
    try:
        await api.command("awards", "POST", url, _token(session), body_of(proposal_id, form), key)
    except Problem as problem:
        if problem.status >= 500 or problem.status == 401:
            raise
        said = _said_on_action(refused(problem))
        said.general.insert(0, _("Not done:"))
        values = {f"{action}.{k}": v for k, v in forms.values(form).items()}
        return await _detail(request, proposal_id, session, api, said=said, status=problem.status, values=values,
                             failed=action)  # fmt: skip
    session.flash.append(("ok", _(done)))
    return redirect(f"/awards/proposals/{proposal_id}")
