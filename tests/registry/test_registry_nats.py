"""End to end over a real nats-server: the directory and the registry publish through their outbox relays,
the registry keeps its copy of the unit tree from JetStream, and real level ProjectionRunners keep the
views of hn, hn.ntl and hn.dd. A grassroots initiative is recognised, escalated to Nam Từ Liêm, forwarded
to the city and recognised there; the decision shows in the unit's and the authors' views; replication
reaches the subtree and no other; a unit that moves takes its initiatives with it."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from services.directory.entrypoints.main import create_app as directory_app
from services.registry.adapters.level import RegistryLevelProjection
from services.registry.adapters.level_reads import (
    read_book,
    read_by_author,
    read_counts,
    read_inbox,
    read_initiative,
    read_replication_reach,
    read_replications,
)
from services.registry.entrypoints.main import create_app as registry_app
from shared.db import Database, open_database
from shared.messaging import connect
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.copies import copied_person
from tests.directory.directory_helpers import Driver
from tests.natsserver import NatsServer
from tests.people import People
from tests.platform.helpers import wait_for
from tests.registry.api_helpers import APPLICATION, DECISION, SCORE, Api

BCH, BTV = "executive_committee", "standing_committee"


@dataclass
class City:
    driver: Driver
    registry: FastAPI
    api: Api
    js: JetStreamContext
    settings: Settings
    folder: Path

    async def level(self, scope: str, name: str = "") -> tuple[ProjectionRunner, Database]:
        db = open_database(f"sqlite+aiosqlite:///{self.folder}/level-{scope}{name}.db")
        runner = ProjectionRunner(
            RegistryLevelProjection(), scope, db, self.js, self.settings, durable=f"t{name}_{scope.replace('.', '_')}"
        )
        await runner.start()
        return runner, db

    async def known(self, path: str) -> bool:
        return await self.registry.state.directory.by_path(path) is not None


def _settings(service: str, folder: Path, nats: NatsServer) -> Settings:
    return Settings(
        service=service, database_url=f"sqlite+aiosqlite:///{folder}/{service}.db", nats_url=nats.url,
        relay_idle_poll_seconds=0.05, log_json=False, log_level="WARNING",
    )  # fmt: skip


@pytest.fixture
async def city(tmp_path: Path, nats_server: NatsServer) -> AsyncIterator[City]:
    directory = directory_app(_settings("directory", tmp_path, nats_server))
    registry_settings = _settings("registry", tmp_path, nats_server)
    registry = registry_app(registry_settings)
    async with directory.router.lifespan_context(directory), registry.router.lifespan_context(registry):
        driver = Driver(directory.state.deps)
        for path, kind in [
            ("hn", "city_federation"), ("hn.ntl", "upper_level_union"), ("hn.dd", "upper_level_union"),
            ("hn.ntl.fecon", "grassroots_union"), ("hn.ntl.ceo", "grassroots_union"),
            ("hn.dd.handico", "grassroots_union"),
        ]:  # fmt: skip
            await driver.register(path, kind)
        nc, js = await connect(nats_server.url, "registry-e2e")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(registry), base_url="http://registry") as client:
            copy = registry.state.directory  # test people are fed to it directly (tests.people)
            people = People(registry_settings, lambda path, roles, who: copied_person(copy, path, roles, who))
            city = City(driver, registry, Api(client, people), js, registry_settings, tmp_path)
            await wait_for(lambda: city.known("hn.dd.handico"), 20, "the registry's copy of the unit tree")
            try:
                yield city
            finally:
                await nc.close()


async def _view(db: Database, fn: Any, *args: Any, **kw: Any) -> Any:
    async with db.reader.connect() as conn:
        return await fn(conn, *args, **kw)


async def _published(city: City) -> None:
    """Wait until the registry's relay has published everything it stored."""
    store = city.registry.state.store

    async def done() -> bool:
        relay = getattr(city.registry.state, "relay", None)
        return relay is not None and relay.published >= await store.last_position()

    await wait_for(done, 20, "the registry relay")


