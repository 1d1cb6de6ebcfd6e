"""The initiative book (Sổ vàng sáng kiến): filters, search with or without diacritics, exports (a large
one in the background with progress), and the public page of good examples (no sign-in)."""

import contextlib
import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from services.portal.adapters.platform import Problem
from services.portal.entrypoints import awards
from services.portal.entrypoints.i18n import _
from services.portal.entrypoints.initiatives import PILLARS
from services.portal.entrypoints.web import Api, Form, SignedIn, hx, redirect, render, require_sees

router = APIRouter()

PAGE = 25
SCOPES = ("grassroots", "upper_level", "city", "national")


def _filters(unit: str | None, year: int | None, pillar: str | None, scope: str | None, q: str | None) -> dict:
    return {
        "unit": unit or None,
        "year": year,
        "pillar": pillar if pillar in PILLARS else None,
        "scope": scope if scope in SCOPES else None,
        "q": (q or "").strip()[:200] or None,
    }


@router.get("/book")
async def book_page(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, year: int | None = None,
    pillar: str | None = None, scope: str | None = None, q: str | None = None, page: int = 1,
) -> Response:  # fmt: skip
    assert session.person is not None
    filters = _filters(unit, year, pillar, scope, q)
    here = filters["unit"] or session.person.unit_path
    require_sees(session.person, here)
    filters["unit"] = here
    level = api.topology.level_for("registry", here, [])
    page = max(1, min(page, 10_000))
    found = await api.level(
        "registry", level, "/registry/book", session.token, **filters, limit=PAGE, offset=(page - 1) * PAGE
    )
    context = {"book": found, "filters": filters, "page": page, "pages": max(1, -(-found["total"] // PAGE)),
               "pillars": PILLARS, "scopes": SCOPES, "level": level}  # fmt: skip
    if hx(request) and request.headers.get("hx-target") == "book-results":
        return render(request, "parts/book_results.html", **context)
    return render(request, "book.html", **context)


@router.post("/book/export")
async def export(request: Request, session: SignedIn, api: Api, form: Form) -> Response:
    """A small book downloads at once; a large one is prepared in the background with its progress."""
    person = session.person
    assert person is not None and session.token is not None
    fmt = "xlsx" if form.get("format") == "xlsx" else "csv"
    here = str(form.get("unit") or person.unit_path)
    require_sees(person, here)
    year = str(form.get("year") or "")
    filters = {"unit": here, "year": int(year) if re.fullmatch(r"[0-9]{1,4}", year) else None}
    level = api.topology.level_for("registry", here, [])
    counted = await api.level("registry", level, "/registry/book", session.token, **filters, limit=1)
    settings = request.app.state.settings
    if counted["total"] <= settings.export_inline_rows:
        response = await api.download("registry", level, f"/registry/book.{fmt}", session.token, **filters)
        return Response(
            response.content, media_type=response.headers.get("content-type"),
            headers={"Content-Disposition": response.headers.get("content-disposition", "attachment")},
        )  # fmt: skip
    job = request.app.state.exports.start(person.subject, session.token, level, fmt, counted["total"], filters)
    return redirect(f"/book/exports/{job.id}")


@router.get("/book/exports/{job_id}")
async def export_status(request: Request, job_id: str, session: SignedIn) -> Response:
    assert session.person is not None
    job = request.app.state.exports.get(job_id, session.person.subject)
    if job is None:
        raise Problem(404, {"code": "portal.not_found"})
    template = "parts/export_status.html" if hx(request) else "export.html"
    return render(request, template, job=job)


@router.get("/book/exports/{job_id}/file")
async def export_file(request: Request, job_id: str, session: SignedIn) -> Response:
    assert session.person is not None
    job = request.app.state.exports.get(job_id, session.person.subject)
    if job is None or job.status != "ready" or job.path is None:
        raise Problem(404, {"code": "portal.not_found"})
    return FileResponse(job.path, media_type=job.media_type, filename=job.filename)


# -- the public page ---------------------------------------------------------------------------------


@router.get("/public")
async def public_page(request: Request, api: Api, q: str | None = None, page: int = 1) -> Response:
    """Good examples for everyone (tuyên truyền, nhân rộng điển hình): no sign-in, public facts only."""
    settings = request.app.state.settings
    token = request.app.state.public_token
    level = settings.public_level
    page = max(1, min(page, 1000))
    found = await api.level(
        "registry", level, "/registry/book", token, scope="city", q=(q or "").strip()[:200] or None,
        limit=PAGE, offset=(page - 1) * PAGE,
    )  # fmt: skip
    # Only what is public: title, unit, authors' names, scope, decision, benefit; never member ids.
    items = [
        {
            "initiative_id": i["initiative_id"], "title": i["title"], "unit_path": i["unit_path"],
            "authors": [a.get("name", "") for a in i.get("authors", [])], "scope": i.get("scope"),
            "decision_number": i.get("decision_number"), "decision_date": i.get("decision_date"),
            "benefit_vnd": i.get("benefit_vnd"), "pillar": i.get("pillar"),
        }
        for i in found["items"]
    ]  # fmt: skip
    conferred = None
    if request.app.state.features["awards"]:  # the city's conferred awards beside its good examples
        with contextlib.suppress(Problem):
            conferred = awards.search(await awards.conferred_feed(api, level), q or "")
    return render(
        request, "public.html", conferred=conferred, items=items, total=found["total"], q=q or "", page=page,
        pages=max(1, -(-found["total"] // PAGE)), pillars=PILLARS, title=_("Good examples"),
    )  # fmt: skip


@router.get("/public/initiatives/{initiative_id}")
async def public_initiative(request: Request, initiative_id: str, api: Api) -> Response:
    settings = request.app.state.settings
    found = await api.level(
        "registry", settings.public_level, f"/registry/initiatives/{initiative_id}", request.app.state.public_token
    )
    if found.get("scope") not in ("city", "national"):
        raise Problem(404, {"code": "portal.not_found"})
    item = {k: found.get(k) for k in ("title", "unit_path", "scope", "decision_number", "decision_date",
                                        "benefit_vnd", "pillar", "field")}  # fmt: skip
    item["authors"] = [a.get("name", "") for a in found.get("authors", [])]
    return render(request, "public_initiative.html", i=item, pillars=PILLARS)
