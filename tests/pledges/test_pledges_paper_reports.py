"""A progress report made on paper, entered later with its own day: only the platform operator gives a
past day (an official 403 ``date.backdated``), nobody a future one (422 ``date.in_future``); a report
dated before a deadline counts as in time there, and the unit that reported neither way is the one told
it is late."""

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth import issue_token
from shared.settings import Settings
from tests.pledges.pledges_helpers import City, Clock, bearer, event_count
from tests.pledges.test_pledges_api import launch_body


async def refused(app: FastAPI, call: Any, status: int, code: str, field: str) -> str:
    before = await event_count(app)
    response = await call
    assert response.status_code == status, response.text
    assert await event_count(app) == before
    body = response.json()
    found = [(body.get("code"), body.get("field"), body.get("detail", ""))]
    found += [(e.get("code"), e.get("field"), e.get("message", "")) for e in body.get("errors", [])]
    messages = [message for c, f, message in found if (c, f) == (code, field)]
    assert messages and messages[0].strip(), body
    return messages[0]


async def test_only_the_operator_enters_a_report_made_on_paper(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, clock: Clock
) -> None:
    launched = await client.post("/campaigns", json=launch_body(city), headers=bearer(settings, "hn"))
    assert launched.status_code == 201, launched.text
    url = f"/campaigns/{launched.json()['campaign_id']}/reports"
    clock.now = datetime(2025, 7, 5, 9, tzinfo=UTC)  # the 30 June deadline has passed
    body = {"unit_id": city.ids["hn.ntl"], "indicator": "activities", "value": 2, "evidence": ["Biên bản số 7/BB"]}
    official = bearer(settings, "hn.ntl", "emulation_officer")
    says = await refused(app, client.post(url, json=body | {"reported_on": "2025-06-20"}, headers=official), 403,
                         "date.backdated", "reported_on")  # fmt: skip
    assert "only the platform operator" in says
    operator = {"Authorization": f"Bearer {issue_token(settings, 'admin')}"}
    says = await refused(app, client.post(url, json=body | {"reported_on": "2025-07-06"}, headers=operator), 422,
                         "date.in_future", "reported_on")  # fmt: skip
    assert "after today" in says

    paper = await client.post(url, json=body | {"reported_on": "2025-06-20"}, headers=operator)
    assert paper.status_code == 201, paper.text
    assert paper.json()["reported_at"].startswith("2025-06-20")
    late = {reminder.unit_id for reminder in await app.state.reminders.tick() if reminder.kind == "report_overdue"}
    assert late == {city.ids["hn.dd"]}  # Nam Từ Liêm reported in time, on paper
