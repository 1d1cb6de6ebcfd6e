"""End to end over a real nats-server: the directory's, the registry's and the pledges service's events
published by real outbox relays; the inspections service with its relay and its consumers (its copy of
the directory and of the facts); the inspections projection under real runners for the city, Nam Từ
Liêm and Đống Đa, read through the level host's routes.

A pledge commitment and an initiative appear pre-filled in Fecon's checklist; Fecon marks the commitment
done while its measured value lags (flagged), misses the deadline (its district sees it overdue, Đống Đa
does not), is proposed by the risk-based sample for that reason, is inspected: a finding with an action,
a fix with an uploaded file, verified. The city's radar shows Fecon with the evidence; a rebuild of every
level equals the live read models.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from contracts.pledges import CampaignLaunched, Commitment, PledgeSigned, TargetAssigned
from contracts.registry import InitiativeApplied, InitiativeRegistered
from services.inspections.adapters.level import InspectionsProjection
from services.inspections.adapters.level_reads import router as level_reads
from services.inspections.adapters.tables import metadata as level_metadata
from services.inspections.application import overdue
from services.inspections.domain.selfinspection import period_window
from services.inspections.entrypoints.main import create_app
from shared.auth import issue_token
from shared.db import Database, open_database
from shared.events import Event, EventMetadata, new_envelope
from shared.eventstore import EventStore, StreamAppend
from shared.eventstore.migrate import migrate
from shared.level_host import Host, host_app
from shared.membership import level_units
from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.inspections.api_helpers import CAMPAIGN, INDICATORS, Clock, registration
from tests.inspections.evidence_files import pdf
from tests.natsserver import NatsServer
from tests.platform.helpers import wait_for

LEVELS = ("hn", "hn.ntl", "hn.dd")
UNITS = [
    ("hn", "city_federation", None),
    ("hn.ntl", "upper_level_union", "hn"),
    ("hn.dd", "upper_level_union", "hn"),
    ("hn.ntl.fecon", "grassroots_union", "hn.ntl"),
    ("hn.ntl.ceo", "grassroots_union", "hn.ntl"),
    ("hn.dd.handico", "grassroots_union", "hn.dd"),
]
PEOPLE = {
    "ntl-chair": ("hn.ntl", "chair"),
    "ntl-ubkt": ("hn.ntl", "inspection_committee"),
    "fecon-bch": ("hn.ntl.fecon", "executive_committee"),
    "dd-chair": ("hn.dd", "chair"),
    "hn-chair": ("hn", "chair"),
}
TODAY = "2025-07-05"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def e2e_settings(tmp_path: Path, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    return Settings(
        service="inspections",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/inspections.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        projection_batch=64,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
async def service(e2e_settings: Settings) -> AsyncIterator[tuple[FastAPI, Clock]]:
    clock = Clock()
    app = create_app(e2e_settings, clock=clock, sweep=False)
    async with app.router.lifespan_context(app):
        yield app, clock


class Publisher:
    """Another service's event store with its outbox relay on the same NATS."""

    def __init__(self, service: str, db: Database, js: Any) -> None:
        self.store = EventStore(db, group_commit=False)
        self.relay = OutboxRelay(self.store, js, service)
        self.count = 0

    async def publish(self, *items: tuple[Event, str, datetime]) -> None:
        for event, path, when in items:
            self.count += 1
            env = new_envelope(f"s-{self.count}", 1, event, EventMetadata(actor="e2e", unit_path=path))
            await self.store.append(StreamAppend(env.stream_id, 0, [env.model_copy(update={"occurred_at": when})]))
        await self.relay.publish_pending()


async def tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    dumped = {}
    async with db.reader.connect() as conn:
        for table in [*level_metadata.sorted_tables, level_units]:
            rows = await conn.execute(select(table))
            dumped[table.name] = sorted(tuple(map(str, row)) for row in rows)
    return dumped