async def test_escalation_to_the_city_and_replication_over_nats(city: City) -> None:
    api, fecon = city.api, "hn.ntl.fecon"
    ntl, ntl_db = await city.level("hn.ntl")
    hn, hn_db = await city.level("hn")
    dd, dd_db = await city.level("hn.dd")

    async def catch_up() -> None:
        await _published(city)
        for runner in (ntl, hn, dd):
            await runner.catch_up(idle_timeout=0.2)

    initiative_id = await api.register()
    await api.ok(f"/initiatives/{initiative_id}/scores", SCORE, fecon, BCH)
    await api.ok(f"/initiatives/{initiative_id}/recognise", DECISION, fecon, BCH)
    await api.ok(f"/initiatives/{initiative_id}/applications", APPLICATION, fecon, "member")
    await api.ok(f"/initiatives/{initiative_id}/escalation", {"summary": "Đề nghị công nhận cấp quận"}, fecon, BCH)
    await catch_up()

    (waiting,) = await _view(ntl_db, read_inbox, "hn.ntl")
    assert waiting["initiative_id"] == initiative_id and waiting["age_seconds"] >= 0
    assert await _view(hn_db, read_inbox, "hn") == []
    assert await _view(dd_db, read_initiative, initiative_id) is None  # Đống Đa does not see Nam Từ Liêm
    assert (await _view(dd_db, read_book))["total"] == 0

    await api.ok(f"/initiatives/{initiative_id}/escalation/forward", {"note": "Trình Thành phố"}, "hn.ntl", BTV)
    await catch_up()
    assert await _view(ntl_db, read_inbox, "hn.ntl") == []
    assert [i["initiative_id"] for i in await _view(hn_db, read_inbox, "hn")] == [initiative_id]

    await api.ok(f"/initiatives/{initiative_id}/recognise", {**DECISION, "decision_number": "99/QĐ-LĐLĐ"}, "hn", BTV)
    await catch_up()
    assert await _view(hn_db, read_inbox, "hn") == []
    # The decision flows back down: the grassroots unit's view (served by its level) and the authors' view.
    unit_view = await _view(ntl_db, read_book, unit=fecon)
    (entry,) = unit_view["items"]
    assert (entry["scope"], entry["recognised_by_path"], entry["decision_number"]) == ("city", "hn", "99/QĐ-LĐLĐ")
    assert [d["decision"] for d in entry["decisions"]] == ["recognised", "proposed upward", "forwarded", "recognised"]
    (mine,) = await _view(ntl_db, read_by_author, "m-an")
    assert mine["scope"] == "city" and mine["status"] == "applied"
    assert (await _view(hn_db, read_book, scope="city"))["items"][0]["initiative_id"] == initiative_id
    counts = {c["path"]: c for c in await _view(ntl_db, read_counts)}
    assert counts[fecon]["recognised"] == 1 and counts[fecon]["benefit_vnd"] == 80_000_000
    assert counts["hn.ntl.ceo"]["registered"] == 0

    # Replication ordered by Nam Từ Liêm reaches its subtree, and no other.
    await api.ok(f"/initiatives/{initiative_id}/replication", {"note": "Nhân rộng toàn quận"}, "hn.ntl", BTV)
    await api.ok(f"/initiatives/{initiative_id}/replication/reports", {"evidence": "Đã áp dụng"}, "hn.ntl.ceo", "chair")
    await catch_up()
    (order,) = await _view(ntl_db, read_replications, "hn.ntl.ceo")
    assert order["initiative_id"] == initiative_id and order["applied_here"] is True
    assert await _view(dd_db, read_replications, "hn.dd.handico") == []
    assert await _view(ntl_db, read_replication_reach, initiative_id) == ["hn.ntl.ceo"]
    stranger = await api.post(
        f"/initiatives/{initiative_id}/replication/reports", {"evidence": "x"}, "hn.dd.handico", "chair"
    )
    assert stranger.status_code == 409

    # Fecon moves to Đống Đa with its history: Nam Từ Liêm drops its initiative, Đống Đa back-fills it;
    # a request of Fecon's waiting at Nam Từ Liêm follows it to Đống Đa (shared.upward).
    waiting = await api.applied()
    await api.ok(f"/initiatives/{waiting}/escalation", {"summary": "Đề nghị công nhận cấp quận"}, fecon, BCH)
    await city.driver.move(fecon, "hn.dd")
    await wait_for(lambda: city.known("hn.dd.fecon"), 20, "the move in the registry's tree copy")

    async def readdressed() -> bool:
        initiative = await city.registry.state.deps.initiatives.get(waiting)
        return initiative.pending_at == (await city.registry.state.directory.by_path("hn.dd")).unit_id

    await wait_for(readdressed, 20, "the waiting request to follow Fecon to Đống Đa")
    later = await api.register(unit="hn.dd.fecon", title="Sổ tay điện tử an toàn lao động")
    await catch_up()
    assert [i["initiative_id"] for i in await _view(dd_db, read_inbox, "hn.dd")] == [waiting]
    assert await _view(ntl_db, read_inbox, "hn.ntl") == []
    assert await _view(ntl_db, read_initiative, initiative_id) is None
    moved = await _view(dd_db, read_initiative, initiative_id)
    assert moved is not None and moved["unit_path"] == "hn.dd.fecon" and moved["scope"] == "city"
    assert (await _view(dd_db, read_initiative, later))["unit_path"] == "hn.dd.fecon"  # type: ignore[index]
    rebuilt, rebuilt_db = await city.level("hn.dd", "fresh")
    await rebuilt.catch_up(idle_timeout=0.2)
    assert await _view(rebuilt_db, read_book, status="applied") == await _view(dd_db, read_book, status="applied")
    assert await _view(rebuilt_db, read_counts) == await _view(dd_db, read_counts)
    for db in (ntl_db, hn_db, dd_db, rebuilt_db):
        await db.dispose()
