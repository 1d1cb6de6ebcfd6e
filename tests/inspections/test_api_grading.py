"""Yearly grading over HTTP: self-grading, eligibility from the directory's history, confirmation or a
changed grade with its reason; every refusal with its status, field and code."""

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from services.inspections.domain.rulesets import HD_1294_2019
from tests.inspections.api_helpers import Clock, World
from tests.inspections.test_api_selfinspection import key, post, problem
from tests.people import bearer

FECON = bearer(None, "hn.ntl.fecon", "chair")
NTL = bearer(None, "hn.ntl", "standing_committee")
FULL = {i.code: i.max_points for i in HD_1294_2019.grading_indicators["enterprise"]}


@pytest.fixture(autouse=True)
def december(clock: Clock) -> None:
    clock.set(date(2025, 12, 10))


def body(world: World, path: str = "hn.ntl.fecon", **overrides: Any) -> dict[str, Any]:
    return {"unit_id": world.ids[path], "year": 2025, "union_type": "enterprise", "scores": FULL} | overrides


async def test_self_grading_and_confirmation(client: httpx.AsyncClient, world: World) -> None:
    graded = await post(client, "/grades", body(world, scores=FULL | {"welfare": 0.0}), FECON, 201)
    assert (graded["points"], graded["grade"], graded["rule_set"]) == (90, "excellent", "1294-2019.1")
    url = f"/grades/{world.ids['hn.ntl.fecon']}/2025"
    problem(
        await client.post(f"{url}/confirm", json={}, headers={**bearer(None, "hn.dd", "chair"), **key()}),
        403,
        "forbidden",
    )
    problem(
        await client.post(f"{url}/confirm", json={}, headers={**bearer(None, "hn", "chair"), **key()}), 403, "forbidden"
    )
    unexplained = await client.post(f"{url}/confirm", json={"grade": "good"}, headers={**NTL, **key()})
    problem(unexplained, 422, "grading.reason_required", "reason")
    confirmed = await post(client, f"{url}/confirm", {"grade": "good", "reason": "Chưa đối thoại định kỳ"}, NTL)
    assert (confirmed["grade"], confirmed["self_grade"], confirmed["changed"]) == ("good", "excellent", True)
    assert (confirmed["unit_path"], confirmed["by_path"], confirmed["revision"]) == ("hn.ntl.fecon", "hn.ntl", 1)
    member = bearer(None, "hn.ntl.fecon.thi-cong", "member")  # published to the unit's members
    seen = (await client.get(url, headers=member)).json()
    assert seen["grade"] == "good" and seen["label"] == "Hoàn thành tốt nhiệm vụ" and len(seen["history"]) == 2
    assert (await client.get(url, headers=bearer(None, "hn.ntl.ceo", "chair"))).status_code == 404
    regrade = await client.post("/grades", json=body(world), headers={**FECON, **key()})
    assert problem(regrade, 409, "grading.confirmed")["allowed_next"] == ["revise_confirmation"]


async def test_grading_refusals(client: httpx.AsyncClient, world: World, clock: Clock) -> None:
    problem(await client.post("/grades", json=body(world), headers={**NTL, **key()}), 403, "forbidden", "unit_id")
    missing = {k: v for k, v in FULL.items() if k != "finance"}
    problem(
        await client.post("/grades", json=body(world, scores=missing), headers={**FECON, **key()}),
        422,
        "grading.unscored",
        "scores.finance",
    )
    over = FULL | {"reporting": 6.0}
    problem(
        await client.post("/grades", json=body(world, scores=over), headers={**FECON, **key()}),
        422,
        "grading.points_out_of_range",
        "scores.reporting",
    )
    wrong_set = body(world, union_type="public_sector")
    problem(await client.post("/grades", json=wrong_set, headers={**FECON, **key()}), 422, "grading.unknown_indicator")
    not_finite = await client.post(
        "/grades",
        content=b'{"unit_id": "x", "year": 2025, "union_type": "enterprise", "scores": {"finance": NaN}}',
        headers={**FECON, **key(), "Content-Type": "application/json"},
    )
    assert not_finite.status_code == 422
    upper = body(world, "hn.ntl")
    ntl_chair = {**bearer(None, "hn.ntl", "chair"), **key()}
    problem(await client.post("/grades", json=upper, headers=ntl_chair), 409, "grading.not_grassroots")
    clock.set(date(2025, 11, 20))
    problem(
        await client.post("/grades", json=body(world), headers={**FECON, **key()}), 422, "grading.too_early", "year"
    )


async def test_a_union_too_young_is_not_graded_and_is_told_why(client: httpx.AsyncClient, world: World) -> None:
    await world.unit("hn.ntl.moi", "grassroots_union", "hn.ntl", datetime(2025, 4, 1, tzinfo=UTC))
    refused = await client.post(
        "/grades", json=body(world, "hn.ntl.moi"), headers={**bearer(None, "hn.ntl.moi", "chair"), **key()}
    )
    found = problem(refused, 409, "grading.not_eligible", "year")
    assert found["params"] | {} == {
        "unit": "hn.ntl.moi",
        "since": "2025-04-01",
        "months": 8,
        "required": 12,
        "reason": "new",
        "rule_set": "1294-2019.1",
    }


async def test_a_union_older_than_its_directory_record_is_graded_from_its_founding_date(
    client: httpx.AsyncClient, world: World
) -> None:
    """The directory knows a union from its registration on the platform; the operator may declare the
    founding decision's date, and the months are counted from the earlier of the two (the rule still holds)."""
    await world.unit("hn.ntl.moi", "grassroots_union", "hn.ntl", datetime(2025, 4, 1, tzinfo=UTC))
    chair, operator = bearer(None, "hn.ntl.moi", "chair"), bearer(None, "hn", "admin")
    declared = body(world, "hn.ntl.moi", founded_on="2012-05-19")
    by_chair = await client.post("/grades", json=declared, headers={**chair, **key()})
    problem(by_chair, 403, "grading.founded_on_operator_only", "founded_on", says="only the platform operator")
    future = await client.post("/grades", json=declared | {"founded_on": "2025-12-11"}, headers={**operator, **key()})
    problem(future, 422, "date.in_future", "founded_on", says="after today")
    recent = await client.post("/grades", json=declared | {"founded_on": "2025-03-01"}, headers={**operator, **key()})
    assert problem(recent, 409, "grading.not_eligible", "year")["params"]["since"] == "2025-03-01"
    graded = await post(client, "/grades", declared, operator, 201)
    assert graded["founded_on"] == "2012-05-19" and graded["grade"] == "excellent"


async def test_six_months_after_a_merger_suffice(client: httpx.AsyncClient, world: World, clock: Clock) -> None:
    clock.now = datetime(2025, 8, 1, tzinfo=UTC)
    await world.merge("hn.ntl.ceo", "hn.ntl.fecon")  # Fecon absorbs CEO on 1/8: four months by the end of 2025
    clock.set(date(2025, 12, 10))
    refused = await client.post("/grades", json=body(world), headers={**FECON, **key()})
    assert problem(refused, 409, "grading.not_eligible")["params"]["reason"] == "restructured"
    clock.set(date(2026, 12, 10))
    assert (await client.post("/grades", json=body(world, year=2026), headers={**FECON, **key()})).status_code == 201
