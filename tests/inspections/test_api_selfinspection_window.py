"""A checklist's facts are its period's: the half-year review (sơ kết 6 tháng) lists what ran and was
registered from January to June (with the initiatives carried over from before, still unapplied) and
measures the commitments up to 30 June, however late it is opened, answered, submitted or amended; the
year review covers the whole year."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from contracts.pledges import CampaignLaunched, Commitment, PledgeSigned
from contracts.registry import InitiativeRejected
from services.inspections.domain.selfinspection import Window, period_window
from tests.inspections.api_helpers import CAMPAIGN, INDICATORS, Clock, World
from tests.inspections.test_api_selfinspection import FECON, NTL_CHAIR, PROOF, REGISTERED, open_round, post

SUMMER = "c0000000-0000-4000-8000-000000000019"  # a campaign that starts in August


def test_the_windows_of_the_two_periods() -> None:
    assert period_window(2025, "half_year") == Window(date(2025, 1, 1), date(2025, 6, 30))
    assert period_window(2025, "year") == Window(date(2025, 1, 1), date(2025, 12, 31))
    assert period_window(2024, "half_year").ends_on == date(2024, 6, 30)  # whatever the year's length


def checklist_id(world: World, path: str, period: str) -> str:
    return f"{world.ids[path]}-2025-{period}"


async def view(client: httpx.AsyncClient, world: World, period: str) -> dict[str, Any]:
    found = await client.get(f"/checklists/{checklist_id(world, 'hn.ntl.fecon', period)}", headers=FECON)
    assert found.status_code == 200, found.text
    return dict(found.json())


def initiatives(checklist: dict[str, Any]) -> set[str]:
    return {i["issued"]["initiative_id"] for i in checklist["items"] if i["kind"] == "initiative"}


def campaigns(checklist: dict[str, Any]) -> set[str]:
    return {i["issued"]["campaign_id"] for i in checklist["items"] if i["kind"] == "commitment"}


async def summer_campaign(world: World) -> None:
    """A campaign running from August, Fecon pledged to it."""
    launched = CampaignLaunched(
        campaign_id=SUMMER,
        launcher_unit_id=world.ids["hn"],
        launcher_path="hn",
        title="Tháng cao điểm an toàn lao động",
        plan_number="22/KH-LĐLĐ",
        pillars=("an toàn",),
        starts_on=date(2025, 8, 1),
        ends_on=date(2025, 10, 31),
        report_deadlines=(date(2025, 10, 31),),
        indicators=INDICATORS,
    )
    await world.feed(launched, "hn", datetime(2025, 7, 20, tzinfo=UTC), "pledges")
    pledge = PledgeSigned(
        pledge_id="pledge-summer-fecon",
        campaign_id=SUMMER,
        unit_id=world.ids["hn.ntl.fecon"],
        signed_on=date(2025, 8, 2),
        commitments=(Commitment(indicator="registered", target=3, deadline=date(2025, 10, 31)),),
        signatories=(),
    )
    await world.feed(pledge, "hn.ntl.fecon", datetime(2025, 8, 2, tzinfo=UTC), "pledges")


@pytest.fixture
async def year_of_facts(world: World, clock: Clock) -> World:
    """Fecon in November 2025: registrations on 15 June and on 1 September, one carried over from October
    2024 (never applied), one of 2024 applied and one of 2024 rejected (neither carried over), and a
    campaign that starts in August."""
    await world.initiative("hn.ntl.fecon", 1, on=date(2025, 6, 15))
    await world.initiative("hn.ntl.fecon", 2, on=date(2025, 9, 1))
    await world.initiative("hn.ntl.fecon", 3, on=date(2024, 10, 1))
    await world.initiative("hn.ntl.fecon", 4, on=date(2024, 5, 1), applied=date(2024, 8, 1))
    rejected = await world.initiative("hn.ntl.fecon", 5, on=date(2024, 11, 1))
    reject = InitiativeRejected(
        initiative_id=rejected, unit_id=world.ids["hn.ntl.fecon"], by_unit_path="hn.ntl", reasons="x", decided_by="m"
    )
    await world.feed(reject, "hn.ntl.fecon", datetime(2024, 12, 1, tzinfo=UTC), "registry")
    await summer_campaign(world)
    clock.set(date(2025, 11, 10))
    return world


async def test_a_half_year_checklist_lists_the_half_years_facts_however_late_it_is_opened(
    client: httpx.AsyncClient, year_of_facts: World
) -> None:
    world = year_of_facts
    opened = await open_round(client, world, period="half_year", due_on="2025-11-30")
    await open_round(client, world, period="year", due_on="2025-12-20", title="Tự kiểm tra năm 2025")
    round_ = (await client.get(f"/rounds/{opened['round_id']}", headers=NTL_CHAIR)).json()
    assert round_["window"] == {"from": "2025-01-01", "to": "2025-06-30"}
    half, year = await view(client, world, "half_year"), await view(client, world, "year")
    fecon = "hn.ntl.fecon"
    assert initiatives(half) == {f"{fecon}-1", f"{fecon}-3"}  # 15 June, and October 2024's carried over
    assert initiatives(year) == {f"{fecon}-1", f"{fecon}-2", f"{fecon}-3"}  # and 1 September
    assert campaigns(half) == {CAMPAIGN} and campaigns(year) == {CAMPAIGN, SUMMER}
    assert half["window"] == {"from": "2025-01-01", "to": "2025-06-30"}
    assert year["window"] == {"from": "2025-01-01", "to": "2025-12-31"}
    # Counted up to the window's last day: the half-year's one registration of the campaign, the year's two.
    measured = {p: next(i for i in c["items"] if i["key"] == REGISTERED) for p, c in (("h", half), ("y", year))}
    assert [measured[p][at]["measured"] for p in "hy" for at in ("issued", "now")] == [1, 1, 2, 2]


async def test_a_half_year_checklist_is_judged_on_the_half_years_facts(
    client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """Opened in June with 4 of its 10 registrations made; 7 more in September. Claiming the commitment
    done in the half-year review is contradicted (4 of 10 by 30 June) when answered, submitted and amended
    in September; the year review, answered then, is not (11 of 10)."""
    for n in range(4):
        await world.initiative("hn.ntl.fecon", n, on=date(2025, 3, 10 + n))
    await open_round(client, world, due_on="2025-06-30")
    for n in range(4, 11):
        await world.initiative("hn.ntl.fecon", n, on=date(2025, 9, 1))
    clock.set(date(2025, 9, 10))
    cid = checklist_id(world, "hn.ntl.fecon", "half_year")
    done = {"item": REGISTERED, "answer": "done", "evidence": PROOF}
    answered = await post(client, f"/checklists/{cid}/answers", done, FECON)
    assert (answered["contradiction"]["measured"], answered["contradiction"]["target"]) == (4, 10)
    half = await view(client, world, "half_year")
    assert next(i for i in half["items"] if i["key"] == REGISTERED)["now"]["measured"] == 4
    assert len(initiatives(half)) == 4  # September's registrations are not the half-year's

    rest = [{"item": i["key"], "answer": "not_done"} for i in half["items"] if i["key"] != REGISTERED]
    submitted = await post(client, f"/checklists/{cid}/submit", {"answers": [done, *rest]}, FECON)
    assert [(c["code"], c["measured"]) for c in submitted["contradictions"]] == [("done_below_target", 4)]
    amend = {"reason": "Bổ sung minh chứng", "answers": [{**done, "comment": "Đủ 11 sáng kiến"}]}
    amended = await post(client, f"/checklists/{cid}/amend", amend, FECON)
    assert [(c["code"], c["measured"]) for c in amended["contradictions"]] == [("done_below_target", 4)]
    above = (await client.get(f"/checklists/{cid}", headers=NTL_CHAIR)).json()
    assert [c["measured"] for c in above["contradictions"]] == [4]

    await open_round(client, world, period="year", due_on="2025-12-20", title="Tự kiểm tra năm 2025")
    yearly = checklist_id(world, "hn.ntl.fecon", "year")
    answered = await post(client, f"/checklists/{yearly}/answers", done, FECON)
    assert answered["contradiction"] is None
    year = await view(client, world, "year")
    assert next(i for i in year["items"] if i["key"] == REGISTERED)["now"]["measured"] == 11
