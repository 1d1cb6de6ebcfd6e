"""An escalation waiting at a level when the tree changes under it (issue 8, defect 3): it follows the
unit — re-addressed to the level of the same rank above the unit now, with the reason — so that it is
in the inbox of a level that may decide it, and the level that lost it may no longer decide it."""

from pathlib import Path

from fastapi import FastAPI

from contracts.directory import UnitAbsorbed, UnitMerged, UnitMovedIn, UnitMovedOut, UnitRegistered
from services.registry.adapters.level import RegistryLevelProjection
from services.registry.adapters.level_reads import read_inbox
from services.registry.application.escalation import StrandedEscalations
from services.registry.domain.initiative import Initiative
from shared.db import open_database
from shared.projection import Message
from shared.upward import settle
from tests import levels
from tests.copies import feed
from tests.registry.api_helpers import CITY, DECISION, Api, unit_id

FECON, BCH, BTV = "hn.ntl.fecon", "executive_committee", "standing_committee"
ESCALATE = {"summary": "Đề nghị công nhận cấp quận"}


def city_units() -> list[Message]:
    found = []
    for path, kind, name in CITY:
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=unit_id(path), code=path.rsplit(".", 1)[-1], name=name, kind=kind,  # type: ignore[arg-type]
            parent_id=unit_id(parent) if parent else None, path=path,
        )  # fmt: skip
        found.append(levels.message("directory", registered, path))
    return found


async def waiting_at(app: FastAPI, initiative_id: str) -> str | None:
    initiative: Initiative = await app.state.deps.initiatives.get(initiative_id)
    return initiative.pending_at


async def test_a_request_follows_its_unit_when_the_unit_moves(app: FastAPI, api: Api, tmp_path: Path) -> None:
    initiative_id = await api.applied()
    await api.ok(f"/initiatives/{initiative_id}/escalation", ESCALATE, FECON, BCH)
    assert await waiting_at(app, initiative_id) == unit_id("hn.ntl")
    stranded = StrandedEscalations(app.state.deps)
    assert await settle(stranded, app.state.directory) == 0  # nothing moved: nothing to do

    # The city moves Fecon to Đống Đa: the directory's two events, as the registry's copy receives them.
    move = {"unit_id": unit_id(FECON), "from_path": FECON, "to_path": "hn.dd.fecon"}
    move |= {"old_parent_id": unit_id("hn.ntl"), "new_parent_id": unit_id("hn.dd")}
    await feed(app.state.directory, [(UnitMovedOut(**move), FECON), (UnitMovedIn(**move), "hn.dd.fecon")])
    assert await settle(stranded, app.state.directory) == 1
    assert await waiting_at(app, initiative_id) == unit_id("hn.dd")
    assert await settle(stranded, app.state.directory) == 0  # settled once

    # The city's level: the request left Nam Từ Liêm's inbox for Đống Đa's.
    stored = await levels.stored(app.state.store, "registry")
    moves = [
        levels.message("directory", UnitMovedOut(**move), FECON),
        levels.message("directory", UnitMovedIn(**move), "hn.dd.fecon"),
    ]
    city = open_database(f"sqlite+aiosqlite:///{tmp_path}/level-hn.db")
    await levels.apply_level(city, RegistryLevelProjection(), "hn", [*city_units(), *stored[:-1], *moves, stored[-1]])
    async with city.reader.connect() as conn:
        assert await read_inbox(conn, "hn.ntl") == []
        (inbox,) = await read_inbox(conn, "hn.dd")
        assert inbox["initiative_id"] == initiative_id and inbox["decisions"][-1]["decision"] == "re-addressed"
    await city.dispose()

    lost = await api.post(f"/initiatives/{initiative_id}/escalation/forward", {"note": "x"}, "hn.ntl", BTV)
    assert lost.status_code == 403 and "only officials of hn.dd" in lost.json()["detail"]
    again = await api.post(f"/initiatives/{initiative_id}/escalation", ESCALATE, "hn.dd.fecon", BCH)
    assert again.status_code == 409  # still one request waiting: at Đống Đa now
    decided = await api.ok(
        f"/initiatives/{initiative_id}/recognise", {**DECISION, "decision_number": "5/QĐ"}, "hn.dd", BTV
    )
    assert decided["scope"] == "upper_level"
    history = (await api.get(f"/initiatives/{initiative_id}", "hn.dd", BTV)).json()["history"]
    readdressed = [h for h in history if h["event"] == "EscalationReaddressed"]
    assert len(readdressed) == 1 and readdressed[0]["by"] == "platform"
    listed = (await api.get("/initiatives", "hn.dd", BTV, under="hn.dd")).json()["items"]
    assert [i["pending_at"] for i in listed if i["initiative_id"] == initiative_id] == [None]


async def test_a_request_waiting_at_a_district_that_merges_goes_to_the_absorbing_district(
    app: FastAPI, api: Api
) -> None:
    initiative_id = await api.applied("hn.ntl.ceo")
    await api.ok(f"/initiatives/{initiative_id}/escalation", ESCALATE, "hn.ntl.ceo", BCH)
    merged = UnitMerged(unit_id=unit_id("hn.ntl"), into_unit_id=unit_id("hn.dd"), from_path="hn.ntl", into_path="hn.dd")
    absorbed = UnitAbsorbed(unit_id=unit_id("hn.dd"), absorbed_unit_id=unit_id("hn.ntl"), absorbed_path="hn.ntl")
    stranded = StrandedEscalations(app.state.deps)
    await feed(app.state.directory, [(merged, "hn.ntl")])
    # Between the merge and the absorption the unit has no active district above it: nothing is judged
    # yet, so the request is not sent back to its sender for want of a level.
    assert await settle(stranded, app.state.directory) == 0
    assert await waiting_at(app, initiative_id) == unit_id("hn.ntl")
    await feed(app.state.directory, [(absorbed, "hn.dd")])
    assert await settle(stranded, app.state.directory) >= 1
    assert await waiting_at(app, initiative_id) == unit_id("hn.dd")
    detail = (await api.get(f"/initiatives/{initiative_id}", "hn.dd", BTV)).json()
    assert detail["unit_path"] == "hn.dd.ceo"
    forwarded = await api.ok(f"/initiatives/{initiative_id}/escalation/forward", {"note": "Trình"}, "hn.dd", BTV)
    assert forwarded["pending_at"] == "hn"


def test_with_no_level_of_that_rank_above_it_a_request_goes_back_to_its_sender() -> None:
    from contracts.registry import EscalationRequested
    from tests.registry.registry_helpers import given, registered

    initiative = given(
        registered(),
        EscalationRequested(
            initiative_id="i-1", unit_id="u-fecon", from_unit_id="u-fecon", from_path=FECON, to_unit_id="u-ntl",
            to_path="hn.ntl", summary="s", requested_by="m",
        ),
    )  # fmt: skip
    (event,) = initiative.readdress(None, "hn.ntl was abolished")
    initiative.apply(event)
    assert initiative.pending_at is None and event.to_path is None
