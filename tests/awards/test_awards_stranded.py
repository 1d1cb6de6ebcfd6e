"""A proposal waiting (or handled) at a level above its unit when the tree changes under it (issue 8
item 3's rule, ``shared.upward``): it follows the unit — re-addressed to the level of the same rank above
the unit now, with the reason, by the platform — so it sits in the inbox of a level that may decide it,
and the level that lost it may no longer act on it. With no level of that rank left above the unit, it
goes back to the level that sent it, whose quota place is given back."""

from datetime import timedelta
from pathlib import Path

import httpx
import nats
import pytest
from sqlalchemy import select

from contracts.directory import UnitAbsorbed, UnitMerged, UnitMovedIn, UnitMovedOut, UnitRegistered
from services.awards.adapters.level import AwardsLevel, board_state, level_proposals
from services.awards.application.proposals import StrandedProposals
from services.awards.entrypoints.main import create_app
from shared.db import open_database
from shared.projection import Message
from shared.settings import Settings
from shared.upward import settle
from tests import levels
from tests.awards.awards_api import AN, CITY, Api, Clock, facts, feed, initiative_events, unit_id
from tests.awards.test_awards_api import _passed
from tests.awards.test_awards_nats import _directory, _has, _has_stream, _named, _publish, _until
from tests.natsserver import NatsServer

FECON, BCH, BTV = "hn.ntl.fecon", "executive_committee", "standing_committee"


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


def moved(to_parent: str) -> list[tuple[UnitMovedOut | UnitMovedIn, str]]:
    to_path = f"{to_parent}.fecon"
    move = {"unit_id": unit_id(FECON), "from_path": FECON, "to_path": to_path}
    move |= {"old_parent_id": unit_id("hn.ntl"), "new_parent_id": unit_id(to_parent)}
    return [(UnitMovedOut(**move), FECON), (UnitMovedIn(**move), to_path)]  # type: ignore[arg-type]


async def sent_to_ntl(api: Api, clock: Clock, quota: int | None = None) -> str:
    """A Giấy khen proposal of Fecon, voted there and escalated to Nam Từ Liêm (its inbox)."""
    await facts(api.app, *initiative_events())
    if quota is not None:
        body = {"unit_path": FECON, "year": 2025, "award_code": "gk_ctt", "count": quota}
        await api.ok("/quotas", body, "hn.ntl", BTV)
    (pid,) = await _passed(api, clock, ["i-qr"])
    sent = await api.escalate([pid], FECON, BCH, "9/TTr")
    assert sent["proposals"][0]["inbox"]["path"] == "hn.ntl"
    return pid


async def inbox(api: Api, level: str) -> list[str]:
    response = await api.get(f"/inbox/{level}", level, BTV)
    assert response.status_code == 200, response.text
    return [item["proposal_id"] for item in response.json()["items"]]


