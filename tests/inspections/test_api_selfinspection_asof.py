"""A checklist's facts are as they stood on its window's last day, however late it is opened or answered:
a reported indicator by the value last reported on or before that day (the copy keeps every report by its
day), an application by its own day (``since``), not the day it was entered. The year review sees the
latest values."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from contracts.pledges import CampaignLaunched, Commitment, Indicator, PledgeSigned
from contracts.registry import InitiativeApplied
from services.inspections.adapters.tables import reported_history
from tests.inspections.api_helpers import Clock, World
from tests.inspections.test_api_selfinspection import ACTIVITIES, CEO, FECON, PROOF, open_round, post
from tests.inspections.test_api_selfinspection_window import checklist_id, initiatives, view

APPLYING = "c0000000-0000-4000-8000-000000000020"  # a campaign counting applications
APPLIED = f"commitment:{APPLYING}:applied"


def at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def item(checklist: dict[str, Any], key: str) -> dict[str, Any]:
    return dict(next(i for i in checklist["items"] if i["key"] == key))


async def open_both(client: httpx.AsyncClient, world: World) -> None:
    await open_round(client, world, period="half_year", due_on="2025-11-30")
    await open_round(client, world, period="year", due_on="2025-12-20", title="Tự kiểm tra năm 2025")


async def answer(client: httpx.AsyncClient, world: World, path: str, period: str, key: str, who: Any) -> Any:
    body = {"item": key, "answer": "done", "evidence": PROOF}
    return (await post(client, f"/checklists/{checklist_id(world, path, period)}/answers", body, who))["contradiction"]


@pytest.fixture
async def reports(world: World, clock: Clock) -> World:
    """Fecon reports 1 activity in May and 3 in October (its target: 2); Ceo reports nothing until
    September (5). It is November."""
    await world.report("hn.ntl.fecon", 1, ("Biên bản",), on=date(2025, 5, 20))
    await world.report("hn.ntl.fecon", 3, ("Biên bản",), on=date(2025, 10, 5))
    await world.report("hn.ntl.ceo", 5, ("Biên bản",), on=date(2025, 9, 15))
    clock.set(date(2025, 11, 10))
    return world


async def test_a_half_year_checklist_judges_a_reported_value_by_the_report_of_june(
    client: httpx.AsyncClient, reports: World
) -> None:
    world = reports
    await open_both(client, world)
    half, year = await view(client, world, "half_year"), await view(client, world, "year")
    assert [item(half, ACTIVITIES)[at]["measured"] for at in ("issued", "now")] == [1, 1]
    assert [item(year, ACTIVITIES)[at]["measured"] for at in ("issued", "now")] == [3, 3]

    found = await answer(client, world, "hn.ntl.fecon", "half_year", ACTIVITIES, FECON)
    assert (found["code"], found["measured"], found["target"]) == ("done_below_target", 1, 2)
    assert await answer(client, world, "hn.ntl.fecon", "year", ACTIVITIES, FECON) is None
    # Nothing reported by 30 June measures 0, as a value never reported: "done" is contradicted.
    found = await answer(client, world, "hn.ntl.ceo", "half_year", ACTIVITIES, CEO)
    assert (found["code"], found["measured"]) == ("done_below_target", 0)
    assert await answer(client, world, "hn.ntl.ceo", "year", ACTIVITIES, CEO) is None


async def test_a_report_counts_on_its_own_day_whenever_it_was_entered(
    client: httpx.AsyncClient, reports: World
) -> None:
    """A report of 25 June entered from paper in November (after October's) is the half-year's value;
    the year review keeps October's, the latest by its day; a second report of a day replaces the first."""
    world = reports
    await world.report("hn.ntl.fecon", 2, ("Biên bản",), on=date(2025, 6, 25))
    await world.report("hn.ntl.ceo", 1, ("Biên bản",), on=date(2025, 6, 1))
    await world.report("hn.ntl.ceo", 4, ("Biên bản",), on=date(2025, 6, 1))
    await open_both(client, world)
    half, year = await view(client, world, "half_year"), await view(client, world, "year")
    assert (item(half, ACTIVITIES)["now"]["measured"], item(year, ACTIVITIES)["now"]["measured"]) == (2, 3)
    assert await answer(client, world, "hn.ntl.fecon", "half_year", ACTIVITIES, FECON) is None
    ceo = checklist_id(world, "hn.ntl.ceo", "half_year")
    assert item((await client.get(f"/checklists/{ceo}", headers=CEO)).json(), ACTIVITIES)["now"]["measured"] == 4


async def test_a_copy_without_the_history_keeps_the_latest_report_until_it_is_rebuilt(
    app: Any, client: httpx.AsyncClient, reports: World
) -> None:
    """A copy made before the history was kept (the table created empty) measures its latest reports, as
    before, rather than none at all; a report after that is kept and judged by its day."""
    world = reports
    async with app.state.db.writer.begin() as conn:
        await conn.execute(delete(reported_history))
    await world.report("hn.ntl.ceo", 6, ("Biên bản",), on=date(2025, 11, 1))
    await open_both(client, world)
    assert item(await view(client, world, "half_year"), ACTIVITIES)["now"]["measured"] == 3  # October's
    ceo = checklist_id(world, "hn.ntl.ceo", "half_year")
    assert item((await client.get(f"/checklists/{ceo}", headers=CEO)).json(), ACTIVITIES)["now"]["measured"] == 0


async def applications_campaign(world: World) -> None:
    """A campaign of the year counting applications; Fecon pledged one."""
    counted = Indicator(
        code="applied",
        name="Sáng kiến được áp dụng",
        unit_of_measure="sáng kiến",
        direction="at_least",
        method="counted",
        source="initiatives_applied",
    )
    launched = CampaignLaunched(
        campaign_id=APPLYING,
        launcher_unit_id=world.ids["hn"],
        launcher_path="hn",
        title="Áp dụng sáng kiến",
        plan_number="25/KH-LĐLĐ",
        pillars=("sáng tạo",),
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        report_deadlines=(date(2025, 12, 31),),
        indicators=(counted,),
    )
    await world.feed(launched, "hn", at(date(2025, 1, 2)), "pledges")
    pledge = PledgeSigned(
        pledge_id="pledge-applying-fecon",
        campaign_id=APPLYING,
        unit_id=world.ids["hn.ntl.fecon"],
        signed_on=date(2025, 1, 20),
        commitments=(Commitment(indicator="applied", target=1, deadline=date(2025, 12, 31)),),
        signatories=(),
    )
    await world.feed(pledge, "hn.ntl.fecon", at(date(2025, 1, 20)), "pledges")


async def applied(world: World, initiative_id: str, since: date, entered: date) -> None:
    event = InitiativeApplied(
        initiative_id=initiative_id,
        unit_id=world.ids["hn.ntl.fecon"],
        where="Toàn đơn vị",
        since=since,
        evidence="Biên bản áp dụng",
        actual_benefit_vnd=1,
        reported_by="m",
    )
    await world.feed(event, "hn.ntl.fecon", at(entered), "registry")


async def test_an_application_counts_on_its_own_day_not_the_day_it_was_entered(
    client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """Fecon's initiative 1 applied since May, entered in August; initiative 2 applied since September;
    initiative 3, registered in October 2024, applied since September. It is November."""
    await applications_campaign(world)
    first = await world.initiative("hn.ntl.fecon", 1, on=date(2025, 3, 10))
    second = await world.initiative("hn.ntl.fecon", 2, on=date(2025, 3, 12))
    carried = await world.initiative("hn.ntl.fecon", 3, on=date(2024, 10, 1))
    await applied(world, first, date(2025, 5, 15), date(2025, 8, 20))
    await applied(world, second, date(2025, 9, 10), date(2025, 9, 10))
    await applied(world, carried, date(2025, 9, 20), date(2025, 9, 20))
    clock.set(date(2025, 11, 10))
    await open_both(client, world)
    half, year = await view(client, world, "half_year"), await view(client, world, "year")

    # The half-year: May's application counts, September's were not made yet (the one carried over from
    # 2024 still waited for its application on 30 June, so it is listed).
    assert [item(half, APPLIED)[at]["measured"] for at in ("issued", "now")] == [1, 1]
    assert initiatives(half) == {first, second, carried}
    states = {i["issued"]["initiative_id"]: (i["issued"]["status"], i["issued"]["applied_on"]) for i in half["items"]
              if i["kind"] == "initiative"}  # fmt: skip
    assert states == {first: ("applied", "2025-05-15"), second: ("recognised", None), carried: ("recognised", None)}
    assert await answer(client, world, "hn.ntl.fecon", "half_year", f"initiative:{first}", FECON) is None
    found = await answer(client, world, "hn.ntl.fecon", "half_year", f"initiative:{second}", FECON)
    assert found["code"] == "applied_without_application"
    found = await answer(client, world, "hn.ntl.fecon", "half_year", f"initiative:{carried}", FECON)
    assert found["code"] == "applied_without_application"

    # The year: all three applications count; the one carried over was applied in the year, so no longer
    # waits (listed as before: registered in the window, or still unapplied).
    assert item(year, APPLIED)["now"]["measured"] == 3
    assert initiatives(year) == {first, second}
    for initiative_id in (first, second):
        assert await answer(client, world, "hn.ntl.fecon", "year", f"initiative:{initiative_id}", FECON) is None
