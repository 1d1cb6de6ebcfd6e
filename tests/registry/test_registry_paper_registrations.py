"""A registration made on paper before the platform, entered later with its own day: only the platform
operator gives a past day (anyone else 403 ``date.backdated``), nobody a future one (422
``date.in_future``); the event carries the day, and an ordinary registration names none. An application's
own day (``since``) is never after today either."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from shared.eventstore.schema import events
from tests.registry.api_helpers import APPLICATION, REGISTRATION, Api

FECON = "hn.ntl.fecon"


async def registered_events(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.db.reader.connect() as conn:
        rows = await conn.execute(select(events.c.data).where(events.c.event_type == "InitiativeRegistered"))
        return [data for (data,) in rows]


def refused(response: httpx.Response, status: int, code: str, field: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    found = [(body.get("code"), body.get("field"), body.get("detail", ""))]
    found += [(e.get("code"), e.get("field"), e.get("message", "")) for e in body.get("errors", [])]
    messages = [message for c, f, message in found if (c, f) == (code, field)]
    assert messages and messages[0].strip(), body
    return messages[0]


async def test_only_the_operator_enters_a_past_registration_day(api: Api, app: FastAPI) -> None:
    today = datetime.now(UTC).date()
    past = (today - timedelta(days=200)).isoformat()
    by_member = await api.post("/initiatives", {**REGISTRATION, "registered_on": past}, FECON, "member")
    assert "only the platform operator" in refused(by_member, 403, "date.backdated", "registered_on")
    assert await registered_events(app) == []

    future = (today + timedelta(days=1)).isoformat()
    ahead = await api.post(
        "/initiatives", {**REGISTRATION, "unit_path": FECON, "registered_on": future}, FECON, "admin"
    )
    assert "after today" in refused(ahead, 422, "date.in_future", "registered_on")
    assert await registered_events(app) == []

    paper = await api.post("/initiatives", {**REGISTRATION, "unit_path": FECON, "registered_on": past}, FECON, "admin")
    assert paper.status_code == 201, paper.text
    today_by_member = await api.post(
        "/initiatives", {**REGISTRATION, "registered_on": today.isoformat()}, FECON, "member"
    )
    assert today_by_member.status_code == 201, today_by_member.text
    days = {e["initiative_id"]: e["registered_on"] for e in await registered_events(app)}
    assert days == {paper.json()["initiative_id"]: past, today_by_member.json()["initiative_id"]: None}


async def test_an_initiative_is_applied_before_it_is_registered(api: Api, app: FastAPI) -> None:
    """``first_applied_on`` after the registration's day (today, or a paper record's own day) is refused."""
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    ahead = await api.post("/initiatives", {**REGISTRATION, "first_applied_on": tomorrow}, FECON, "member")
    assert f"{tomorrow} is after today" in refused(ahead, 422, "date.in_future", "first_applied_on")
    on_paper = {**REGISTRATION, "unit_path": FECON, "registered_on": "2025-02-01", "first_applied_on": "2025-03-01"}
    late = await api.post("/initiatives", on_paper, FECON, "admin")
    assert "2025-03-01 is after the registration day (2025-02-01)" in refused(
        late, 422, "date.in_future", "first_applied_on"
    )
    assert await registered_events(app) == []
    same_day = await api.post("/initiatives", {**on_paper, "first_applied_on": "2025-02-01"}, FECON, "admin")
    assert same_day.status_code == 201, same_day.text
    today_ = await api.post("/initiatives", {**REGISTRATION, "first_applied_on": today.isoformat()}, FECON, "member")
    assert today_.status_code == 201, today_.text


async def test_an_application_is_not_reported_ahead_of_its_day(api: Api, app: FastAPI) -> None:
    initiative_id = await api.recognised()
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    url = f"/initiatives/{initiative_id}/applications"
    ahead = await api.post(url, {**APPLICATION, "since": tomorrow}, FECON, "member")
    assert f"{tomorrow} is after today ({today.isoformat()})" in refused(ahead, 422, "date.in_future", "since")
    async with app.state.db.reader.connect() as conn:
        applied = await conn.execute(select(events.c.data).where(events.c.event_type == "InitiativeApplied"))
        assert applied.all() == []
    on_the_day = await api.post(url, {**APPLICATION, "since": today.isoformat()}, FECON, "member")
    assert on_the_day.status_code == 200, on_the_day.text
