"""The reminder scheduler: before a report deadline it reminds units that have not reported yet, after
it tells those that did not report in time, and it tells a launcher whose campaign is past its end and
not closed. Every reminder is its own stream appended at version 0, so a second tick (or a second
replica) never issues it twice. The clock is injected: tests move time, nothing sleeps.

It ticks every minute, and also as soon as what it judges changes: a campaign launched or a target
assigned may already be past a report deadline (a campaign entered from paper; the demo city's
emulation month is launched after the service starts), and its late units are told at once, not at
the next minute.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.pledges import ReminderIssued, ReminderKind
from services.pledges.adapters.records import PledgesRecords
from services.pledges.application.deps import Clock
from shared.commands import CommandContext
from shared.errors import ConcurrencyError
from shared.events import EventEnvelope
from shared.eventstore import EventStore, StreamAppend
from shared.eventstore.schema import events as stored_events
from shared.identity import Caller

log = logging.getLogger(__name__)

_SCHEDULER = Caller.system("pledges-scheduler")


def cutoff(day: date) -> datetime:
    """A deadline day ends at midnight after it (UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min, UTC)


def reminder_stream(campaign_id: str, unit_id: str, kind: str, deadline: date) -> str:
    return f"reminder-{campaign_id}-{unit_id}-{kind}-{deadline.isoformat()}"


# What a tick judges besides the clock: the open campaigns with their deadlines, and who owes reports.
JUDGED = frozenset({"CampaignLaunched", "TargetAssigned"})


class FactsChanged:
    """An inline projection of the store that writes nothing: it notes that a batch holds something the
    scheduler judges, so the scheduler ticks without waiting for its minute."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
        if any(envelope.event_type in JUDGED for envelope in envelopes):
            self.changed.set()


class ReminderScheduler:
    def __init__(
        self,
        store: EventStore,
        records: PledgesRecords,
        clock: Clock,
        *,
        lead: timedelta = timedelta(days=7),
        look_back: timedelta = timedelta(days=30),
    ) -> None:
        self.store, self.records, self.clock = store, records, clock
        self.lead, self.look_back = lead, look_back

    async def tick(self) -> list[ReminderIssued]:
        """Issue every reminder due now that was not issued before; returns those issued."""
        now = self.clock()
        due: list[tuple[ReminderIssued, str]] = []
        for campaign in await self.records.open_campaigns():
            due += await self._due(campaign, now)
        fresh = await self._not_yet_issued(due)
        ctx = CommandContext(caller=_SCHEDULER)
        issued = []
        for reminder, path in fresh:
            stream = reminder_stream(reminder.campaign_id, reminder.unit_id, reminder.kind, reminder.deadline)
            try:
                await self.store.append(StreamAppend.of(stream, 0, [(reminder, ctx.metadata(path))]))
            except ConcurrencyError:
                continue  # another replica issued it first
            issued.append(reminder)
        return issued

    async def _due(self, campaign: dict[str, Any], now: datetime) -> list[tuple[ReminderIssued, str]]:
        launch = campaign["launch"]
        cid = campaign["campaign_id"]
        due: list[tuple[ReminderIssued, str]] = []

        def remind(unit_id: str, path: str, kind: ReminderKind, deadline: date, message: str) -> None:
            due.append(
                (
                    ReminderIssued(
                        campaign_id=cid, unit_id=unit_id, kind=kind, deadline=deadline, issued_at=now, message=message
                    ),
                    path,
                )
            )

        if now >= cutoff(campaign["ends_on"]):
            remind(
                campaign["launcher_unit_id"],
                campaign["launcher_path"],
                "campaign_close_overdue",
                campaign["ends_on"],
                f"Phong trào '{campaign['title']}' đã kết thúc ngày {campaign['ends_on']:%d/%m/%Y} nhưng chưa tổng kết",
            )
        reported = {i["code"] for i in launch["indicators"] if i["method"] == "reported"}
        owing = [t for t in await self.records.targets_of(cid) if t["path"] and set(t["targets"]) & reported]
        if not owing:
            return due
        deadlines = [date.fromisoformat(d) for d in launch["report_deadlines"]]
        previous = datetime.combine(campaign["starts_on"], time.min, UTC)
        for deadline in deadlines:
            end = cutoff(deadline)
            if end - self.lead <= now < end:
                done = await self.records.reported_units(cid, previous, now)
                for t in owing:
                    if t["unit_id"] not in done:
                        remind(t["unit_id"], t["path"], "report_due_soon", deadline,
                               f"Hạn báo cáo kết quả '{campaign['title']}' là ngày {deadline:%d/%m/%Y}")  # fmt: skip
            elif end <= now < end + self.look_back:
                done = await self.records.reported_units(cid, previous, end)
                for t in owing:
                    if t["unit_id"] not in done:
                        remind(t["unit_id"], t["path"], "report_overdue", deadline,
                               f"Chưa báo cáo kết quả '{campaign['title']}' đúng hạn {deadline:%d/%m/%Y}")  # fmt: skip
            previous = end
        return due

    async def _not_yet_issued(self, due: list[tuple[ReminderIssued, str]]) -> list[tuple[ReminderIssued, str]]:
        streams = {reminder_stream(r.campaign_id, r.unit_id, r.kind, r.deadline): (r, p) for r, p in due}
        issued: set[str] = set()
        names = sorted(streams)
        async with self.store.db.reader.connect() as conn:
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                rows = await conn.execute(select(stored_events.c.stream_id).where(stored_events.c.stream_id.in_(chunk)))
                issued.update(sid for (sid,) in rows)
        return [pair for name, pair in streams.items() if name not in issued]


def reminder_task(interval_seconds: float = 60.0, settle_seconds: float = 0.5):  # type: ignore[no-untyped-def]
    """A background task ticking the app's scheduler at start, every ``interval_seconds``, and
    ``settle_seconds`` after a batch changed what it judges (``app.state.reminder_facts``; the pause lets
    that batch's transaction commit and the rest of a burst of commands arrive: one tick for them all)."""

    async def remind(app: FastAPI, stop: asyncio.Event) -> None:
        scheduler: ReminderScheduler = app.state.reminders
        facts: FactsChanged = app.state.reminder_facts
        while not stop.is_set():
            facts.changed.clear()  # what changes during the tick wakes the next one
            try:
                issued = await scheduler.tick()
                if issued:
                    log.info("issued %d reminders", len(issued))
            except Exception as error:  # the database is away: try again next tick
                log.warning("reminder tick failed: %s", error)
            if await _first_of(stop, facts.changed, interval_seconds) is facts.changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settle_seconds)

    return remind


async def _first_of(stop: asyncio.Event, other: asyncio.Event, seconds: float) -> asyncio.Event | None:
    """Whichever event is set first (``stop`` if both are), or None after ``seconds``."""
    waits = {asyncio.create_task(stop.wait()): stop, asyncio.create_task(other.wait()): other}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    return stop if stop.is_set() else other if other.is_set() else None
