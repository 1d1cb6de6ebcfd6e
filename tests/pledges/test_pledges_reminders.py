"""The reminder scheduler under a clock the test moves: reminders before a report deadline to units
that have not reported, after it to those that did not report in time, to the launcher of a campaign
past its end and not closed — each once, however often the scheduler ticks."""

from typing import Any

import httpx
from fastapi import FastAPI

from services.pledges.application.reminders import ReminderScheduler
from shared.settings import Settings
from tests.pledges.pledges_helpers import City, Clock, bearer, event_count
from tests.pledges.test_pledges_api import launch_body


async def issued(scheduler: ReminderScheduler, city: City) -> list[tuple[str, str, str]]:
    paths = {v: k for k, v in city.ids.items()}
    return sorted((paths[r.unit_id], r.kind, r.deadline.isoformat()) for r in await scheduler.tick())


async def test_reminders_before_and_after_deadlines_once_each(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, clock: Clock
) -> None:
    response = await client.post("/campaigns", json=launch_body(city), headers=bearer(settings, "hn"))
    cid: Any = response.json()["campaign_id"]
    scheduler: ReminderScheduler = app.state.reminders

    assert await issued(scheduler, city) == []  # 1 March: no deadline within a week
    clock.now = clock.now.replace(month=6, day=25)
    report = {"unit_id": city.ids["hn.dd"], "indicator": "activities", "value": 1, "evidence": ["Biên bản"]}
    assert (
        await client.post(f"/campaigns/{cid}/reports", json=report, headers=bearer(settings, "hn.dd"))
    ).status_code == 201
    assert await issued(scheduler, city) == [("hn.ntl", "report_due_soon", "2025-06-30")]  # Đống Đa reported
    before = await event_count(app)
    assert await issued(scheduler, city) == []  # the same tick again issues nothing
    assert await event_count(app) == before

    clock.now = clock.now.replace(month=7, day=1)
    assert await issued(scheduler, city) == [("hn.ntl", "report_overdue", "2025-06-30")]
    clock.advance(days=1)
    assert await issued(scheduler, city) == []

    clock.now = clock.now.replace(year=2026, month=1, day=2)
    assert await issued(scheduler, city) == [
        ("hn", "campaign_close_overdue", "2025-12-31"),
        ("hn.dd", "report_overdue", "2025-12-31"),  # its June report does not cover December
        ("hn.ntl", "report_overdue", "2025-12-31"),
    ]
    review = {"results": "Tổng kết", "lessons": "", "commended": []}
    assert (
        await client.post(f"/campaigns/{cid}/close", json=review, headers=bearer(settings, "hn"))
    ).status_code == 200
    clock.advance(days=1)
    assert await issued(scheduler, city) == []  # a closed campaign reminds no one
