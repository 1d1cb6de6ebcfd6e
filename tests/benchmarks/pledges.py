"""Pledges benchmark (run on purpose): roll-up maintenance at city scale.

    python -m tests.benchmarks.pledges [--units 13000] [--events 1000000] [--queries 200] [--batch 256]

1. a city of ``--units`` units (the city, 30 district unions, grassroots unions under them) and the
   campaign's targets for every unit, then ``--events`` registry events (initiatives registered and
   applied at grassroots unions) generated straight into JetStream; the city level projection replays
   them all (events/s, goal ≥ 10,000/s) — beside a raw pull consumer that only acks the same stream.
   nats-server delivers far slower to a consumer with several filter subjects (the runner's scope
   filters: own path and subtree, per service) than to one with a single filter, so the replay runs
   twice: with one filter subject (``thidua.>``: the same messages at the root scope), to the end, and
   with the runner's own filters for ``--sample-seconds``; each beside its raw baseline;
2. the city progress table (its districts with targets, actuals, achievement, flags) through the level
   projector's HTTP route: p50/p95 over ``--queries`` reads (goal p95 ≤ 100 ms), beside the level's
   /health route as the HTTP floor, and the first page of the laggards of the whole subtree.
"""

import argparse
import asyncio
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from nats.js.api import AckPolicy, ConsumerConfig

from services.pledges.adapters.level import PledgesLevelProjection
from services.pledges.adapters.level_reads import router
from shared.db import open_database
from shared.identity import Caller
from shared.level_host import Host, host_app
from shared.messaging import H_MSG_ID, connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import STREAM, event_subject
from shared.tokens import issue_token
from tests.natsserver import NatsServer

DISTRICTS = 30
INDICATORS = [
    {"code": "registered", "name": "Sáng kiến đăng ký", "unit_of_measure": "sáng kiến", "direction": "at_least",
     "method": "counted", "source": "initiatives_registered", "evidence_required": None},
    {"code": "applied", "name": "Sáng kiến áp dụng", "unit_of_measure": "sáng kiến", "direction": "at_least",
     "method": "counted", "source": "initiatives_applied", "evidence_required": None},
    {"code": "activities", "name": "Hoạt động đổi mới", "unit_of_measure": "hoạt động", "direction": "at_least",
     "method": "reported", "source": None, "evidence_required": "Biên bản"},
]  # fmt: skip


# The rest of what the registry's events carry (their contract, contracts.registry): consumers decode it.
REGISTRY_DATA: dict[str, dict[str, Any]] = {
    "InitiativeRegistered": {
        "campaign_id": None, "registered_by": "bench", "possible_duplicates": [],
        "registration": {
            "title": "Sáng kiến", "objective": "Mục tiêu", "steps": "Các bước", "scope_of_application": "Đơn vị",
            "expected_effectiveness": "Hiệu quả", "pillar": "sang_tao", "field": "Công tác tổ chức",
            "campaign_id": None, "authors": [{"name": "Nguyễn Văn An", "member_id": None, "share": 100}],
            "estimated_benefit_vnd": 1_000_000, "first_applied_on": "2025-01-15",
        },
    },
    "InitiativeApplied": {
        "where": "Toàn đơn vị", "since": "2025-02-01", "evidence": "Biên bản", "actual_benefit_vnd": 1_000_000,
        "reported_by": "bench",
    },
}  # fmt: skip


class _Operator:
    """Who reads the level in this benchmark: the platform operator."""

    async def caller(self, subject: str) -> Caller | None:
        return Caller.system(subject)


def envelope(
    service: str, event_type: str, path: str, data: dict[str, Any], at: str = "2025-03-01T00:00:00Z"
) -> tuple[str, bytes, str]:
    event_id = str(uuid.uuid4())
    body = {
        "event_id": event_id,
        "event_type": event_type,
        "schema_version": 1,
        "stream_id": f"bench-{event_id}",
        "version": 1,
        "occurred_at": at,
        "data": data,
        "metadata": {"actor": "bench", "unit_path": path, "correlation_id": event_id},
    }
    return event_subject(service, event_type, path), orjson.dumps(body), event_id


async def publish(js: Any, messages: list[tuple[str, bytes, str]], window: int = 4000) -> None:
    for start in range(0, len(messages), window):
        acks = [
            await js.publish_async(subject, payload, headers={H_MSG_ID: msg_id})
            for subject, payload, msg_id in messages[start : start + window]
        ]
        await asyncio.gather(*acks)


