"""A progress report made on paper, entered later with its own day: only the platform operator gives a
past day (an official 403 ``date.backdated``), nobody a future one (422 ``date.in_future``); a report
dated before a deadline counts as in time there, and the unit that reported neither way is the one told
it is late. For the same reason only the operator launches a plan whose deadlines have passed (403
``date.deadline_passed``) or closes a campaign on an earlier day."""

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


async def test_only_the_operator_launches_a_campaign_whose_deadlines_have_passed(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, clock: Clock
) -> None:
    clock.now = datetime(2025, 7, 5, 9, tzinfo=UTC)  # the 30 June deadline of the plan has passed
    chair = bearer(settings, "hn")
    says = await refused(app, client.post("/campaigns", json=launch_body(city), headers=chair), 403,
                         "date.deadline_passed", "report_deadlines")  # fmt: skip
    assert "2025-06-30" in says and "2025-12-31" not in says and "only the platform operator" in says
    no_deadlines = launch_body(city, starts_on="2025-01-01", ends_on="2025-07-04", report_deadlines=[])
    says = await refused(app, client.post("/campaigns", json=no_deadlines, headers=chair), 403,
                         "date.deadline_passed", "ends_on")  # fmt: skip
    assert "2025-07-04" in says  # without report deadlines the campaign's end is the deadline

    started_earlier = launch_body(city, report_deadlines=["2025-07-05", "2025-12-31"])
    launched = await client.post("/campaigns", json=started_earlier, headers=chair)  # begun in January: fine
    assert launched.status_code == 201, launched.text
    operator = {"Authorization": f"Bearer {issue_token(settings, 'admin')}"}
    on_paper = await client.post("/campaigns", json=launch_body(city, plan_number="19/KH-LĐLĐ"), headers=operator)
    assert on_paper.status_code == 201, on_paper.text
    assert on_paper.json()["report_deadlines"] == ["2025-06-30", "2025-12-31"]


async def test_a_campaign_closes_today_unless_the_operator_enters_a_review_held_on_paper(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, clock: Clock
) -> None:
    launched = await client.post("/campaigns", json=launch_body(city), headers=bearer(settings, "hn"))
    url = f"/campaigns/{launched.json()['campaign_id']}/close"
    clock.now = datetime(2026, 1, 10, 9, tzinfo=UTC)
    review = {"results": "Hoàn thành các chỉ tiêu"}
    await refused(app, client.post(url, json=review | {"closed_on": "2026-01-05"}, headers=bearer(settings, "hn")),
                  403, "date.backdated", "closed_on")  # fmt: skip
    await refused(app, client.post(url, json=review | {"closed_on": "2026-01-11"}, headers=bearer(settings, "hn")),
                  422, "date.in_future", "closed_on")  # fmt: skip
    closed = await client.post(url, json=review, headers=bearer(settings, "hn"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_on"] == "2026-01-10"
