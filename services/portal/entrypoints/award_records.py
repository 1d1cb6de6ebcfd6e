"""Awards' records: the dossier, decision and certificate documents (the service's files fetched with the
person's token), a nominee's award history, and the public page of the city's conferred awards (no sign-in).
"""

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.platform import Problem
from services.portal.entrypoints.awards import conferred_feed, page, rulebook, search, seg
from services.portal.entrypoints.web import Api, SignedIn

router = APIRouter()


# -- documents: the service's files, fetched with the person's token ------------------------------------------


def _document(response: Any) -> Response:
    return Response(
        response.content, media_type=response.headers.get("content-type"),
        headers={"Content-Disposition": response.headers.get("content-disposition", "attachment")},
    )  # fmt: skip


def _format(fmt: str) -> str:
    if fmt not in ("docx", "pdf"):
        raise Problem(404, {"code": "portal.not_found"})
    return fmt


@router.get("/awards/documents/dossier/{unit_id}/{fmt}/{number:path}")
async def dossier(unit_id: str, fmt: str, number: str, session: SignedIn, api: Api) -> Response:
    """The dossier a level sent upward (TTr, the list, summaries, minutes)."""
    path = f"/submissions/{quote(unit_id, safe='')}/{quote(number, safe='/')}/dossier"
    return _document(await api.fetch("awards", path, session.token, format=_format(fmt)))


@router.get("/awards/documents/decision/{unit_id}/{fmt}/{number:path}")
async def decision(unit_id: str, fmt: str, number: str, session: SignedIn, api: Api) -> Response:
    path = f"/decisions/{quote(unit_id, safe='')}/{quote(number, safe='/')}/document"
    return _document(await api.fetch("awards", path, session.token, format=_format(fmt)))


@router.get("/awards/documents/certificate/{award_id}/{fmt}")
async def certificate(award_id: str, fmt: str, session: SignedIn, api: Api) -> Response:
    path = f"/awards/{quote(award_id, safe='')}/certificate"
    return _document(await api.fetch("awards", path, session.token, format=_format(fmt)))


# -- award history -------------------------------------------------------------------------------------------


@router.get("/awards/history/{kind}/{nominee_id}")
async def history(request: Request, kind: str, nominee_id: str, session: SignedIn, api: Api) -> Response:
    """A person's or a collective's awards across the years (revoked ones marked)."""
    if kind not in ("individual", "collective"):
        raise Problem(404, {"code": "portal.not_found"})
    found, book = await asyncio.gather(api.query("awards", f"/history/{seg(nominee_id)}", session.token), rulebook(api))
    if kind == "individual":
        name = (await api.people([nominee_id], session.token)).get(nominee_id, nominee_id)
        where = None
    else:
        unit = await api.query("directory", f"/units/{seg(nominee_id)}", session.token)
        name, where = unit.get("name", nominee_id), unit.get("path")
    awards = sorted(found["awards"], key=lambda a: (a["year"], a.get("decided_on") or ""), reverse=True)
    return page(request, "awards/history.html", kind=kind, name=name, unit_path=where, awards=awards,
                names=book["names"])  # fmt: skip


# -- the public page: the city's conferred awards (no sign-in) ---------------------------------------------------


@router.get("/public/awards")
async def public_awards(request: Request, api: Api, q: str | None = None) -> Response:
    query = (q or "").strip()[:200]
    found = search(await conferred_feed(api, request.app.state.settings.public_level), query)
    return page(request, "awards/public.html", awards=found[:100], total=len(found), q=query)


@router.get("/public/awards/{award_id}")
async def public_award(request: Request, award_id: str, api: Api) -> Response:
    found = next(
        (a for a in await conferred_feed(api, request.app.state.settings.public_level) if a["award_id"] == award_id),
        None,
    )
    if found is None:
        raise Problem(404, {"code": "portal.not_found"})
    return page(request, "awards/public_award.html", a=found)