async def test_a_proposal_follows_its_unit_when_the_unit_moves(api: Api, clock: Clock, tmp_path: Path) -> None:
    pid = await sent_to_ntl(api, clock)
    stranded = StrandedProposals(api.app.state.deps)
    assert await settle(stranded, api.app.state.directory) == 0  # nothing moved: nothing to do

    # The city moves Fecon to Đống Đa: the directory's two events, as the service's copy receives them.
    events = moved("hn.dd")
    await feed(api.app.state.directory, events)
    assert await settle(stranded, api.app.state.directory) == 1
    assert await settle(stranded, api.app.state.directory) == 0  # settled once
    detail = (await api.get(f"/proposals/{pid}", "hn.dd", BTV)).json()
    assert detail["status"] == "escalated" and detail["inbox"]["path"] == "hn.dd"
    (readdressed,) = detail["readdressed"]
    assert readdressed["from_level"]["path"] == "hn.ntl" and readdressed["to_level"]["path"] == "hn.dd"
    assert readdressed["reason"] == "hn.dd.fecon now sits under hn.dd: hn.ntl is no longer above it"
    assert readdressed["readdressed_by"] == "platform"
    assert await inbox(api, "hn.dd") == [pid] and await inbox(api, "hn.ntl") == []

    # The city's level: the request left Nam Từ Liêm's inbox for Đống Đa's.
    stored = await levels.stored(api.app.state.store, "awards")
    mine = [m for m in stored if m.envelope.stream_id == f"proposal-{pid}"]
    assert mine[-1].envelope.event_type == "ProposalReaddressed" and mine[-1].path == "hn.dd.fecon"
    moves = [levels.message("directory", event, path) for event, path in events]
    before = [m for m in stored if m is not mine[-1]]
    city = open_database(f"sqlite+aiosqlite:///{tmp_path}/level-hn.db")
    await levels.apply_level(city, AwardsLevel(), "hn", [*city_units(), *before, *moves, mine[-1]])
    async with city.reader.connect() as conn:
        (row,) = list(await conn.execute(select(level_proposals).where(level_proposals.c.proposal_id == pid)))
    assert row.inbox == unit_id("hn.dd") and row.status == "escalated" and row.handled_by == unit_id(FECON)
    assert board_state(row, unit_id("hn.dd")) == "escalated"
    await city.dispose()

    lost = await api.post(f"/proposals/{pid}/accept", None, "hn.ntl", BTV)
    assert lost.status_code == 403 and lost.json()["code"] == "award.not_your_level"
    assert "only officials of hn.dd" in lost.json()["detail"]
    taken = await api.ok(f"/proposals/{pid}/accept", None, "hn.dd", BTV)
    assert taken["status"] == "accepted" and taken["level"]["path"] == "hn.dd"
    assert await settle(stranded, api.app.state.directory) == 0  # Đống Đa is above Fecon: nothing to do


async def test_a_proposal_handled_at_a_district_that_merges_goes_to_the_absorbing_district(
    api: Api, clock: Clock
) -> None:
    pid = await sent_to_ntl(api, clock)
    accepted = await api.ok(f"/proposals/{pid}/accept", None, "hn.ntl", BTV)
    assert accepted["status"] == "accepted" and accepted["level"]["path"] == "hn.ntl"
    merged = UnitMerged(unit_id=unit_id("hn.ntl"), into_unit_id=unit_id("hn.dd"), from_path="hn.ntl", into_path="hn.dd")
    absorbed = UnitAbsorbed(unit_id=unit_id("hn.dd"), absorbed_unit_id=unit_id("hn.ntl"), absorbed_path="hn.ntl")
    stranded = StrandedProposals(api.app.state.deps)
    await feed(api.app.state.directory, [(merged, "hn.ntl")])
    # Between the merge and its absorption Fecon has no district above it in the copy: nothing is judged
    # then (else it would go back to Fecon); the absorption settles it.
    assert await settle(stranded, api.app.state.directory) == 0
    await feed(api.app.state.directory, [(absorbed, "hn.dd")])
    assert await settle(stranded, api.app.state.directory) == 1
    detail = (await api.get(f"/proposals/{pid}", "hn.dd", BTV)).json()
    assert detail["unit_path"] == "hn.dd.fecon"
    # Taken on at Nam Từ Liêm, which is gone: it waits in Đống Đa's inbox, sent by Fecon as before.
    assert detail["status"] == "escalated" and detail["inbox"]["path"] == "hn.dd"
    assert detail["level"]["path"] == FECON and detail["readdressed"][0]["sender"]["path"] == FECON
    assert await inbox(api, "hn.dd") == [pid]
    taken = await api.ok(f"/proposals/{pid}/accept", None, "hn.dd", BTV)
    assert taken["level"]["path"] == "hn.dd"
    returned = await api.ok(f"/proposals/{pid}/return", {"reasons": "Bổ sung"}, "hn.dd", BTV)
    assert returned["status"] == "returned" and returned["level"]["path"] == FECON  # back to its sender


