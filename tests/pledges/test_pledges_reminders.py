"""The reminder scheduler under a clock the test moves: reminders before a report deadline to units
that have not reported, after it to those that did not report in time, to the launcher of a campaign
past its end and not closed — each once, however often the scheduler ticks."""

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.pledges.application.reminders import ReminderScheduler, reminder_task
from shared.auth import issue_token
from shared.eventstore.schema import events
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


async def stored_reminders(app: FastAPI, city: City) -> list[tuple[str, str, str]]:
    paths = {v: k for k, v in city.ids.items()}
    async with app.state.store.db.reader.connect() as conn:
        rows = (await conn.execute(select(events.c.data).where(events.c.event_type == "ReminderIssued"))).all()
    return sorted((paths[r["unit_id"]], r["kind"], r["deadline"]) for (r,) in rows)


async def test_a_campaign_launched_past_a_deadline_tells_its_late_units_at_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, city: City, clock: Clock
) -> None:
    """The scheduler ticks at start and then hourly here, yet a campaign launched after its first report
    deadline (entered from paper; the demo city's emulation month arrives after start-up) has its late
    units told within moments: the launch's commit wakes it."""
    stop = asyncio.Event()
    running = asyncio.create_task(reminder_task(interval_seconds=3600, settle_seconds=0.05)(app, stop))
    try:
        await asyncio.sleep(0.2)  # the tick at start: no campaign yet
        assert await stored_reminders(app, city) == []
        clock.now = clock.now.replace(month=7, day=3)
        operator = {"Authorization": f"Bearer {issue_token(settings, 'admin')}"}  # a plan run on paper
        response = await client.post("/campaigns", json=launch_body(city), headers=operator)
        assert response.status_code == 201, response.text
        for _ in range(200):  # 10 s at most; the wake comes within the settle pause
            if found := await stored_reminders(app, city):
                break
            await asyncio.sleep(0.05)
        assert found == [("hn.dd", "report_overdue", "2025-06-30"), ("hn.ntl", "report_overdue", "2025-06-30")]
        report = {"unit_id": city.ids["hn.dd"], "indicator": "activities", "value": 1, "evidence": ["Biên bản"]}
        reported = await client.post(
            f"/campaigns/{cid(response)}/reports", json=report, headers=bearer(settings, "hn.dd")
        )
        assert reported.status_code == 201, reported.text
        await asyncio.sleep(0.3)  # a report wakes nothing, and the late ones stay told once
        assert len(await stored_reminders(app, city)) == 2
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


def cid(response: httpx.Response) -> str:
    return str(response.json()["campaign_id"])
