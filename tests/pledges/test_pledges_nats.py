"""End to end over a real nats-server: the directory's and the registry's events published by real
outbox relays, the pledges service with its relay and its unit-copy consumer, and the pledges level
projection under real ProjectionRunners for the city, Nam Từ Liêm and Đống Đa.

Registry events move Fecon's achievement and the roll-up at district and city level, never Đống Đa's;
then Fecon moves to Đống Đa and its results move with it; a rebuild of every level gives the same tables.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts.directory import UnitAbsorbed, UnitMerged, UnitMovedIn, UnitMovedOut
from services.pledges.adapters.level import PledgesLevelProjection
from services.pledges.adapters.level_reads import router
from services.pledges.entrypoints.main import create_app
from shared.db import Database, open_database
from shared.events import EventEnvelope, EventMetadata, new_envelope
from shared.eventstore import EventStore, StreamAppend
from shared.eventstore.migrate import migrate
from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.copies import copied_person
from tests.levels import level_client
from tests.natsserver import NatsServer
from tests.people import People
from tests.platform.helpers import wait_for
from tests.pledges.pledges_helpers import City, Clock, bearer, registry_envelope
from tests.pledges.test_pledges_api import launch_body

NOW = "2025-07-15T00:00:00Z"  # after the first report deadline (30/06)


@pytest.fixture
def settings(tmp_path: Path, nats_server: NatsServer) -> Settings:
    return Settings(
        service="pledges",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/pledges.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        projection_batch=64,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock=clock)  # relay and unit-copy consumer on the real NATS
    async with app.router.lifespan_context(app):
        yield app


class Publisher:
    """Another service's event store with its outbox relay on the same NATS."""

    def __init__(self, service: str, db: Database, js: Any) -> None:
        self.service, self.db = service, db
        self.store = EventStore(db, group_commit=False, verify_events=False)  # hand-made partial payloads
        self.relay = OutboxRelay(self.store, js, service)

    async def publish(self, *envelopes: EventEnvelope) -> None:
        by_stream: dict[str, list[EventEnvelope]] = {}
        for env in envelopes:
            by_stream.setdefault(env.stream_id, []).append(env)
        for stream, envs in by_stream.items():
            await self.store.append(StreamAppend(stream, envs[0].version - 1, envs))
        await self.relay.publish_pending()


class Levels:
    def __init__(self, js: Any, settings: Settings, folder: Path, app: FastAPI) -> None:
        self.js, self.settings, self.folder, self.app = js, settings, folder, app
        self.runners: dict[str, ProjectionRunner] = {}

    async def start(self, *scopes: str) -> None:
        for scope in scopes:
            db = open_database(f"sqlite+aiosqlite:///{self.folder}/level-{scope}.db")
            runner = ProjectionRunner(PledgesLevelProjection(), scope, db, self.js, self.settings)
            await runner.start()
            self.runners[scope] = runner

    async def catch_up(self) -> None:
        for runner in self.runners.values():
            await runner.catch_up(idle_timeout=0.2)

    async def progress(self, level: str, campaign_id: str, **params: str) -> dict[str, Any]:
        copy, levels = self.app.state.directory, {level: self.runners[level].db}
        people = People(self.settings, lambda path, roles, who: copied_person(copy, path, roles, who))
        async with level_client(self.settings, copy, people, levels, router) as client:
            url = f"/levels/{level}/pledges/campaigns/{campaign_id}/progress"
            response = await client.get(url, params={"now": NOW, **params}, headers=bearer(self.settings, level))
            assert response.status_code == 200, response.text
            return response.json()

    async def close(self) -> None:
        for runner in self.runners.values():
            await runner.db.dispose()


def cell(row: dict[str, Any], indicator: str) -> tuple[Any, Any, Any]:
    found = next(c for c in row["indicators"] if c["indicator"] == indicator)
    return found["actual"], found["target"], found["achievement"]


def rows_by_path(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["path"]: row for row in table["rows"]}


