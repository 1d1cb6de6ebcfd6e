"""The inspections part of the demo city loads through the inspections API (the platform admin's token),
after the city, its initiatives and its campaign were loaded through theirs, as ``make run`` does: a
half-year round with most checklists submitted, some late, some overdue, some contradicted by the facts;
two inspections with corrective actions in every state; last year's grading tried; and a second load
changes nothing. (No NATS: the producers' stored events are fed to the service's copies, and its own
events come back to its facts as its consumer would bring them.)"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from demo.campaign import load_campaign
from demo.city import CITY, load_city
from demo.initiatives import load_initiatives
from demo.inspections import CLAIM_ALL_DONE, LATE, NEVER_SUBMITTED, load_inspections, round_year
from demo.paper import BUNCHED, NEVER_APPLIED, load_paper_records
from services.awards.entrypoints.main import create_app as awards_app
from services.directory.entrypoints.main import create_app as directory_app
from services.inspections.adapters import views
from services.inspections.adapters.tables import actions
from services.inspections.domain.rulesets import SIGNALS, rules_on
from services.inspections.entrypoints.main import create_app as inspections_app
from services.pledges.entrypoints.main import create_app as pledges_app
from services.registry.entrypoints.main import create_app as registry_app
from shared.auth import issue_token
from shared.directory_copy import units as copy_units
from shared.settings import Settings
from tests.copies import feed
from tests.inspections.api_helpers import Clock, World


def _settings(tmp_path: Path, name: str) -> Settings:
    return Settings(
        service=name, database_url=f"sqlite+aiosqlite:///{tmp_path}/{name}.db", relay_enabled=False,
        log_json=False, log_level="WARNING",
    )  # fmt: skip


@pytest.fixture
async def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, FastAPI]]:
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    made: dict[str, FastAPI] = {}
    async with AsyncExitStack() as stack:
        for name, factory in (
            ("directory", directory_app), ("registry", registry_app), ("pledges", pledges_app), ("awards", awards_app),
        ):  # fmt: skip
            made[name] = factory(_settings(tmp_path, name))
        # The real clock: the demo's round ran months ago, and lateness is judged against today.
        made["inspections"] = inspections_app(
            _settings(tmp_path, "inspections"), clock=Clock(datetime.now(UTC)), sweep=False
        )
        for app in made.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield made


def _client(app: FastAPI, token: str) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://demo", headers=headers, timeout=60)


async def test_the_demo_round_inspections_and_grades_load_through_the_api(apps: dict[str, FastAPI]) -> None:
    admin = issue_token(apps["directory"].state.settings, "admin")
    directory, registry, pledges, awards, inspections = (
        _client(apps[n], admin) for n in ("directory", "registry", "pledges", "awards", "inspections")
    )
    world = World(apps["inspections"])
    today = world.deps.today()
    await load_city(directory)
    stored = await apps["directory"].state.store.read_after(0, limit=100_000)
    for name in ("registry", "pledges", "awards"):
        await feed(apps[name].state.directory, [(env.to_event(), env.metadata.unit_path) for env in stored])
    await load_initiatives(registry, per_unit=4, today=today)
    await load_campaign(pledges, directory, today.year)
    paper = await load_paper_records(registry, pledges, directory, today)
    late_reports = await apps["pledges"].state.reminders.tick()  # as the pledges scheduler would, soon after
    for name in ("directory", "registry", "pledges"):  # what the service's consumers copy from NATS
        for envelope in await apps[name].state.store.read_after(0, limit=100_000):
            await world.feed(envelope.to_event(), envelope.metadata.unit_path, envelope.occurred_at, name)

    awarded = 0

    async def catch_up() -> None:
        """The service's own events back into its facts, and the awards service's, as NATS would bring them."""
        nonlocal awarded
        await world.sync_own()
        for envelope in await apps["awards"].state.store.read_after(awarded, limit=100_000):
            await world.feed(envelope.to_event(), envelope.metadata.unit_path, envelope.occurred_at, "awards")
            awarded = envelope.position or awarded

    stop = asyncio.Event()

    async def consumer() -> None:  # stopped between passes, never inside one (nothing half-fed)
        while not stop.is_set():
            await catch_up()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)

    task = asyncio.create_task(consumer())
    try:
        outcome = await load_inspections(inspections, directory, awards=awards)
    finally:
        stop.set()
        await task
    await catch_up()

    grassroots = 25
    assert outcome["checklists issued"] == grassroots
    assert outcome["overdue"] == len(NEVER_SUBMITTED)
    assert outcome["submitted late"] == len(LATE)
    assert outcome["submitted on time"] == grassroots - len(NEVER_SUBMITTED) - len(LATE)
    assert outcome["contradicted by the facts"] >= len(CLAIM_ALL_DONE)
    subtree = (await directory.get(f"/units/by-path/{CITY[0]}")).json()
    subtree = (await directory.get(f"/units/{subtree['unit_id']}/subtree")).json()["units"]
    grassroots_units = [u for u in subtree if u["kind"] == "grassroots_union"]
    assert outcome["amended with a reason"] == 1
    assert outcome["inspections"] == 2 and outcome["findings"] == 5
    for state in ("open", "fix_reported", "verified", "reopened"):
        assert outcome[f"actions {state}"] == 1, state
    assert outcome["actions overdue"] == 2
    # The directory registered the city today; the founding dates the operator enters make them eligible.
    assert (outcome["grades confirmed"], outcome["grades changed by the parent"]) == (5, 1)
    assert "grades refused: not operating long enough" not in outcome
    assert outcome["awards to officials"] == 2

    # The half-year's checklists list the half-year's initiatives (the demo's paper records of January to
    # June): none registered since, and the unions claiming everything done are contradicted on theirs.
    year = round_year(today)
    listed: dict[str, list[dict[str, Any]]] = {}
    for unit in grassroots_units:
        checklist = (await inspections.get(f"/checklists/{unit['unit_id']}-{year}-half_year")).json()
        assert checklist["window"] == {"from": f"{year}-01-01", "to": f"{year}-06-30"}
        listed[unit["path"]] = [i["now"] for i in checklist["items"] if i["kind"] == "initiative"]
        if unit["path"] in CLAIM_ALL_DONE:
            flagged = {c["code"] for c in checklist["contradictions"]}
            assert "applied_without_application" in flagged, unit["path"]
    days = [date.fromisoformat(i["registered_on"]) for items in listed.values() for i in items]
    assert len(days) > 25 and all(date(year, 1, 1) <= day <= date(year, 6, 30) for day in days)
    assert all(listed[path] for path in CLAIM_ALL_DONE)
    assert any(i["applied_on"] for items in listed.values() for i in items)  # and those applied since

    rules = rules_on(today)
    async with apps["inspections"].state.db.reader.connect() as conn:
        rows = await views.radar_rows(conn, copy_units, "hn", today, rules)
        total, overdue = await views.overdue(conn, copy_units, "hn", today, 50, 0)
        states = [(r.status, r.reopened, r.due_on < today) for r in await conn.execute(select(actions))]
        graded = {g["path"]: g for g in await views.grade_list(conn, copy_units, "hn", today.year - 1)}
    shown = {kind for row in rows for kind in views.risk_view(row)["signals"]}
    assert shown == set(SIGNALS)  # every sign of formalism, each arisen from what was entered
    assert paper == {"campaigns": 1, "reports on paper": 2, "registrations on paper": 9}
    assert len([r for r in late_reports if r.kind == "report_overdue"]) == 2  # the two without a paper report
    signed = {row.path: set(views.risk_view(row)["signals"]) for row in rows}
    assert "bunched_registrations" in signed[BUNCHED] and "never_applied" in signed[NEVER_APPLIED]
    assert {p for p, kinds in signed.items() if "report_late" in kinds} == {"hn.xd.nha-ha-noi", "hn.xd.vlxd"}
    assert total == len(NEVER_SUBMITTED) and {o["path"] for o in overdue} == set(NEVER_SUBMITTED)
    assert all(o["due_on"] == f"{round_year(today)}-07-15" and o["days_late"] > 0 for o in overdue)
    assert sorted(states) == sorted(
        [
            ("open", 0, False),  # open
            ("fix_reported", 0, False),
            ("verified", 0, False),
            ("open", 1, False),  # reopened
            ("open", 0, True),  # overdue (twice)
            ("open", 0, True),
        ]
    )
    assert len(graded) == 6 and all(g["confirmed"] for g in graded.values())
    handico = graded["hn.dd.handico"]
    assert (handico["self_grade"], handico["grade"], handico["changed"]) == ("excellent", "good", True)
    assert await load_inspections(inspections, directory) == {}  # a second load keeps the data
    for each in (directory, registry, pledges, awards, inspections):
        await each.aclose()
