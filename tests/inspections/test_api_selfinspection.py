"""Self-inspection over HTTP: rounds, pre-filled checklists, answers flagged by the facts, submission,
amendment, overdue once, closing; every refusal with its status, field and code."""

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from services.inspections.adapters import views
from services.inspections.application import overdue
from services.inspections.domain.rulesets import HD_1294_2019
from shared.directory_copy import units as copy_units
from tests.inspections.api_helpers import Clock, World
from tests.inspections.evidence_files import pdf
from tests.people import bearer

NTL_CHAIR = bearer(None, "hn.ntl", "chair")
FECON = bearer(None, "hn.ntl.fecon", "executive_committee")
CEO = bearer(None, "hn.ntl.ceo", "chair")
REGISTERED = "commitment:c0000000-0000-4000-8000-000000000018:registered"
ACTIVITIES = "commitment:c0000000-0000-4000-8000-000000000018:activities"
PROOF = {"text": "Biên bản họp BCH ngày 20/6/2025"}


def key(n: int = 0) -> dict[str, str]:
    return {"Idempotency-Key": f"k-{n}-{uuid.uuid4()}"}


async def post(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], who: dict[str, str], status: int = 200
) -> Any:
    response = await client.post(url, json=body, headers={**who, **key()})
    assert response.status_code == status, response.text
    return response.json()