async def test_registry_events_roll_up_and_follow_a_move(
    app: FastAPI, settings: Settings, tmp_path: Path, nats_server: NatsServer
) -> None:
    nc, js = await connect(nats_server.url, "pledges-e2e")
    await ensure_streams(js, settings)
    stores = []
    for name in ("directory", "registry"):
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/{name}.db")
        await migrate(db)
        stores.append(Publisher(name, db, js))
    directory, registry = stores
    levels = Levels(js, settings, tmp_path, app)
    try:
        city = City().build()
        await directory.publish(*city.envelopes)
        units = app.state.directory

        async def copied() -> bool:
            return (
                await units.by_path("hn.dd.handico") is not None
                and await units.member(city.officials["hn.ntl"]) is not None
            )

        await wait_for(copied, what="the unit copy from the directory's events")

        copy = app.state.directory
        people = People(settings, lambda path, roles, who: copied_person(copy, path, roles, who))
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://pledges", auth=people)
        launched = await client.post("/campaigns", json=launch_body(city), headers=bearer(settings, "hn"))
        assert launched.status_code == 201, launched.text
        cid = launched.json()["campaign_id"]
        split = {"unit_id": city.ids["hn.ntl"], "targets": {
            city.ids["hn.ntl.fecon"]: {"registered": 1000, "applied": 60, "activities": 1},
            city.ids["hn.ntl.ceo"]: {"registered": 789, "applied": 40, "activities": 1}}}  # fmt: skip
        assert (
            await client.post(f"/campaigns/{cid}/targets", json=split, headers=bearer(settings, "hn.ntl"))
        ).status_code == 200
        fecon = {"campaign_id": cid, "unit_id": city.ids["hn.ntl.fecon"],
                 "signatories": [city.officials["hn.ntl.fecon"]],
                 "commitments": [{"indicator": "registered", "target": 1000, "deadline": "2025-11-30"}]}  # fmt: skip
        assert (await client.post("/pledges", json=fecon, headers=bearer(settings, "hn.ntl.fecon"))).status_code == 201
        report = {"unit_id": city.ids["hn.ntl.ceo"], "indicator": "activities", "value": 1, "evidence": ["Biên bản 1"]}
        assert (
            await client.post(f"/campaigns/{cid}/reports", json=report, headers=bearer(settings, "hn.ntl.ceo"))
        ).status_code == 201
        await client.aclose()

        # 1,178 initiatives registered at Fecon (1,178 of 1,000 = 117.8%), 30 applied in the campaign; one at Handico.
        def initiative(kind: str, path: str, n: int, **extra: Any) -> EventEnvelope:
            data = {"initiative_id": f"{path}-{n}", "unit_id": city.ids[path], **extra}
            return registry_envelope(kind, path, data, version=1 if kind == "InitiativeRegistered" else 2)

        events = [initiative("InitiativeRegistered", "hn.ntl.fecon", n, campaign_id=None) for n in range(1178)]
        events += [initiative("InitiativeApplied", "hn.ntl.fecon", n) for n in range(30)]
        # An application counts on its own day (since), not the day it was entered: two entered after the
        # campaign for November and December count, one entered during it for a day before it began does not.
        own_days = ((30, date(2025, 11, 3), datetime(2026, 1, 20, tzinfo=UTC)),
                    (31, date(2025, 12, 1), datetime(2026, 2, 2, tzinfo=UTC)),
                    (32, date(2024, 12, 1), datetime(2025, 2, 1, tzinfo=UTC)))  # fmt: skip
        for n, since, entered in own_days:
            applied = {"initiative_id": f"hn.ntl.fecon-{n}", "unit_id": city.ids["hn.ntl.fecon"], "since": since}
            events.append(registry_envelope("InitiativeApplied", "hn.ntl.fecon", applied, entered, version=2))
        events.append(initiative("InitiativeRegistered", "hn.dd.handico", 0, campaign_id=cid))
        # One initiative recognised at its grassroots union, then (escalated) by the city: it counts once.
        recognition = registry_envelope(
            "InitiativeRecognised",
            "hn.ntl.fecon",
            {"initiative_id": "hn.ntl.fecon-7", "unit_id": city.ids["hn.ntl.fecon"], "scope": "grassroots"},
            version=3,
        )
        again = registry_envelope(
            "InitiativeRecognised",
            "hn.ntl.fecon",
            {"initiative_id": "hn.ntl.fecon-7", "unit_id": city.ids["hn.ntl.fecon"], "scope": "city"},
            version=4,
        )
        events += [recognition, again]
        await registry.publish(*events)
        await wait_for(lambda: _published(app), what="the pledges relay")
        await levels.start("hn", "hn.ntl", "hn.dd")
        await levels.catch_up()

        ntl = await levels.progress("hn.ntl", cid)
        fecon_row = rows_by_path(ntl)["hn.ntl.fecon"]
        assert cell(fecon_row, "registered") == (1178, 1000, 117.8)
        assert cell(fecon_row, "applied") == (32, 60, 53.33)
        assert cell(fecon_row, "recognised") == (1, None, None)
        assert fecon_row["pledged"] and fecon_row["flagged"]  # owes activities, did not report by 30/06
        ceo_row = rows_by_path(ntl)["hn.ntl.ceo"]
        assert not ceo_row["flagged"] and cell(ceo_row, "activities") == (1, 1, 100.0)
        # Both reach 0% on an indicator (ceo nothing applied, fecon no activity): the flagged one first.
        assert [r["path"] for r in ntl["rows"]] == ["hn.ntl.fecon", "hn.ntl.ceo"]
        assert cell(ntl["unit"], "registered") == (1178, 1789, 65.85)

        city_table = await levels.progress("hn", cid)
        assert cell(rows_by_path(city_table)["hn.ntl"], "registered") == (1178, 1789, 65.85)
        assert cell(rows_by_path(city_table)["hn.dd"], "registered") == (1, 500, 0.2)
        assert cell(city_table["unit"], "registered")[0] == 1179
        dd = await levels.progress("hn.dd", cid, depth="subtree")
        assert cell(dd["unit"], "registered")[0] == 1 and [r["path"] for r in dd["rows"]] == ["hn.dd.handico"]

        # Fecon moves to Đống Đa: its results go with it.
        registered = next(
            e for e in city.envelopes if e.event_type == "UnitRegistered" and e.data["path"] == "hn.ntl.fecon"
        )
        stream = registered.stream_id
        move = {"unit_id": city.ids["hn.ntl.fecon"], "from_path": "hn.ntl.fecon", "to_path": "hn.dd.fecon",
                "old_parent_id": city.ids["hn.ntl"], "new_parent_id": city.ids["hn.dd"],
                "previous_paths": ("hn.ntl.fecon",)}  # fmt: skip
        await directory.publish(
            new_envelope(stream, 2, UnitMovedOut(**move), EventMetadata(actor="t", unit_path="hn.ntl.fecon")),
            new_envelope(stream, 3, UnitMovedIn(**move), EventMetadata(actor="t", unit_path="hn.dd.fecon")),
        )
        city.ids["hn.dd.fecon"] = city.ids["hn.ntl.fecon"]
        await registry.publish(initiative("InitiativeRegistered", "hn.dd.fecon", 5000, campaign_id=None))
        await levels.catch_up()

        ntl = await levels.progress("hn.ntl", cid)
        assert [r["path"] for r in ntl["rows"]] == ["hn.ntl.ceo"] and cell(ntl["unit"], "registered")[0] == 0
        dd = await levels.progress("hn.dd", cid, depth="subtree")
        moved = rows_by_path(dd)["hn.dd.fecon"]
        assert cell(moved, "registered") == (1179, 1000, 117.9) and moved["pledged"]
        assert cell(moved, "recognised")[0] == 1
        assert cell(dd["unit"], "registered")[0] == 1180
        city_table = await levels.progress("hn", cid)
        assert cell(rows_by_path(city_table)["hn.ntl"], "registered")[0] == 0
        assert cell(rows_by_path(city_table)["hn.dd"], "registered")[0] == 1180
        assert cell(city_table["unit"], "registered")[0] == 1180

        # Handico merges into Fecon (both in Đống Đa now), then Nam Từ Liêm's CEO merges into Fecon too:
        # their results become Fecon's; Nam Từ Liêm loses CEO's reported activity, Đống Đa gains it.
        def stream_of(path: str) -> str:
            return next(
                e.stream_id for e in city.envelopes if e.event_type == "UnitRegistered" and e.data["path"] == path
            )

        fecon_version = 3
        for gone in ("hn.dd.handico", "hn.ntl.ceo"):
            fecon_version += 1
            merged = UnitMerged(
                unit_id=city.ids[gone], into_unit_id=city.ids["hn.ntl.fecon"], from_path=gone, into_path="hn.dd.fecon"
            )
            absorbed = UnitAbsorbed(
                unit_id=city.ids["hn.ntl.fecon"],
                absorbed_unit_id=city.ids[gone],
                absorbed_path=gone,
                absorbed_paths=(gone,),
            )
            await directory.publish(
                new_envelope(stream_of(gone), 2, merged, EventMetadata(actor="t", unit_path=gone)),
                new_envelope(stream, fecon_version, absorbed, EventMetadata(actor="t", unit_path="hn.dd.fecon")),
            )
        await levels.catch_up()
        dd = await levels.progress("hn.dd", cid, depth="subtree")
        assert [r["path"] for r in dd["rows"]] == ["hn.dd.fecon"]
        assert cell(dd["rows"][0], "registered")[0] == 1180 and cell(dd["rows"][0], "activities")[0] == 1
        assert cell(dd["unit"], "registered")[0] == 1180 and cell(dd["unit"], "activities")[0] == 1
        ntl = await levels.progress("hn.ntl", cid)
        assert ntl["rows"] == [] and cell(ntl["unit"], "activities")[0] == 0
        city_table = await levels.progress("hn", cid)
        assert cell(rows_by_path(city_table)["hn.dd"], "activities")[0] == 1
        assert cell(rows_by_path(city_table)["hn.ntl"], "activities")[0] == 0
        assert cell(city_table["unit"], "registered")[0] == 1180

        for scope in ("hn", "hn.ntl", "hn.dd"):
            before = await levels.progress(scope, cid, depth="subtree")
            await levels.runners[scope].rebuild()
            assert await levels.progress(scope, cid, depth="subtree") == before, scope
    finally:
        await levels.close()
        for publisher in stores:
            await publisher.db.dispose()
        await nc.close()


async def _published(app: FastAPI) -> bool:
    relay = getattr(app.state, "relay", None)
    return relay is not None and relay.published >= await app.state.store.last_position()
