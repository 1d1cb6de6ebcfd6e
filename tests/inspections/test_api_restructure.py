"""A move or a merge while a round or an inspection is open strands nothing: the moved unit still answers
and submits its checklist (its new level sees it, its old one does not), a merged unit's checklist is
withdrawn instead of turning overdue, and open corrective actions keep someone who reports and verifies
them."""

from datetime import date

import httpx

from services.inspections.application import overdue
from tests.inspections.api_helpers import Clock, World
from tests.inspections.test_api_inspections import FECON, UBKT, decided
from tests.inspections.test_api_selfinspection import NTL_CHAIR, full_answers, key, open_round, post, problem
from tests.people import bearer

DD = bearer(None, "hn.dd", "chair")
DD_UBKT = bearer(None, "hn.dd", "inspection_committee")


async def test_a_unit_that_moves_during_a_round_still_answers_and_its_new_level_sees_it(
    client: httpx.AsyncClient, world: World
) -> None:
    await open_round(client, world)
    cid = f"{world.ids['hn.ntl.fecon']}-2025-half_year"
    await world.move("hn.ntl.fecon", "hn.dd")
    view = (await client.get(f"/checklists/{cid}", headers=bearer(None, "hn.dd.fecon", "executive_committee"))).json()
    assert view["path"] == "hn.dd.fecon"
    submitted = await post(
        client,
        f"/checklists/{cid}/submit",
        {"answers": full_answers(world, view)},
        bearer(None, "hn.dd.fecon", "executive_committee"),
    )
    assert submitted["contradictions"]
    assert (await client.get(f"/checklists/{cid}", headers=DD)).json()["status"] == "submitted"
    assert (await client.get(f"/checklists/{cid}", headers=NTL_CHAIR)).status_code == 404


async def test_a_unit_that_merges_during_a_round_has_its_checklist_withdrawn_not_overdue(
    client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    opened = await open_round(client, world)
    await world.merge("hn.ntl.ceo", "hn.ntl.fecon")
    clock.set(date(2025, 7, 2))
    checked = await post(client, f"/rounds/{opened['round_id']}/overdue-check", {}, NTL_CHAIR)
    assert (checked["overdue_recorded"], checked["withdrawn"]) == (1, 1)  # Fecon overdue; CEO withdrawn
    assert await overdue.tick(world.deps) == 0
    ceo = (await client.get(f"/checklists/{world.ids['hn.ntl.ceo']}-2025-half_year", headers=NTL_CHAIR)).json()
    assert ceo["status"] == "withdrawn" and not ceo["overdue"]


async def test_an_inspection_open_when_its_unit_moves_away(client: httpx.AsyncClient, world: World) -> None:
    member = await world.person("hn.ntl", ("inspection_committee",))
    iid = await decided(client, world, [member])
    fecon = world.ids["hn.ntl.fecon"]
    finding = await post(
        client,
        f"/inspections/{iid}/units/{fecon}/findings",
        {"severity": "minor", "description": "Sổ sáng kiến chưa cập nhật"},
        UBKT,
        201,
    )
    action = await post(
        client,
        f"/inspections/{iid}/units/{fecon}/actions",
        {
            "finding_id": finding["finding_id"],
            "description": "Cập nhật sổ",
            "owner": "Chủ tịch",
            "due_on": "2025-09-30",
        },
        UBKT,
        201,
    )
    await world.move("hn.ntl.fecon", "hn.dd")
    left = await client.post(
        f"/inspections/{iid}/units/{fecon}/findings",
        json={"severity": "minor", "description": "Thêm"},
        headers={**UBKT, **key()},
    )
    assert problem(left, 409, "inspection.unit_left")["params"]["unit"] == "hn.dd.fecon"
    base = f"/inspections/{iid}/units/{fecon}/actions/{action['action_id']}"
    fixer = bearer(None, "hn.dd.fecon", "chair")
    await post(client, f"{base}/fix", {"description": "Đã cập nhật", "evidence": {"text": "Sổ đã cập nhật"}}, fixer)
    problem(await client.post(f"{base}/verify", json={}, headers={**UBKT, **key()}), 403, "forbidden")
    verified = await post(client, f"{base}/verify", {"note": "Đạt"}, DD_UBKT)
    assert verified["by_path"] == "hn.dd"
    assert FECON  # the helpers' Fecon token named hn.ntl.fecon, which no longer exists


async def test_the_fixes_of_a_merged_unit_are_reported_by_the_unit_it_merged_into(
    client: httpx.AsyncClient, world: World
) -> None:
    member = await world.person("hn.ntl", ("inspection_committee",))
    ceo = world.ids["hn.ntl.ceo"]
    iid = await decided(client, world, [member], units=[ceo])
    finding = await post(
        client,
        f"/inspections/{iid}/units/{ceo}/findings",
        {"severity": "serious", "description": "Chi sai mục đích"},
        UBKT,
        201,
    )
    action = await post(
        client,
        f"/inspections/{iid}/units/{ceo}/actions",
        {
            "finding_id": finding["finding_id"],
            "description": "Thu hồi khoản chi",
            "owner": "Chủ tịch",
            "due_on": "2025-09-30",
        },
        UBKT,
        201,
    )
    await world.merge("hn.ntl.ceo", "hn.ntl.fecon")
    base = f"/inspections/{iid}/units/{ceo}/actions/{action['action_id']}"
    fixed = await post(
        client,
        f"{base}/fix",
        {"description": "Đã thu hồi", "evidence": {"text": "Phiếu thu"}},
        bearer(None, "hn.ntl.fecon", "chair"),
    )
    assert fixed["unit_id"] == ceo
    assert (await post(client, f"{base}/verify", {}, UBKT))["by_path"] == "hn.ntl"