def problem(
    response: httpx.Response, status: int, code: str, field: str | None = None, says: str = ""
) -> dict[str, Any]:
    """The refusal's status, type, code and field (the problem's own, or one of a 422's ``errors``), and a
    message that says something (``says``: a part of it)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == f"https://thidua.vn/problems/{body['code']}" and body["detail"].strip(), body
    found = [
        (body["code"], body.get("field"), body["detail"]),
        *((e["code"], e.get("field"), e.get("message", "")) for e in body.get("errors", [])),
    ]
    assert any(c == code and (field is None or f == field) and says in m for c, f, m in found), body
    return body


async def open_round(
    client: httpx.AsyncClient, world: World, who: dict[str, str] = NTL_CHAIR, **overrides: Any
) -> dict[str, Any]:
    body = {
        "level_unit_id": world.ids["hn.ntl"],
        "year": 2025,
        "period": "half_year",
        "title": "Tự kiểm tra 6 tháng đầu năm 2025",
        "due_on": "2025-06-30",
    } | overrides
    return await post(client, "/rounds", body, who, 201)


@pytest.fixture
async def facts(world: World) -> World:
    """Fecon: 4 registrations (one in its sub-unit), one applied; an unverified report of 2 activities."""
    for n in range(3):
        await world.initiative("hn.ntl.fecon", n, applied=date(2025, 4, 1) if n == 0 else None)
    await world.initiative("hn.ntl.fecon.thi-cong", 0)
    await world.report("hn.ntl.fecon", 2, ("Biên bản họp",))
    return world


def checklist_of(world: World, path: str) -> str:
    return f"{world.ids[path]}-2025-half_year"


async def test_a_round_issues_checklists_prefilled_from_the_facts(client: httpx.AsyncClient, facts: World) -> None:
    opened = await open_round(client, facts)
    assert opened["unit_count"] == 2 and opened["already_covered"] == 0 and opened["level_path"] == "hn.ntl"
    view = (await client.get(f"/checklists/{checklist_of(facts, 'hn.ntl.fecon')}", headers=FECON)).json()
    items = {i["key"]: i for i in view["items"]}
    registered = items[REGISTERED]["issued"]
    assert (registered["target"], registered["measured"]) == (10, 4)  # the sub-unit's registration counts
    assert items[ACTIVITIES]["issued"]["measured"] == 2
    initiatives = [i for i in view["items"] if i["kind"] == "initiative"]
    assert len(initiatives) == 4
    assert sum(1 for i in initiatives if i["issued"]["applied_on"]) == 1
    assert view["status"] == "issued" and view["due_on"] == "2025-06-30" and view["drafts_visible"]


async def test_round_refusals(client: httpx.AsyncClient, facts: World) -> None:
    body = {
        "level_unit_id": facts.ids["hn.ntl"],
        "year": 2025,
        "period": "half_year",
        "title": "T",
        "due_on": "2025-06-30",
    }
    past = await client.post("/rounds", json=body | {"due_on": "2025-06-01"}, headers={**NTL_CHAIR, **key()})
    problem(past, 422, "round.due_in_past", "due_on")
    blank = await client.post("/rounds", json=body | {"title": " \u200b "}, headers={**NTL_CHAIR, **key()})
    problem(blank, 422, "text_blank", "title")
    stranger = await client.post("/rounds", json=body, headers={**FECON, **key()})
    problem(stranger, 403, "forbidden", "level_unit_id")
    unknown = await client.post(
        "/rounds", json=body | {"level_unit_id": "00000000-0000-4000-8000-000000000000"}, headers={**NTL_CHAIR, **key()}
    )
    problem(unknown, 404, "unit.not_found", "level_unit_id")
    await open_round(client, facts)
    again = await client.post("/rounds", json=body, headers={**NTL_CHAIR, **key()})
    problem(again, 409, "round.no_units")
    city = await post(client, "/rounds", body | {"level_unit_id": facts.ids["hn"]}, bearer(None, "hn", "chair"), 201)
    assert city["unit_count"] == 1 and city["already_covered"] == 2  # only Handico was still without one


async def test_answers_are_flagged_by_the_facts_before_submission(client: httpx.AsyncClient, facts: World) -> None:
    await open_round(client, facts)
    cid = checklist_of(facts, "hn.ntl.fecon")
    flagged = await post(
        client, f"/checklists/{cid}/answers", {"item": REGISTERED, "answer": "done", "evidence": PROOF}, FECON
    )
    assert flagged["contradiction"]["code"] == "done_below_target"
    assert (flagged["contradiction"]["measured"], flagged["contradiction"]["target"]) == (4, 10)
    mine = (await client.get(f"/checklists/{cid}", headers=FECON)).json()
    shown = next(i for i in mine["items"] if i["key"] == REGISTERED)
    assert shown["answer"]["answer"] == "done" and shown["contradiction"]["code"] == "done_below_target"
    above = (await client.get(f"/checklists/{cid}", headers=NTL_CHAIR)).json()
    assert not above["drafts_visible"] and all(
        i["answer"] is None and i["contradiction"] is None for i in above["items"]
    )
    elsewhere = await client.get(f"/checklists/{cid}", headers=bearer(None, "hn.dd", "chair"))
    assert elsewhere.status_code == 404


async def test_answer_refusals(client: httpx.AsyncClient, facts: World) -> None:
    await open_round(client, facts)
    cid = checklist_of(facts, "hn.ntl.fecon")
    url = f"/checklists/{cid}/answers"
    good = {"item": REGISTERED, "answer": "partly", "evidence": PROOF}
    problem(await client.post(url, json=good, headers={**CEO, **key()}), 403, "forbidden")
    problem(await client.post(url, json=good, headers={**NTL_CHAIR, **key()}), 403, "forbidden")  # not its own
    unknown = good | {"item": "initiative:nope"}
    problem(await client.post(url, json=unknown, headers={**FECON, **key()}), 422, "checklist.unknown_item", "item")
    bare = good | {"evidence": {}}
    problem(
        await client.post(url, json=bare, headers={**FECON, **key()}),
        422,
        "checklist.evidence_required",
        "answer.evidence",
    )
    ghost = good | {"evidence": {"files": [{"sha256": "a" * 64}]}}
    problem(
        await client.post(url, json=ghost, headers={**FECON, **key()}),
        422,
        "evidence.unknown_file",
        "evidence.files.0.sha256",
    )
    wrong = good | {"answer": "maybe"}
    assert (await client.post(url, json=wrong, headers={**FECON, **key()})).status_code == 422
    missing = await client.post("/checklists/nope-2025-half_year/answers", json=good, headers={**FECON, **key()})
    assert missing.status_code == 404


async def test_an_uploaded_file_backs_an_answer_with_its_hash(client: httpx.AsyncClient, facts: World) -> None:
    await open_round(client, facts)
    uploaded = await client.post(
        "/evidence",
        headers=FECON,
        data={"unit_id": facts.ids["hn.ntl.fecon"]},
        files={"file": ("bien-ban.pdf", pdf(), "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    sha = uploaded.json()["sha256"]
    body = {"item": ACTIVITIES, "answer": "done", "evidence": {"files": [{"sha256": sha}]}}
    answered = await post(client, f"/checklists/{checklist_of(facts, 'hn.ntl.fecon')}/answers", body, FECON)
    assert answered["answer"]["evidence"]["files"] == [
        {"sha256": sha, "name": "bien-ban.pdf", "media_type": "application/pdf", "size_bytes": len(pdf())}
    ]
    assert answered["contradiction"] is None
    lying = await client.post(
        "/evidence",
        headers=FECON,
        data={"unit_id": facts.ids["hn.ntl.fecon"]},
        files={"file": ("anh.png", pdf(), "image/png")},
    )
    problem(lying, 422, "evidence.type_mismatch", "file")


def full_answers(world: World, view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "item": i["key"],
            "answer": "done" if i["key"] == REGISTERED else "not_done",
            **({"evidence": PROOF} if i["key"] == REGISTERED else {}),
        }
        for i in view["items"]
    ]


async def test_submission_then_amendment(client: httpx.AsyncClient, facts: World, clock: Clock) -> None:
    await open_round(client, facts)
    cid = checklist_of(facts, "hn.ntl.fecon")
    view = (await client.get(f"/checklists/{cid}", headers=FECON)).json()
    partial = await client.post(
        f"/checklists/{cid}/submit", json={"answers": full_answers(facts, view)[:2]}, headers={**FECON, **key()}
    )
    assert problem(partial, 422, "checklist.unanswered", "answers")["params"]["missing"]
    clock.set(date(2025, 7, 3))
    body = {"answers": full_answers(facts, view), "findings": ["Chưa đối thoại định kỳ"]}
    submitted = await post(client, f"/checklists/{cid}/submit", body, FECON)
    assert submitted["days_late"] == 3 and [c["code"] for c in submitted["contradictions"]] == ["done_below_target"]
    above = (await client.get(f"/checklists/{cid}", headers=NTL_CHAIR)).json()
    assert above["status"] == "submitted" and above["contradictions"][0]["item"] == REGISTERED
    assert next(i for i in above["items"] if i["key"] == REGISTERED)["answer"]["answer"] == "done"
    twice = await client.post(f"/checklists/{cid}/submit", json=body, headers={**FECON, **key()})
    assert problem(twice, 409, "checklist.submitted")["allowed_next"] == ["amend"]
    late_answer = await client.post(
        f"/checklists/{cid}/answers", json={"item": REGISTERED, "answer": "not_done"}, headers={**FECON, **key()}
    )
    assert problem(late_answer, 409, "checklist.submitted")["allowed_next"] == ["amend"]
    no_reason = await client.post(
        f"/checklists/{cid}/amend", json={"reason": "  ", "answers": []}, headers={**FECON, **key()}
    )
    problem(no_reason, 422, "text_blank", "reason")
    fixed = {
        "reason": "Số liệu sáng kiến chưa đủ",
        "answers": [{"item": REGISTERED, "answer": "partly", "evidence": PROOF}],
    }
    amended = await post(client, f"/checklists/{cid}/amend", fixed, FECON)
    assert amended["amendment"] == 1 and amended["contradictions"] == []


async def test_a_retried_command_does_not_act_twice(client: httpx.AsyncClient, facts: World) -> None:
    await open_round(client, facts)
    url = f"/checklists/{checklist_of(facts, 'hn.ntl.fecon')}/answers"
    body = {"item": REGISTERED, "answer": "done", "evidence": PROOF}
    first = await client.post(url, json=body, headers={**FECON, "Idempotency-Key": "same"})
    again = await client.post(url, json=body, headers={**FECON, "Idempotency-Key": "same"})
    assert again.status_code == 200 and again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = await client.post(url, json=body | {"answer": "partly"}, headers={**FECON, "Idempotency-Key": "same"})
    assert other.status_code == 409


async def test_overdue_is_recorded_once_and_a_round_closes_after_its_due_date(
    client: httpx.AsyncClient, facts: World, clock: Clock
) -> None:
    opened = await open_round(client, facts)
    rid = opened["round_id"]
    early = await client.post(f"/rounds/{rid}/overdue-check", headers={**NTL_CHAIR, **key()})
    assert early.json()["overdue_recorded"] == 0
    clock.set(date(2025, 7, 4))
    checked = await post(client, f"/rounds/{rid}/overdue-check", {}, NTL_CHAIR)
    assert checked["overdue_recorded"] == 2
    assert (await post(client, f"/rounds/{rid}/overdue-check", {}, NTL_CHAIR))["overdue_recorded"] == 0
    assert await overdue.tick(facts.deps) == 0  # the scheduler finds nothing left to record
    problem(await client.post(f"/rounds/{rid}/overdue-check", headers={**FECON, **key()}), 403, "forbidden")
    view = (await client.get(f"/checklists/{checklist_of(facts, 'hn.ntl.ceo')}", headers=CEO)).json()
    assert view["overdue"] and view["days_late"] == 4
    round_view = (await client.get(f"/rounds/{rid}", headers=NTL_CHAIR)).json()
    assert round_view["checklists"]["overdue"] == 2
    closed = await post(client, f"/rounds/{rid}/close", {"summary": "Hai đơn vị chưa nộp"}, NTL_CHAIR)
    assert (closed["submitted"], closed["overdue"]) == (0, 2)
    after = await client.post(
        f"/checklists/{checklist_of(facts, 'hn.ntl.ceo')}/answers",
        json={"item": REGISTERED, "answer": "not_done"},
        headers={**CEO, **key()},
    )
    problem(after, 409, "round.closed")


async def test_the_scheduler_records_overdue_units_with_an_injected_clock(
    client: httpx.AsyncClient, facts: World, clock: Clock
) -> None:
    await open_round(client, facts)
    assert await overdue.tick(facts.deps) == 0
    clock.set(date(2025, 7, 1))
    assert await overdue.tick(facts.deps) == 2
    assert await overdue.tick(facts.deps) == 0
    city = await open_round(
        client, facts, who=bearer(None, "hn", "chair"), level_unit_id=facts.ids["hn"], due_on="2025-07-20"
    )
    early_close = await client.post(
        f"/rounds/{city['round_id']}/close", json={"summary": "x"}, headers={**bearer(None, "hn", "chair"), **key()}
    )
    problem(early_close, 409, "round.not_due")


async def test_the_operator_enters_a_round_run_on_paper_and_nobody_else_backdates(
    client: httpx.AsyncClient, facts: World, clock: Clock
) -> None:
    """A round that ran before the service was used is entered with its own days; lateness is still the
    service's: what nobody submitted turns overdue, and an on-time paper submission entered after the
    overdue check clears the sign it had raised."""
    operator = bearer(None, "hn", "admin")
    clock.set(date(2025, 9, 1))
    paper = {"opened_on": "2025-06-02", "due_on": "2025-06-30"}
    backdated = await client.post(
        "/rounds",
        json={"level_unit_id": facts.ids["hn.ntl"], "year": 2025, "period": "half_year", "title": "T", **paper},
        headers={**NTL_CHAIR, **key()},
    )
    problem(backdated, 403, "date.backdated", "opened_on", says="only the platform operator")
    future = await client.post(
        "/rounds",
        json={
            "level_unit_id": facts.ids["hn.ntl"],
            "year": 2025,
            "period": "half_year",
            "title": "T",
            "opened_on": "2025-09-02",
            "due_on": "2025-09-30",
        },
        headers={**operator, **key()},
    )
    problem(future, 422, "date.in_future", "opened_on", says="after today (2025-09-01)")
    opened = await open_round(client, facts, who=operator, **paper)
    assert opened["opened_on"] == "2025-06-02" and opened["due_on"] == "2025-06-30"

    fecon = checklist_of(facts, "hn.ntl.fecon")
    answers = [{"item": REGISTERED, "answer": "not_done"}, {"item": ACTIVITIES, "answer": "not_done"}]
    answers += [
        {"item": i["key"], "answer": "not_done"}
        for i in (await client.get(f"/checklists/{fecon}", headers=FECON)).json()["items"]
        if i["kind"] == "initiative"
    ]
    on_paper = {"answers": answers, "submitted_on": "2025-06-20"}
    by_unit = await client.post(f"/checklists/{fecon}/submit", json=on_paper, headers={**FECON, **key()})
    problem(by_unit, 403, "date.backdated", "submitted_on")
    before = await client.post(
        f"/checklists/{fecon}/submit", json=on_paper | {"submitted_on": "2025-06-01"}, headers={**operator, **key()}
    )
    problem(before, 422, "checklist.submitted_before_round", "submitted_on", says="opened on 2025-06-02")

    checked = await post(client, f"/rounds/{opened['round_id']}/overdue-check", {}, operator)
    assert checked["overdue_recorded"] == 2  # nothing was entered yet: both are overdue now
    await facts.sync_own()
    submitted = await post(client, f"/checklists/{fecon}/submit", on_paper, operator)
    assert submitted["days_late"] == 0 and submitted["submitted_at"].startswith("2025-06-20")
    await facts.sync_own()
    async with facts.app.state.db.reader.connect() as conn:
        rows = await views.radar_rows(conn, copy_units, "hn.ntl", date(2025, 9, 1), HD_1294_2019)
    late = {r.path for r in rows if "self_inspection_late" in dict(r.risk.counts)}
    assert late == {"hn.ntl.ceo"}  # Fecon's paper shows it on time; CEO never submitted