async def test_from_the_facts_to_the_radar_over_nats(
    service: tuple[FastAPI, Clock], e2e_settings: Settings, tmp_path: Path, nats_server: NatsServer
) -> None:
    app, clock = service
    nc, js = await connect(nats_server.url, "inspections-e2e")
    await ensure_streams(js, e2e_settings)
    publishers = {}
    for name in ("directory", "registry", "pledges"):
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/{name}.db")
        await migrate(db)
        publishers[name] = Publisher(name, db, js)
    ids = {path: str(uuid.uuid5(uuid.NAMESPACE_URL, path)) for path, _, _ in UNITS}
    founded = at("2015-01-05")
    await publishers["directory"].publish(
        *[
            (
                UnitRegistered(
                    unit_id=ids[p], code=p.rsplit(".", 1)[-1], name=p, kind=k, parent_id=ids.get(parent or ""), path=p
                ),
                p,
                founded,
            )
            for p, k, parent in UNITS
        ],
        *[(MemberEnrolled(member_id=m, unit_id=ids[p], full_name=m), p, founded) for m, (p, _) in PEOPLE.items()],
        *[(RoleAssigned(member_id=m, unit_id=ids[p], role=r), p, founded) for m, (p, r) in PEOPLE.items()],
    )
    fecon = ids["hn.ntl.fecon"]
    await publishers["pledges"].publish(
        (
            CampaignLaunched(
                campaign_id=CAMPAIGN,
                launcher_unit_id=ids["hn"],
                launcher_path="hn",
                title="Đổi mới",
                plan_number="18/KH-LĐLĐ",
                pillars=(),
                starts_on=date(2025, 1, 1),
                ends_on=date(2025, 12, 31),
                report_deadlines=(date(2025, 6, 30),),
                indicators=INDICATORS,
            ),
            "hn",
            at("2025-01-02"),
        ),
        (
            TargetAssigned(campaign_id=CAMPAIGN, unit_id=fecon, by_unit_id=ids["hn.ntl"], targets={"registered": 10}),
            "hn.ntl.fecon",
            at("2025-01-10"),
        ),
        (
            PledgeSigned(
                pledge_id="p-fecon",
                campaign_id=CAMPAIGN,
                unit_id=fecon,
                signed_on=date(2025, 1, 15),
                commitments=(Commitment(indicator="registered", target=10, deadline=date(2025, 11, 30)),),
                signatories=(),
            ),
            "hn.ntl.fecon",
            at("2025-01-15"),
        ),
    )
    await publishers["registry"].publish(
        *[
            (
                InitiativeRegistered(
                    initiative_id=f"i-{n}",
                    unit_id=fecon,
                    campaign_id=CAMPAIGN,
                    registration=registration(f"Sáng kiến {n}"),
                    registered_by="m",
                ),
                "hn.ntl.fecon",
                at(f"2025-03-1{n}"),
            )
            for n in range(3)
        ],
        (
            InitiativeApplied(
                initiative_id="i-0",
                unit_id=fecon,
                where="Khối thi công",
                since=date(2025, 4, 1),
                evidence="Biên bản",
                actual_benefit_vnd=1,
                reported_by="m",
            ),
            "hn.ntl.fecon",
            at("2025-04-01"),
        ),
    )

    deps = app.state.deps

    async def facts_arrived() -> bool:
        found = (await deps.facts.for_units([fecon], period_window(2025, "half_year"))).get(fecon)
        people = await app.state.directory.member("ntl-ubkt")
        return people is not None and found is not None and len(found.initiatives) == 3 and len(found.commitments) == 1

    await wait_for(facts_arrived, what="the service's copies of the directory and the facts")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://inspections")

    def who(member: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {issue_token(e2e_settings, member)}",
            "Idempotency-Key": f"{member}-{uuid.uuid4()}",
        }

    async def ok(response: Any, status: int = 200) -> dict[str, Any]:
        found = await response
        assert found.status_code == status, found.text
        return found.json()

    # -- a round pre-filled from the facts; the lagging commitment marked done is flagged ----------------
    opened = await ok(
        client.post(
            "/rounds",
            json={
                "level_unit_id": ids["hn.ntl"],
                "year": 2025,
                "period": "half_year",
                "title": "Tự kiểm tra 6 tháng",
                "due_on": "2025-06-30",
            },
            headers=who("ntl-chair"),
        ),
        201,
    )
    cid = f"{fecon}-2025-half_year"
    checklist = await ok(client.get(f"/checklists/{cid}", headers=who("fecon-bch")))
    commitment = next(i for i in checklist["items"] if i["kind"] == "commitment")
    assert (commitment["issued"]["measured"], commitment["issued"]["target"]) == (3, 10)
    assert {i["issued"]["initiative_id"] for i in checklist["items"] if i["kind"] == "initiative"} == {
        "i-0",
        "i-1",
        "i-2",
    }
    flagged = await ok(
        client.post(
            f"/checklists/{cid}/answers",
            json={"item": commitment["key"], "answer": "done", "evidence": {"text": "Báo cáo"}},
            headers=who("fecon-bch"),
        )
    )
    assert flagged["contradiction"]["code"] == "done_below_target"

    # -- the deadline passes: overdue, once, seen by its district and the city, not by Đống Đa ----------
    clock.set(date(2025, 7, 3))
    assert await overdue.tick(deps) == 2  # Fecon and CEO
    runners = {}
    for level in LEVELS:
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level-{level}.db")
        runners[level] = ProjectionRunner(InspectionsProjection(), level, db, js, e2e_settings)
        await runners[level].start()
    await wait_for(lambda: _relayed(app), what="the inspections relay")
    for runner in runners.values():
        await runner.catch_up(idle_timeout=0.2)
    host = Host("inspections_level", levels=runners)
    levels = httpx.AsyncClient(
        transport=httpx.ASGITransport(host_app(e2e_settings, host, app.state.directory, level_reads, asyncio.Event())),
        base_url="http://levels",
    )

    async def read(level: str, view: str, member: str, **params: Any) -> dict[str, Any]:
        return await ok(
            levels.get(f"/levels/{level}/inspections/{view}", params={"today": TODAY, **params}, headers=who(member))
        )

    late = await read("hn.ntl", "overdue", "ntl-chair")
    assert {u["path"]: u["days_late"] for u in late["units"]} == {"hn.ntl.ceo": 5, "hn.ntl.fecon": 5}
    assert {u["path"] for u in (await read("hn", "overdue", "hn-chair"))["units"]} == {"hn.ntl.ceo", "hn.ntl.fecon"}
    assert (await read("hn.dd", "overdue", "dd-chair"))["units"] == []
    hidden = await levels.get("/levels/hn.ntl/inspections/overdue", headers=who("dd-chair"))
    assert hidden.status_code in (403, 404)

    # -- proposed by the risk-based sample for that reason; inspected; finding, action, fix, verified ---
    async def own_events_copied() -> bool:
        proposal = await ok(
            client.get(
                "/proposals", params={"by_unit_id": ids["hn.ntl"], "method": "risk", "size": 1}, headers=who("ntl-ubkt")
            )
        )
        return bool(proposal["units"])

    await wait_for(own_events_copied, what="the service's copy of its own overdue events")
    proposal = await ok(
        client.get(
            "/proposals", params={"by_unit_id": ids["hn.ntl"], "method": "risk", "size": 2}, headers=who("ntl-ubkt")
        )
    )
    proposed = {u["path"]: u["reasons"] for u in proposal["units"]}
    assert proposed["hn.ntl.fecon"] == ["Tự kiểm tra chậm hoặc không nộp: 1"]
    scheduled = await ok(
        client.post(
            "/inspections",
            json={
                "by_unit_id": ids["hn.ntl"],
                "purpose": "Kiểm tra thực hiện giao ước",
                "content": "pledge_fulfilment",
                "period_from": "2025-01-01",
                "period_to": "2025-06-30",
                "team": ["ntl-ubkt"],
                "units": [fecon],
                "selection": {"method": "risk", "size": 2},
            },
            headers=who("ntl-ubkt"),
        ),
        201,
    )
    assert scheduled["units"][0]["reasons"] == ["Tự kiểm tra chậm hoặc không nộp: 1"]
    iid = scheduled["inspection_id"]
    await ok(
        client.post(
            f"/inspections/{iid}/notice",
            json={"number": "05/TB", "issued_on": "2025-07-03", "starts_on": "2025-07-04"},
            headers=who("ntl-ubkt"),
        )
    )
    await ok(
        client.post(
            f"/inspections/{iid}/decision",
            json={"number": "07/QĐ", "decided_on": "2025-07-03"},
            headers=who("ntl-ubkt"),
        )
    )
    finding = await ok(
        client.post(
            f"/inspections/{iid}/units/{fecon}/findings",
            json={
                "severity": "moderate",
                "description": "Không nộp tự kiểm tra đúng hạn",
                "recommendation": "Nộp báo cáo tự kiểm tra",
            },
            headers=who("ntl-ubkt"),
        ),
        201,
    )
    action = await ok(
        client.post(
            f"/inspections/{iid}/units/{fecon}/actions",
            json={
                "finding_id": finding["finding_id"],
                "description": "Nộp báo cáo tự kiểm tra",
                "owner": "Chủ tịch CĐCS",
                "due_on": "2025-07-31",
            },
            headers=who("ntl-ubkt"),
        ),
        201,
    )
    uploaded = await ok(
        client.post(
            "/evidence",
            data={"unit_id": fecon},
            files={"file": ("bao-cao.pdf", pdf(), "application/pdf")},
            headers={"Authorization": who("fecon-bch")["Authorization"]},
        ),
        201,
    )
    base = f"/inspections/{iid}/units/{fecon}/actions/{action['action_id']}"
    fixed = await ok(
        client.post(
            f"{base}/fix",
            json={"description": "Đã nộp báo cáo", "evidence": {"files": [{"sha256": uploaded["sha256"]}]}},
            headers=who("fecon-bch"),
        )
    )
    assert fixed["evidence"]["files"][0]["sha256"] == uploaded["sha256"]
    await ok(client.post(f"{base}/verify", json={"note": "Đạt"}, headers=who("ntl-ubkt")))

    # -- the city's radar shows Fecon with the evidence; actions and inspections at every level above --
    await wait_for(lambda: _relayed(app), what="the inspections relay")
    for runner in runners.values():
        await runner.catch_up(idle_timeout=0.2)
    city = await read("hn", "radar", "hn-chair")
    fecon_row = next(u for u in city["units"] if u["path"] == "hn.ntl.fecon")
    assert fecon_row["signals"] == {"self_inspection_late": 1} and fecon_row["score"] == 4
    assert city["signals"]["self_inspection_late"]["units"] == 2
    drill = await read("hn", f"radar/units/{fecon}", "hn-chair")
    late_sign = next(s for s in drill["signals"] if s["signal"] == "self_inspection_late")
    assert late_sign["evidence"]["round_id"] == opened["round_id"] and late_sign["evidence"]["due_on"] == "2025-06-30"
    inspections = await read("hn.ntl", "inspections", "ntl-chair")
    assert inspections["inspections"][0]["status"] == "decided"
    done = await read("hn", "actions", "hn-chair")
    assert done["actions"] == []  # verified: nothing open
    assert (await read("hn.dd", "radar", "dd-chair"))["units"] == []

    # -- a rebuild of every level equals the live read models ---------------------------------------------
    for level, runner in runners.items():
        live = await tables(runner.db)
        await runner.rebuild()
        assert await tables(runner.db) == live, level
    await client.aclose()
    await levels.aclose()
    for runner in runners.values():
        await runner.db.dispose()
    await nc.close()


async def _relayed(app: FastAPI) -> bool:
    relay = getattr(app.state, "relay", None)
    return relay is not None and await relay.position() >= await app.state.store.last_position()
