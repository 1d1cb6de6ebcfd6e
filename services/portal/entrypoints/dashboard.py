"""The level dashboard, the first page after sign-in: campaigns' achievement per indicator per lower unit
(chart and sortable table, laggards first), the escalation inbox (live over server-sent events), overdue
reports, recent recognised initiatives. Every figure links to what it counts."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Session
from services.portal.entrypoints import awards
from services.portal.entrypoints.web import Api, SignedIn, hx, render, require_sees

router = APIRouter()

SORTS = ("achievement", "name")
INBOX_POLL_SECONDS = 2.0


def sort_rows(rows: list[dict[str, Any]], sort: str, direction: str) -> list[dict[str, Any]]:
    """The service gives laggards first; a person may sort by name or one indicator instead."""
    reverse = direction == "desc"
    if sort == "name":
        return sorted(rows, key=lambda r: r["name"], reverse=reverse)
    if sort == "achievement":
        return list(reversed(rows)) if reverse else rows

    def cell(row: dict[str, Any]) -> tuple[bool, float]:
        found = next((c for c in row["indicators"] if c["indicator"] == sort), None)
        value = None if found is None else found["achievement"]
        return (value is None, value or 0.0)

    ordered = sorted(rows, key=cell)
    return list(reversed(ordered)) if reverse else ordered


async def campaign_progress(
    api: Platform, session: Session, level: str, unit: str, campaign: dict[str, Any], sort: str, direction: str
) -> dict[str, Any]:
    progress = await api.level(
        "pledges", level, f"/pledges/campaigns/{campaign['campaign_id']}/progress", session.token,
        unit=unit, depth="children", limit=500,
    )  # fmt: skip
    codes = [c["indicator"] for c in progress["unit"]["indicators"]]
    if sort not in SORTS and sort not in codes:
        sort = "achievement"
    progress["rows"] = sort_rows(progress["rows"], sort, direction)
    progress["sort"], progress["direction"] = sort, direction
    return progress


async def inbox_items(api: Platform, session: Session, level: str) -> list[dict[str, Any]]:
    found = await api.level("registry", level, "/registry/inbox", session.token)
    return found["items"]


@router.get("/dashboard")
async def dashboard(
    request: Request, session: SignedIn, api: Api, unit: str | None = None, sort: str = "achievement",
    dir: str = "asc", campaign: str | None = None,
) -> Response:  # fmt: skip
    person = session.person
    assert person is not None
    here = unit or person.unit_path
    require_sees(person, here)
    level = api.topology.level_for("registry", here, [])
    pledges_level = api.topology.level_for("pledges", here, [])
    direction = "desc" if dir == "desc" else "asc"

    campaigns_task = api.level("pledges", pledges_level, "/pledges/campaigns", session.token)
    book_task = api.level("registry", level, "/registry/book", session.token, unit=here, limit=5)
    inbox_task = inbox_items(api, session, level) if here == level else _nothing()
    awards_task = awards.dashboard_panel(api, session, here)
    listed, book, inbox, awards_panel = await asyncio.gather(campaigns_task, book_task, inbox_task, awards_task)
    open_campaigns = [c for c in listed["campaigns"] if c["status"] == "open"]
    shown = [c for c in open_campaigns if campaign in (None, c["campaign_id"])][:3]
    progress = await asyncio.gather(
        *(campaign_progress(api, session, pledges_level, here, c, sort, direction) for c in shown)
    )
    overdue = [{"campaign": p, "row": row} for p in progress for row in p["rows"] if row["flagged"]]
    context = {
        "unit_path": here, "level": level, "campaigns": listed["campaigns"], "progress": progress,
        "book": book, "inbox": inbox, "has_inbox": here == level, "overdue": overdue,
        "overdue_campaigns": [c for c in listed["campaigns"] if c.get("overdue")], "awards_panel": awards_panel,
    }  # fmt: skip
    if hx(request) and request.headers.get("hx-target", "").startswith("progress-"):
        target = request.headers["hx-target"].removeprefix("progress-")
        chosen = next((p for p in progress if p["campaign_id"] == target), None)
        if chosen is not None:
            return render(request, "parts/progress_table.html", p=chosen, unit_path=here, row_limit=50)
    return render(request, "dashboard.html", **context)


async def _nothing() -> list[dict[str, Any]]:
    return []


@router.get("/dashboard/inbox")
async def inbox_fragment(request: Request, session: SignedIn, api: Api) -> Response:
    person = session.person
    assert person is not None
    level = api.topology.level_for("registry", person.unit_path, [])
    items = await inbox_items(api, session, level) if level == person.unit_path else []
    return render(request, "parts/inbox.html", inbox=items)


@router.get("/events/inbox")
async def inbox_events(request: Request, session: SignedIn, api: Api) -> Response:
    """Server-sent events: the inbox's rendered list whenever what waits in it changes.

    The portal reads the level host (it subscribes to nothing itself): a cheap read every two seconds
    per open dashboard, and an event only when the set of waiting requests changed.
    """
    person = session.person
    assert person is not None
    level = api.topology.level_for("registry", person.unit_path, [])
    if level != person.unit_path:
        raise Problem(404, {"detail": "your unit has no escalation inbox", "code": "portal.not_found"})
    env = request.app.state.templates

    async def stream() -> AsyncIterator[bytes]:
        seen: str | None = None
        yield b"retry: 3000\n\n"
        while not await request.is_disconnected():
            with contextlib.suppress(Problem):
                items = await inbox_items(api, session, level)
                signature = json.dumps([(i["initiative_id"], i.get("pending_since")) for i in items], default=str)
                if signature != seen:
                    if seen is not None:
                        html = env.get_template("parts/inbox_list.html").render(inbox=items)
                        data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
                        yield f"event: inbox\n{data}\n".encode()
                    seen = signature
            await asyncio.sleep(INBOX_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