def city(units: int) -> tuple[list[tuple[str, str, str | None, str]], list[tuple[str, str]]]:
    """(unit_id, path, parent_id, kind) for every unit, and the grassroots unions as (unit_id, path)."""
    hn = str(uuid.uuid4())
    tree: list[tuple[str, str, str | None, str]] = [(hn, "hn", None, "city_federation")]
    districts = [(str(uuid.uuid4()), f"hn.d{d}") for d in range(DISTRICTS)]
    tree += [(uid, path, hn, "upper_level_union") for uid, path in districts]
    grassroots = []
    for g in range(units - 1 - DISTRICTS):
        parent_id, parent_path = districts[g % DISTRICTS]
        uid, path = str(uuid.uuid4()), f"{parent_path}.g{g}"
        tree.append((uid, path, parent_id, "grassroots_union"))
        grassroots.append((uid, path))
    return tree, grassroots


async def setup(
    js: Any,
    units: int,
    events: int,
    indicators: list[dict[str, Any]] | None = None,
    built: tuple[list[tuple[str, str, str | None, str]], list[tuple[str, str]]] | None = None,
) -> tuple[str, int]:
    """The city's tree (``built`` by ``city`` if given), a campaign with its targets for every unit, then
    ``events`` registry events."""
    tree, grassroots = built or city(units)
    indicators = indicators or INDICATORS
    messages = [
        envelope("directory", "UnitRegistered", path,
                 {"unit_id": uid, "code": path.rsplit(".", 1)[-1], "name": f"Công đoàn {path}", "kind": kind,
                  "parent_id": parent, "path": path})
        for uid, path, parent, kind in tree
    ]  # fmt: skip
    cid = str(uuid.uuid4())
    launch = {
        "campaign_id": cid, "launcher_unit_id": tree[0][0], "launcher_path": "hn",
        "title": "Đổi mới, sáng tạo, hiệu quả",
        "plan_number": "18/KH-LĐLĐ", "pillars": ["Đổi mới"], "starts_on": "2025-01-01", "ends_on": "2025-12-31",
        "report_deadlines": ["2025-06-30", "2025-12-31"], "indicators": indicators,
    }  # fmt: skip
    messages.append(envelope("pledges", "CampaignLaunched", "hn", launch))
    per_unit = max(1, events // max(1, len(grassroots)))
    for uid, path, parent, kind in tree[1:]:
        scale = 1 if kind == "grassroots_union" else len(grassroots) // DISTRICTS
        targets = {"registered": per_unit * 0.6 * scale, "applied": per_unit * 0.3 * scale, "activities": scale}
        targets = {i["code"]: targets.get(i["code"], 10 * scale) for i in indicators}
        messages.append(
            envelope(
                "pledges",
                "TargetAssigned",
                path,
                {"campaign_id": cid, "unit_id": uid, "by_unit_id": parent, "targets": targets},
            )
        )
    await publish(js, messages)
    structural = len(messages)
    rng = random.Random(18)
    batch: list[tuple[str, bytes, str]] = []
    for n in range(events):
        uid, path = grassroots[rng.randrange(len(grassroots))]
        kind = "InitiativeRegistered" if rng.random() < 0.7 else "InitiativeApplied"
        data = {"initiative_id": f"i{n}", "unit_id": uid} | REGISTRY_DATA[kind]
        batch.append(envelope("registry", kind, path, data, at=f"2025-{1 + n % 12:02d}-15T08:00:00Z"))
        if len(batch) >= 50_000:
            await publish(js, batch)
            batch = []
    await publish(js, batch)
    return cid, structural


async def raw_ack_rate(js: Any, name: str, filters: list[str] | None, batch: int, seconds: float) -> float:
    """A raw pull consumer that only acks (each batch at once, like the runner), for ``seconds``."""
    config = ConsumerConfig(durable_name=name, filter_subjects=filters, ack_policy=AckPolicy.ALL, max_ack_pending=batch)
    await js.add_consumer(STREAM, config)
    sub = await js.pull_subscribe_bind(durable=name, stream=STREAM)
    start, seen = time.perf_counter(), 0
    last = start
    while time.perf_counter() - start < seconds:
        try:
            msgs = await sub.fetch(batch, timeout=2)
        except Exception:
            break
        await msgs[-1].ack_sync()
        seen, last = seen + len(msgs), time.perf_counter()
        if msgs[-1].metadata.num_pending == 0:  # the end of the stream: no idle wait counted
            break
    await sub.unsubscribe()
    return seen / (last - start)


async def replay(
    js: Any, settings: Settings, work: Path, name: str, filters: list[str] | None, seconds: float, skip: int = 0
) -> tuple[ProjectionRunner, float]:
    """The city projection under the real runner; ``filters`` replaces the runner's own (the same
    messages at the root scope). Runs to the end of the stream, or for ``seconds`` if given, timed after
    the first ``skip`` events (a sample of the registry events, not of the tree that comes first)."""
    db = open_database(f"sqlite+aiosqlite:///{work}/level-{name}.db")
    runner = ProjectionRunner(PledgesLevelProjection(), "hn", db, js, settings, durable=name)
    if filters:
        runner.filters = filters
    await runner.start()
    while runner.applied < skip and await runner.step(wait=2.0):
        pass
    skipped = runner.applied
    start = time.perf_counter()
    last = start  # the commit of the last batch: the idle fetch that finds the stream's end is not counted
    while (not seconds or time.perf_counter() - start < seconds) and await runner.step(wait=2.0):
        last = time.perf_counter()
    return runner, (runner.applied - skipped) / (last - start)


async def timed(client: httpx.AsyncClient, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = await client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return samples


def quantiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=13_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=Settings().projection_batch, help="settings.projection_batch")
    parser.add_argument("--sample-seconds", type=float, default=20.0, help="length of the multi-filter samples")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="thidua-bench-pledges-"))  # ~600 MB at a million events: removed below
    server = NatsServer(work / "js").start()
    settings = Settings(
        service="pledges", nats_url=server.url, projection_batch=args.batch, projection_ack_wait_seconds=120
    )
    try:
        nc, js = await connect(server.url, "bench-pledges")
        await ensure_streams(js, settings)
        started = time.perf_counter()
        cid, structural = await setup(js, args.units, args.events)
        print(
            f"pledges benchmark: {args.units:,} units, {args.events:,} registry events "
            f" (+{structural:,} tree and targets)"
        )
        print(f"  generated into JetStream in {time.perf_counter() - started:.0f} s", flush=True)
        own = ProjectionRunner(PledgesLevelProjection(), "hn", None, js, settings).filters  # type: ignore[arg-type]
        raw_one = await raw_ack_rate(js, "raw_one_filter", ["thidua.>"], args.batch, args.sample_seconds)
        raw_own = await raw_ack_rate(js, "raw_own_filters", own, args.batch, args.sample_seconds)
        print(
            f"  baselines: raw pull + ack, one filter {raw_one:,.0f} ev/s;"
            f" with the runner's {len(own)} filters {raw_own:,.0f} ev/s"
        )
        runner, rate = await replay(js, settings, work, "city_one_filter", ["thidua.>"], 0)
        print(f"  1. city projection replay   {rate:>10,.0f} ev/s  ({runner.applied:,} events, one filter subject)"
              f"  baseline {raw_one:,.0f} ev/s  ratio {rate / raw_one:.2f}  goal ≥ 10,000 ev/s")  # fmt: skip
        sample, sampled = await replay(js, settings, work, "city_own_filters", None, args.sample_seconds, structural)
        print(f"     with the runner's own {len(own)} filter subjects: {sampled:,.0f} ev/s"
              f" over {args.sample_seconds:.0f} s of registry events (after the {structural:,} tree events)"
              f"  baseline {raw_own:,.0f} ev/s  ratio {sampled / raw_own:.2f}")  # fmt: skip
        await sample.db.dispose()
        db = runner.db

        host = Host("pledges_level", {"hn": runner})
        view = host_app(
            settings.model_copy(update={"local": True, "admin_subjects": ["bench"]}), host, _Operator(), router, None
        )  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {issue_token(settings, 'bench')}"}
        transport = httpx.ASGITransport(view)
        async with httpx.AsyncClient(transport=transport, base_url="http://level", headers=headers) as client:
            base = f"/levels/hn/pledges/campaigns/{cid}/progress?now=2025-07-15T00:00:00Z"
            table = (await client.get(base)).json()
            assert table["total"] == DISTRICTS and table["unit"]["indicators"][0]["actual"] > 0
            floor = quantiles(await timed(client, "/levels", args.queries))
            p50, p95 = quantiles(await timed(client, base, args.queries))
            print(f"  2. city progress table      p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
                  f"  baseline /levels p95 {floor[1]:.1f} ms  goal p95 ≤ 100 ms")  # fmt: skip
            s50, s95 = quantiles(await timed(client, base + "&depth=subtree&limit=50", max(20, args.queries // 10)))
            print(
                f"     laggards of the whole subtree ({args.units - 1:,} units), first page:"
                f" p50 {s50:.0f} ms  p95 {s95:.0f} ms"
            )
        await db.dispose()
        await nc.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