async def test_with_no_level_of_that_rank_above_it_a_proposal_goes_back_to_its_sender(api: Api, clock: Clock) -> None:
    pid = await sent_to_ntl(api, clock, quota=1)
    events = moved("hn")  # Fecon now sits directly under the city: no district above it
    await feed(api.app.state.directory, events)
    assert await settle(StrandedProposals(api.app.state.deps), api.app.state.directory) == 1
    detail = (await api.get(f"/proposals/{pid}", "hn", BTV)).json()
    assert detail["status"] == "returned" and detail["inbox"] is None and detail["level"]["path"] == FECON
    (readdressed,) = detail["readdressed"]
    assert readdressed["to_level"] is None and "hn.ntl is no longer above it" in readdressed["reason"]
    assert await inbox(api, "hn.ntl") == []
    # Its quota place is given back: Fecon sends it again, now to the city, within a quota of one.
    again = await api.escalate([pid], FECON, BCH, "10/TTr")  # Fecon's official, enrolled before the move
    assert again["proposals"][0]["status"] == "escalated" and again["proposals"][0]["inbox"]["path"] == "hn"


async def test_over_nats_a_waiting_proposal_follows_a_move_then_a_merge(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wiring: the directory's events arrive on JetStream, the service's copy applies them, and its
    settling task (``upward=``) re-addresses the waiting proposal after each change of the tree."""
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    settings = Settings(
        service="awards",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/awards.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        log_json=False,
        log_level="WARNING",
    )
    clock = Clock()
    app = create_app(settings, clock=clock)
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    try:
        async with app.router.lifespan_context(app):
            await _until(lambda: _has_stream(js, "THIDUA"), "the THIDUA stream")
            await _publish(js, "directory", _directory())
            await _until(lambda: _has(app, AN), "the directory copy")  # its last event
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://awards") as http:
                api = Api(http, settings, app)
                api.person = _named  # type: ignore[method-assign]
                pid = (await api.file("gk_ctt", attested=["good_work"], justification="Đang bổ sung"))["proposal_id"]
                await api.publicise([pid], FECON, BCH)
                clock.advance(10)
                await api.vote([pid], FECON, BCH, clock.today - timedelta(days=1))
                await api.escalate([pid], FECON, BCH, "9/TTr")

                async def waits_at(level: str) -> bool:
                    detail = (await api.get(f"/proposals/{pid}", "hn", BTV)).json()
                    return detail["status"] == "escalated" and detail["inbox"]["path"] == level

                assert await waits_at("hn.ntl")
                await _publish(js, "directory", moved("hn.dd"))
                await _until(lambda: waits_at("hn.dd"), "the proposal to follow Fecon to Đống Đa")
                # Đống Đa merges into Nam Từ Liêm: the proposal waiting at Đống Đa goes to Nam Từ Liêm.
                merged = UnitMerged(
                    unit_id=unit_id("hn.dd"), into_unit_id=unit_id("hn.ntl"), from_path="hn.dd", into_path="hn.ntl"
                )
                absorbed = UnitAbsorbed(
                    unit_id=unit_id("hn.ntl"), absorbed_unit_id=unit_id("hn.dd"), absorbed_path="hn.dd"
                )
                await _publish(js, "directory", [(merged, "hn.dd"), (absorbed, "hn.ntl")])
                await _until(lambda: waits_at("hn.ntl"), "the proposal to follow the merge to Nam Từ Liêm")
                detail = (await api.get(f"/proposals/{pid}", "hn", BTV)).json()
                assert [(r["from_level"]["path"], r["to_level"]["path"]) for r in detail["readdressed"]] == [
                    ("hn.ntl", "hn.dd"),
                    ("hn.dd", "hn.ntl"),
                ]
                assert detail["unit_path"] == FECON
                taken = await api.ok(f"/proposals/{pid}/accept", None, "hn.ntl", BTV)
                assert taken["status"] == "accepted" and taken["level"]["path"] == "hn.ntl"
    finally:
        await client.close()
